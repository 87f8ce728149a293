/** Start the real server on a free port with a fresh SQLite database; everything closed in teardown. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import WebSocket from "ws";
import { buildApp } from "../../server/app";
import type { ServerConfig } from "../../server/config";
import type { LimitsConfig } from "../../server/limits";
import { hashPassword } from "../../server/passwords";
import { Store } from "../../server/store";

export interface TestServer {
  url: string;
  wsUrl: string;
  store: Store;
  app: FastifyInstance;
  /** Every frames message the server relayed, as relayed. */
  relayed: string[];
  /** Every frame any visitor connection sent (the extension's whole outgoing traffic). */
  inbound: string[];
  addGroup(id: string, keyLength?: number, requireVerified?: boolean): void;
  addAgent(groupId: string, username: string, password?: string): Promise<string>;
  /** Sign in over HTTP and return the cookie header. */
  signIn(username: string, password: string): Promise<string>;
  /** Stop the server as SIGTERM does and start a new one on the same port and database (`store` and `app` are the new ones). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startServer(config: Partial<ServerConfig> = {}, options: { limits?: LimitsConfig } = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), "glimpse-test-"));
  const relayed: string[] = [];
  const inbound: string[] = [];
  const launch = async (port: number) => {
    const store = new Store(join(dir, "glimpse.db"));
    const app = await buildApp({
      store,
      // Like the quick start: the demo shop signs its visitors' tokens.
      config: { demoTokens: 1, ...config },
      limits: options.limits,
      onRelay: (_key, text) => relayed.push(text),
      onVisitorInbound: (text) => inbound.push(text),
    });
    await app.listen({ host: "127.0.0.1", port });
    return { store, app };
  };
  const first = await launch(0);
  const address = first.app.server.address();
  if (!address || typeof address === "string") throw new Error("no address");
  const url = `http://127.0.0.1:${address.port}`;
  const server: TestServer = {
    url,
    wsUrl: url.replace("http", "ws"),
    ...first,
    relayed,
    inbound,
    addGroup(id, keyLength = 6, requireVerified = false) {
      server.store.createGroup({ id, name: `Group ${id}`, keyLength, secret: `secret-of-${id}-${Math.random()}`, requireVerified });
    },
    async addAgent(groupId, username, password = "correct horse battery") {
      server.store.createAgent(groupId, username, await hashPassword(password));
      return password;
    },
    async signIn(username, password) {
      const response = await fetch(`${url}/api/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username, password }),
      });
      if (!response.ok) throw new Error(`sign-in failed: ${response.status}`);
      const cookie = response.headers.get("set-cookie");
      if (!cookie) throw new Error("no cookie");
      return cookie.split(";")[0]!;
    },
    async restart() {
      await server.app.close();
      server.store.close();
      Object.assign(server, await launch(address.port));
    },
    async close() {
      await server.app.close();
      server.store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return server;
}

type Message = { t: string; [key: string]: unknown };

/** A protocol client over a real socket that records what it receives and waits for messages. */
export const TEST_EXTENSION_ORIGIN = "chrome-extension://glimpsetestglimpsetestglimpsetest";

export class Client {
  readonly received: Message[] = [];
  /** Every message in the order it arrived (`received` loses those `next` has taken). */
  readonly history: Message[] = [];
  private waiters: { match: (m: Message) => boolean; resolve: (m: Message) => void }[] = [];
  closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly socket: WebSocket) {
    socket.on("message", (data) => {
      const message = JSON.parse(data.toString()) as Message;
      // Like the real clients: answer the heartbeat, or the server drops an idle socket.
      if (message.t === "ping" && socket.readyState === socket.OPEN) socket.send('{"t":"pong"}');
      this.received.push(message);
      this.history.push(message);
      this.waiters = this.waiters.filter((w) => (w.match(message) ? (w.resolve(message), false) : true));
    });
    this.closed = new Promise((resolve) => socket.on("close", (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  /** Visitor sockets present an extension Origin, as the extension's do (the server refuses none). Pass `Origin: ""` for none. */
  static async open(url: string, headers: Record<string, string> = {}, { deflate = true, protocols = [] as string[] } = {}): Promise<Client> {
    const withOrigin: Record<string, string> = new URL(url).pathname.endsWith("/ws/visitor") && !("Origin" in headers) ? { ...headers, Origin: TEST_EXTENSION_ORIGIN } : { ...headers };
    if (withOrigin.Origin === "") delete withOrigin.Origin;
    const socket = new WebSocket(url, protocols, { headers: withOrigin, perMessageDeflate: deflate });
    const client = new Client(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("error", reject);
    });
    return client;
  }

  send(message: object | string): void {
    this.socket.send(typeof message === "string" ? message : JSON.stringify(message));
  }

  /** The next message of type `t` (optionally matching `where`), including one already received. */
  next<T extends Message = Message>(t: string, where: (m: Message) => boolean = () => true, timeoutMs = 5000): Promise<T> {
    const match = (m: Message) => m.t === t && where(m);
    const seen = this.received.find(match);
    if (seen) {
      this.received.splice(this.received.indexOf(seen), 1);
      return Promise.resolve(seen as T);
    }
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for "${t}"; received ${JSON.stringify(this.received.map((m) => m.t))}`)), timeoutMs);
      this.waiters.push({
        match,
        resolve: (m) => {
          clearTimeout(timer);
          this.received.splice(this.received.indexOf(m), 1);
          resolve(m as T);
        },
      });
    });
  }

  close(): void {
    this.socket.close();
  }
}

export async function visitor(server: TestServer, groupId = "demo"): Promise<Client> {
  const client = await Client.open(`${server.wsUrl}/ws/visitor`);
  client.send({ t: "hello", v: 1, groupId, client: "test" });
  await client.next("welcome");
  return client;
}

export async function sharingVisitor(server: TestServer, groupId = "demo") {
  const client = await visitor(server, groupId);
  client.send({ t: "startSession", keyType: "random", site: "http://shop.test" });
  const started = await client.next<{ t: string; sessionKey: string; resumeToken: string }>("sessionStarted");
  return { client, key: started.sessionKey, resumeToken: started.resumeToken };
}

/** An agent's socket; like a browser's it offers compression, unless `deflate: false`. */
export async function agent(server: TestServer, username: string, password: string, options: { deflate?: boolean } = {}): Promise<Client> {
  const cookie = await server.signIn(username, password);
  const client = await Client.open(`${server.wsUrl}/ws/agent`, { Cookie: cookie }, options);
  client.send({ t: "hello", v: 1 });
  await client.next("welcome");
  return client;
}

/** Every string value in the relayed messages (numbers such as timestamps are left out). */
export function relayedStrings(server: TestServer): string[] {
  const strings: string[] = [];
  const walk = (value: unknown): void => {
    if (typeof value === "string") strings.push(value);
    else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === "object") Object.values(value).forEach(walk);
  };
  for (const text of server.relayed) walk(JSON.parse(text));
  return strings;
}
