/**
 * `<glimpse-visitor visitor-id="cust-42">`: the one-click button for a CRM record, on any page of
 * an origin the team allows (server/widget.ts). Loaded from the Glimpse server
 * (`<script src="https://glimpse.example/console/widget.js">`), it talks only to that server: it
 * gets a widget token (from a popup where the agent signs in to the console, or from the
 * `token` attribute the CRM's backend filled with one), opens an agent socket with it, shows the
 * visitor online or offline with their page, asks them to share, shows the request's state, and
 * opens the live view in the console. Shadow DOM, no inline script or markup, a constructed
 * stylesheet: it fits a strict CSP that allows the server in script-src and connect-src.
 */
import { PROTOCOL_VERSION } from "~src/protocol/version";

const SERVER = new URL((document.currentScript as HTMLScriptElement | null)?.src ?? location.href).origin;

const STYLE = `
:host { display: inline-block; font: 14px/1.4 system-ui, sans-serif; color: #1d2433; }
.box { border: 1px solid #d5d9e2; border-radius: 8px; padding: 10px 12px; min-width: 240px; background: #fff; }
.row { display: flex; align-items: center; gap: 8px; }
.dot { width: 9px; height: 9px; border-radius: 50%; background: #a0a7b4; }
.dot.on { background: #1f9d55; }
.page { color: #5b6475; font-size: 12px; margin: 4px 0 8px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; max-width: 320px; }
button { font: inherit; padding: 5px 10px; border-radius: 6px; border: 1px solid #2f5bd3; background: #2f5bd3; color: #fff; cursor: pointer; }
button[disabled] { opacity: .5; cursor: default; }
.status { margin-top: 6px; font-size: 13px; }
.error { color: #b42318; }
`;

type Message = { t: string; [key: string]: unknown };

const STATES: Record<string, string> = {
  pending: "Asking the visitor…",
  displayed: "The visitor sees the request.",
  accepted: "Accepted: the share is starting…",
  declined: "The visitor declined.",
  cancelled: "Request cancelled.",
  expired: "The visitor did not answer in time.",
  failed: "The share did not start.",
  started: "The visitor is sharing.",
};

class GlimpseVisitor extends HTMLElement {
  private readonly root = this.attachShadow({ mode: "open" });
  private socket: WebSocket | null = null;
  private token: string | null = null;
  private readonly dot = el("span", "dot");
  private readonly label = el("span", "", "Glimpse");
  private readonly page = el("div", "page");
  private readonly action = el("button");
  private readonly status = el("div", "status");
  private online = false;
  private live = false;

  connectedCallback(): void {
    if (this.root.childElementCount > 0) return;
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(STYLE);
    this.root.adoptedStyleSheets = [sheet];
    const box = el("div", "box");
    const row = el("div", "row");
    row.append(this.dot, this.label);
    box.append(row, this.page, this.action, this.status);
    this.root.append(box);
    this.action.addEventListener("click", () => this.act());
    this.token = this.getAttribute("token");
    if (this.token) this.connect();
    else this.show("Sign in to Glimpse", "");
  }

  disconnectedCallback(): void {
    this.socket?.close();
  }

  private get visitorId(): string {
    return this.getAttribute("visitor-id") ?? "";
  }

  private show(action: string, status: string, error = false): void {
    this.action.textContent = action;
    this.action.disabled = action === "";
    this.action.hidden = action === "";
    this.status.textContent = status;
    this.status.className = error ? "status error" : "status";
  }

  private act(): void {
    if (!this.token) return this.signIn();
    if (this.live) {
      window.open(`${SERVER}/console/#/visitor/${encodeURIComponent(this.visitorId)}/live`, "_blank");
      return;
    }
    if (this.online) this.send({ t: "requestShare", visitorId: this.visitorId });
  }

  /** The console in a popup: the agent signs in there (first party), and it posts back a token for this page's origin. */
  private signIn(): void {
    const popup = window.open(`${SERVER}/console/#/widget/${encodeURIComponent(location.origin)}`, "glimpse-sign-in", "width=480,height=640");
    if (!popup) return this.show("Sign in to Glimpse", "Allow pop-ups from this page to sign in.", true);
    const onMessage = (event: MessageEvent) => {
      if (event.origin !== SERVER || event.source !== popup) return;
      const data = event.data as { t?: string; token?: string; message?: string };
      if (data.t !== "glimpseWidgetToken") return;
      window.removeEventListener("message", onMessage);
      if (!data.token) return this.show("Sign in to Glimpse", data.message ?? "Sign-in did not complete.", true);
      this.token = data.token;
      this.connect();
    };
    window.addEventListener("message", onMessage);
  }

  private connect(): void {
    this.show("", "Connecting…");
    // The token as a subprotocol: not in the URL, which proxies and servers log.
    const socket = new WebSocket(`${SERVER.replace(/^http/, "ws")}/ws/agent`, [`glimpse-widget.${this.token!}`]);
    this.socket = socket;
    socket.addEventListener("open", () => this.send({ t: "hello", v: PROTOCOL_VERSION }));
    socket.addEventListener("message", (event) => this.receive(JSON.parse(String(event.data)) as Message));
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (event.code === 4401 || event.code === 1008) {
        this.token = null;
        return this.show("Sign in to Glimpse", "Your sign-in ended. Sign in again.", true);
      }
      this.show("", "Reconnecting…");
      setTimeout(() => this.token && !this.socket && this.connect(), 3_000);
    });
  }

  private send(message: Message): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  private receive(message: Message): void {
    switch (message.t) {
      case "welcome":
        return this.send({ t: "watchVisitor", visitorId: this.visitorId });
      case "visitorPresence": {
        if (message.visitorId !== this.visitorId) return;
        this.online = message.online === true;
        const page = message.page as { title?: string; url?: string } | null;
        this.dot.className = this.online ? "dot on" : "dot";
        this.label.textContent = this.online ? "Online" : "Offline";
        this.page.textContent = this.online && page ? page.title || page.url || "" : "";
        if (!this.live) this.show(this.online ? "Start screen share" : "", this.online ? "" : "The visitor has no page of the site open.");
        return;
      }
      case "shareRequest": {
        if (message.visitorId !== this.visitorId) return;
        const state = String(message.state);
        this.show(state === "pending" || state === "displayed" || state === "accepted" ? "" : this.online ? "Start screen share" : "", STATES[state] ?? state);
        return;
      }
      case "joined":
        // The server brings the requesting agent in; the live view is the console's, in its own window.
        this.live = true;
        this.send({ t: "leave" });
        return this.show("Open live view", STATES.started!);
      case "sessionEnded":
        this.live = false;
        return this.show(this.online ? "Start screen share" : "", "The share ended.");
      case "error":
        return this.show(this.action.textContent ?? "", String(message.message ?? message.code), true);
    }
  }
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className = "", text = ""): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text) node.textContent = text;
  return node;
}

if (!customElements.get("glimpse-visitor")) customElements.define("glimpse-visitor", GlimpseVisitor);
