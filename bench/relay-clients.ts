/**
 * Relay bench clients, run as child processes (bench/relay.ts): one process holds the visitors
 * (senders), another the agents (receivers), so neither side's work lands in the server's process
 * or slows the other. The same work on every stack: every agent decodes every message it receives
 * (JSON.parse of the payload; socket.io's client decodes its own packet first), and compression
 * is offered (permessage-deflate, as browsers do) or not, the same way for all.
 *
 * Parent → child messages are commands; each gets one reply.
 */
import { io as ioClient, type Socket } from "socket.io-client";
import WebSocket from "ws";
import { now, payload } from "./relay-payload";

export type Stack = "glimpse" | "socketio" | "ws";

export type Command =
  | { cmd: "visitors"; stack: Stack; port: number; sessions: number; compress: boolean }
  | { cmd: "agents"; stack: Stack; port: number; cookie: string; rooms: string[]; perRoom: number; compress: boolean }
  | { cmd: "saturate"; messages: number }
  | { cmd: "paced"; messages: number; intervalMs: number }
  | { cmd: "count" }
  | { cmd: "reset" }
  | { cmd: "close" };

interface Sender {
  send(text: string): void;
  buffered(): number;
  close(): void;
}

const senders: Sender[] = [];
const closers: (() => void)[] = [];
let delivered = 0;
let latencies: number[] = [];

/** What an agent does with every message: decode it whole, and time frames. */
function receive(text: string): void {
  const message = JSON.parse(text) as { t: string; events?: { timestamp: number }[] };
  if (message.t !== "frames") return;
  delivered++;
  latencies.push(now() - message.events![0]!.timestamp);
}

function wsOpen(url: string, compress: boolean, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    // As browsers do when compressing: every message, however small.
    const socket = new WebSocket(url, { headers, perMessageDeflate: compress ? { threshold: 0 } : false });
    socket.once("open", () => resolve(socket));
    socket.once("error", reject);
  });
}

function next(socket: WebSocket, t: string): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const listener = (data: WebSocket.RawData) => {
      const message = JSON.parse(data.toString());
      if (message.t === t) {
        socket.off("message", listener);
        resolve(message);
      }
    };
    socket.on("message", listener);
  });
}

function ioOpen(port: number, compress: boolean): Promise<Socket> {
  return new Promise((resolve, reject) => {
    // engine.io-client hands perMessageDeflate to `ws` in Node; false offers no compression.
    const socket = ioClient(`http://127.0.0.1:${port}`, { transports: ["websocket"], forceNew: true, perMessageDeflate: compress ? { threshold: 0 } : false } as never);
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", reject);
  });
}

let roomCounter = 0;

async function openVisitor(stack: Stack, port: number, compress: boolean): Promise<string> {
  if (stack === "glimpse") {
    // As the extension does: the visitor endpoint refuses a connection without Origin.
    const v = await wsOpen(`ws://127.0.0.1:${port}/ws/visitor`, compress, { Origin: "chrome-extension://glimpsebenchglimpsebenchglimpsebe" });
    v.send(JSON.stringify({ t: "hello", v: 1, groupId: "bench", client: "bench" }));
    await next(v, "welcome");
    v.send(JSON.stringify({ t: "startSession", keyType: "random", site: "https://bench.test" }));
    const { sessionKey } = (await next(v, "sessionStarted")) as { sessionKey: string };
    v.on("message", (data) => {
      if (data.toString() === '{"t":"ping"}') v.send('{"t":"pong"}');
    });
    senders.push({ send: (text) => v.send(text), buffered: () => v.bufferedAmount, close: () => v.close() });
    return sessionKey;
  }
  const room = `room-${process.pid}-${roomCounter++}`;
  if (stack === "socketio") {
    const v = await ioOpen(port, compress);
    const engine = () => (v.io.engine as unknown as { transport?: { ws?: { bufferedAmount: number } } }).transport?.ws?.bufferedAmount ?? 0;
    senders.push({ send: (text) => v.emit("frames", room, text), buffered: engine, close: () => v.close() });
    return room;
  }
  const v = await wsOpen(`ws://127.0.0.1:${port}`, compress);
  v.send(JSON.stringify({ t: "join", room }));
  senders.push({ send: (text) => v.send(text), buffered: () => v.bufferedAmount, close: () => v.close() });
  return room;
}

async function openAgent(stack: Stack, port: number, cookie: string, room: string, compress: boolean): Promise<void> {
  if (stack === "glimpse") {
    const a = await wsOpen(`ws://127.0.0.1:${port}/ws/agent`, compress, { Cookie: cookie });
    a.send(JSON.stringify({ t: "hello", v: 1 }));
    await next(a, "welcome");
    a.send(JSON.stringify({ t: "join", key: room }));
    await next(a, "joined");
    a.on("message", (data) => receive(data.toString()));
    closers.push(() => a.close());
  } else if (stack === "socketio") {
    const a = await ioOpen(port, compress);
    await new Promise<void>((joined) => a.emit("join", room, () => joined()));
    a.on("frames", (text: string) => receive(text));
    closers.push(() => a.close());
  } else {
    const a = await wsOpen(`ws://127.0.0.1:${port}`, compress);
    a.send(JSON.stringify({ t: "join", room }));
    await next(a, "joined");
    a.on("message", (data) => receive(data.toString()));
    closers.push(() => a.close());
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function handle(command: Command): Promise<unknown> {
  switch (command.cmd) {
    case "visitors": {
      const rooms: string[] = [];
      for (let i = 0; i < command.sessions; i++) rooms.push(await openVisitor(command.stack, command.port, command.compress));
      return { rooms };
    }
    case "agents":
      for (const room of command.rooms) for (let i = 0; i < command.perRoom; i++) await openAgent(command.stack, command.port, command.cookie, room, command.compress);
      return { ready: true };
    case "saturate":
      // As fast as the sockets drain: at most ~1 MB waiting in any visitor's send buffer.
      for (let seq = 0; seq < command.messages; seq++) {
        for (const s of senders) s.send(payload(seq));
        if (seq % 50 === 49) {
          while (senders.some((s) => s.buffered() > 1 << 20)) await sleep(1);
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
      return { sent: true };
    case "paced":
      for (let i = 0; i < command.messages; i++) {
        for (const s of senders) s.send(payload(i));
        await sleep(command.intervalMs);
      }
      return { sent: true };
    case "count":
      return { delivered, latencies };
    case "reset":
      delivered = 0;
      latencies = [];
      return { reset: true };
    case "close":
      for (const s of senders) s.close();
      for (const close of closers) close();
      senders.length = 0;
      closers.length = 0;
      return { closed: true };
  }
}

process.on("message", (command: Command) => {
  handle(command).then(
    (reply) => process.send!(reply),
    (error: unknown) => process.send!({ error: String(error) }),
  );
});
process.on("SIGTERM", () => process.exit(0));
process.send!({ port: 0 }); // ready (startChild waits for a first message)
