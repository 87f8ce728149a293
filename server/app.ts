/**
 * The app factory: HTTP routes, WebSocket endpoints, static console and demo site. `listen()` is
 * the caller's business (server/main.ts, or tests on port 0).
 */
import cookie from "@fastify/cookie";
import fastifyStatic from "@fastify/static";
import websocket from "@fastify/websocket";
import Fastify, { type FastifyReply } from "fastify";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ERRORS, glimpseError, type ErrorCode } from "../src/errors";
import { VISITOR_ID_PATTERN } from "../src/bridge";
import { agentConnection } from "./agent-handler";
import { signVisitorToken } from "./identity";
import { AUTH_COOKIE, registerAuthRoutes } from "./auth";
import { DEFAULT_CONFIG, type ServerConfig } from "./config";
import type { Hub } from "./hub";
import { PresenceRegistry } from "./presence";
import { SessionRegistry } from "./sessions";
import { attachSocket } from "./socket";
import { Store } from "./store";
import { visitorConnection } from "./visitor-handler";

declare module "fastify" {
  interface FastifyInstance {
    /** The session hub, for the admin surface and tests. */
    hub: Hub;
  }
}

export interface AppOptions {
  config?: Partial<ServerConfig>;
  /** An open store; when absent the app opens (and closes) one at config.dbPath. */
  store?: Store;
  onRelay?: Hub["onRelay"];
  logger?: boolean;
}

const root = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));

export function replyError(reply: FastifyReply, status: number, code: ErrorCode, message: string = ERRORS[code]) {
  return reply.status(status).send(glimpseError(code, message));
}

export async function buildApp(options: AppOptions = {}) {
  const config: ServerConfig = { ...DEFAULT_CONFIG, ...options.config };
  const store = options.store ?? new Store(config.dbPath);
  const registry = new SessionRegistry({ store, keyTtlMs: config.keyTtlMs, resumeGraceMs: config.resumeGraceMs });
  const hub: Hub = { store, registry, presence: new PresenceRegistry(), config, onRelay: options.onRelay };

  const app = Fastify({ logger: options.logger ?? false, bodyLimit: 64 * 1024 });
  await app.register(cookie);
  // The hard cap closes the socket (1009); below it, the soft cap answers MESSAGE_TOO_LARGE.
  await app.register(websocket, { options: { maxPayload: config.maxMessageBytes * 2 } });

  app.setErrorHandler((error: { statusCode?: number; message: string }, _request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 500) app.log.error(error);
    return replyError(reply, status, status >= 500 ? "INTERNAL" : "BAD_MESSAGE", status >= 500 ? undefined : error.message);
  });
  app.setNotFoundHandler((request, reply) => reply.status(404).send({ code: "NOT_FOUND", message: `Nothing at ${request.url}` }));

  app.get("/healthz", async () => ({ ok: true, sessions: registry.size }));
  app.get("/", async (_request, reply) => reply.redirect("/console/"));

  /** Visitor initialisation: the extension shows its button only for a group the server knows. */
  app.get<{ Params: { id: string } }>("/api/groups/:id", async (request, reply) => {
    const group = store.getGroup(request.params.id);
    if (!group) return replyError(reply, 404, "UNKNOWN_GROUP");
    return { id: group.id, name: group.name, keyLength: group.keyLength };
  });

  const auth = registerAuthRoutes(app, store, config);

  if (config.demoTokens) {
    // The demo shop's stand-in for a site backend: on login it signs the visitor's ID with the
    // demo group's secret. A real site does this on its own server; never expose a secret like this.
    app.get<{ Querystring: { visitorId?: string } }>("/demo/api/token", async (request, reply) => {
      const group = store.getGroup("demo");
      const visitorId = request.query.visitorId ?? "";
      if (!group) return replyError(reply, 404, "UNKNOWN_GROUP");
      if (!VISITOR_ID_PATTERN.test(visitorId)) return replyError(reply, 400, "BAD_MESSAGE", "visitorId: 1-128 letters, digits or _@.+:-");
      return { visitorId, token: await signVisitorToken(group, visitorId) };
    });
  }

  app.register(async (scope) => {
    scope.get("/ws/visitor", { websocket: true }, (socket) => {
      attachSocket(socket, config, (peer) => visitorConnection(hub, peer));
    });
    scope.get("/ws/agent", { websocket: true }, (socket, request) => {
      const agent = auth.agentFor(request.cookies[AUTH_COOKIE]);
      attachSocket(socket, config, (peer) => {
        if (agent) return agentConnection(hub, peer, agent);
        peer.sendRaw(JSON.stringify({ t: "error", ...glimpseError("NOT_AUTHORIZED") }));
        peer.close(4401, "NOT_AUTHORIZED");
        return null;
      });
    });
  });

  const consoleDir = root("console/dist");
  if (existsSync(consoleDir)) {
    await app.register(fastifyStatic, { root: consoleDir, prefix: "/console/", decorateReply: false });
  } else {
    app.get("/console/", async (_request, reply) =>
      reply.type("text/plain").status(503).send("The agent console is not built yet: run `npm run build`."),
    );
  }
  await app.register(fastifyStatic, { root: root("demo"), prefix: "/demo/", decorateReply: false });

  app.addHook("onClose", async () => {
    registry.endAll("server_shutdown");
    if (!options.store) store.close();
  });

  app.decorate("hub", hub);
  return app;
}
