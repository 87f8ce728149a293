/** The agent's WebSocket: validated messages in, typed messages out. */
import { parseServerToAgent, PROTOCOL_VERSION, type AgentToServer, type ServerToAgent } from "~src/protocol";

export class AgentSocket {
  private socket: WebSocket | null = null;

  constructor(
    private readonly onMessage: (message: ServerToAgent) => void,
    private readonly onClose: (code: number) => void,
  ) {}

  open(): void {
    const url = new URL("/ws/agent", location.href);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.onopen = () => this.send({ t: "hello", v: PROTOCOL_VERSION });
    socket.onmessage = (event) => {
      const parsed = parseServerToAgent(String(event.data));
      if (!parsed.ok) return console.warn("glimpse: ignored a bad server message", parsed.error.message);
      if (parsed.value.t === "ping") return this.send({ t: "pong" });
      this.onMessage(parsed.value);
    };
    socket.onclose = (event) => {
      if (this.socket === socket) this.onClose(event.code);
    };
  }

  send(message: AgentToServer): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  close(): void {
    const socket = this.socket;
    this.socket = null;
    socket?.close();
  }
}
