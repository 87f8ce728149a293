/**
 * The app factory: HTTP routes, WebSocket endpoints, static console and demo site. `listen()` is
 * the caller's business (server/main.ts, or tests on port 0).
 */
import cookie from "@fastify/cookie";
import fastifyStatic from "@fastify/static";
import Fastify, { type FastifyReply, type FastifyRequest } from "fastify";
import { existsSync, readFileSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer } from "ws";
import { fileURLToPath } from "node:url";
import { VISITOR_ID_PATTERN } from "../src/bridge";
import { ERRORS, glimpseError, type ErrorCode } from "../src/errors";
import { agentConnection } from "./agent-handler";
import { AgentSockets } from "./agent-sockets";
import { Cluster } from "./cluster";
import { registerAssetRoutes } from "./asset-routes";
import { registerAuthRoutes } from "./auth";
import { DEFAULT_CONFIG, type ServerConfig } from "./config";
import type { Hub } from "./hub";
import { signVisitorToken } from "./identity";
import { requestChanged } from "./request-events";
import { ShareRequests } from "./requests";
import { Invites } from "./invites";
import { Limits, type LimitsConfig } from "./limits";
import { PresenceRegistry } from "./presence";
import { SessionRegistry } from "./sessions";
import { connectCluster, presenceAnywhere, restoreOrphans, sessionDirectory } from "./cluster-hub";
import { Heartbeat } from "./heartbeat";
import { Metrics } from "./metrics";
import { safeEqual } from "./passwords";
import { attachSocket, ConnectionCounter } from "./socket";
import { openStore, StoreUnavailable, type Agent, type StoreApi } from "./store";
import { visitorConnection } from "./visitor-handler";
import { sessionWebhooks, Webhooks } from "./webhooks";
import { registerSsoRoutes } from "./sso";
import { registerWidgetRoutes, WIDGET_PROTOCOL, widgetTokenOf } from "./widget";
import { COMPRESS_THRESHOLD } from "./outgoing";

declare module "fastify" {
  interface FastifyInstance {
    /** The session hub, for the admin surface and tests. */
    hub: Hub;
    /** The WebSocket server behind /ws/visitor and /ws/agent. */
    websocketServer: WebSocketServer;
    /**
     * Stop taking new clients (GET /readyz answers 503, new WebSockets are refused) while the open
     * ones carry on, so that a load balancer sends new clients elsewhere; then `close()`.
     */
    drain(): void;
  }
}

export interface AppOptions {
  config?: Partial<ServerConfig>;
  /** An open store; when absent the app opens (and closes) one at config.dbPath. */
  store?: StoreApi;
  onRelay?: Hub["onRelay"];
  onVisitorInbound?: Hub["onVisitorInbound"];
  logger?: boolean;
  /** Brute-force limits (defaults in server/limits.ts). */
  limits?: LimitsConfig;
}

const root = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));
const DAY_MS = 24 * 60 * 60_000;

/** The console's Content-Security-Policy (see the console route). */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "media-src 'self' data: blob:",
  "connect-src 'self'",
  "frame-src 'self' about: blob: data:",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
].join("; ");

/** API and error responses carry no active content: nothing may load from or frame them. */
const API_CSP = "default-src 'none'; frame-ancestors 'none'";

/**
 * The client's entry in a comma-separated forwarding header behind `hops` trusted proxies: the
 * hops-th from the right (the leftmost entries are whatever the client wrote). Like proxy-addr,
 * which Fastify uses for `request.ip` with the same setting.
 */
export function forwardedEntry(header: string | string[] | undefined, hops: number): string {
  if (hops <= 0 || header === undefined) return "";
  const entries = (Array.isArray(header) ? header.join(",") : header).split(",").map((e) => e.trim()).filter(Boolean);
  return entries[Math.max(0, entries.length - hops)] ?? "";
}

export function replyError(reply: FastifyReply, status: number, code: ErrorCode, message: string = ERRORS[code]) {
  return reply.status(status).send(glimpseError(code, message));
}

/** The origin a browser page served by this server has (the console), as seen through any proxy. */
const ownOrigin = (request: FastifyRequest) => `${request.protocol}://${request.headers.host ?? ""}`;

export async function buildApp(options: AppOptions = {}) {
  const config: ServerConfig = { ...DEFAULT_CONFIG, ...options.config };
  const store = options.store ?? (await openStore(config));
  // Several nodes: Redis says which node owns which session and carries messages between nodes.
  const cluster = config.redisUrl ? new Cluster({ url: config.redisUrl, nodeId: config.nodeId }) : undefined;
  if (cluster) await cluster.start();
  const directory = cluster && sessionDirectory(cluster);
  const webhooks = new Webhooks(store, { retryBaseMs: config.webhookRetryMs, maxAttempts: config.webhookAttempts, pollMs: config.webhookPollMs, timeoutMs: config.webhookTimeoutMs });
  const registry = new SessionRegistry({ store, keyTtlMs: config.keyTtlMs, resumeGraceMs: config.resumeGraceMs, directory, lifecycle: sessionWebhooks(webhooks) });
  // A restart: the sessions the last process kept wait for their visitor to resume and their agents
  // to rejoin. Several nodes: only those no live node owns (the others are taken over on demand).
  if (cluster) await restoreOrphans(cluster, store, registry);
  else await registry.restore();
  const limits = new Limits(options.limits, cluster?.client);
  const presence = new PresenceRegistry();
  const requests = new ShareRequests({
    ttlMs: config.requestTtlMs,
    agentGraceMs: config.agentGraceMs,
    onChange: (request, previous) => {
      requestChanged(presence, request, previous);
      // The CRM logs the visitor's answer (webhooks.ts).
      if (request.state !== previous && (request.state === "accepted" || request.state === "declined")) {
        const { id: requestId, visitorId, agent, state: answer } = request;
        webhooks.emit(request.groupId, { type: "request.answered", data: { requestId, visitorId, agent, answer, answeredAt: Date.now() } });
      }
    },
  });
  const agentSockets = new AgentSockets(config.agentRecheckMs);
  const visitorCounter = new ConnectionCounter();
  const agentCounter = new ConnectionCounter();
  const metrics = new Metrics(
    {
      sessions: () => registry.sizeByKeyType(),
      viewers: () => registry.viewers,
      presence: () => presence.size,
      connections: () => ({ visitor: visitorCounter.total, agent: agentCounter.total }),
    },
    { processMetrics: config.metricsToken !== "" },
  );
  const hub: Hub = { store, registry, presence, requests, invites: new Invites(), limits, agentSockets, config, metrics, cluster, onRelay: options.onRelay, onVisitorInbound: options.onVisitorInbound };
  if (cluster) connectCluster(hub, cluster, directory!);
  let draining = false;

  const https = config.tlsCert && config.tlsKey ? { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) } : null;
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: 64 * 1024,
    // Trust the nearest `trustProxy` hops (proxy-addr semantics: hop 0 is the socket peer).
    trustProxy: config.trustProxy > 0 ? (_address: string, hop: number) => hop < config.trustProxy : false,
    ...(https ? { https } : {}),
  });
  app.decorate("hub", hub);
  app.decorate("drain", () => {
    draining = true;
  });
  await app.register(cookie);
  app.setErrorHandler((error: { statusCode?: number; message: string }, _request, reply) => {
    if (error instanceof StoreUnavailable) return replyError(reply, 503, "NOT_READY", "This server cannot reach its database. Try again in a moment.");
    const status = error.statusCode ?? 500;
    if (status >= 500) app.log.error(error);
    return replyError(reply, status, status >= 500 ? "INTERNAL" : "BAD_MESSAGE", status >= 500 ? undefined : error.message);
  });
  app.setNotFoundHandler((request, reply) => reply.status(404).send({ code: "NOT_FOUND", message: `Nothing at ${request.url}` }));

  // Host allow-list (optional): a request for another name (DNS rebinding, a stray vhost) is refused.
  const allowedHosts = config.allowedHosts.split(",").map((h) => h.trim().toLowerCase()).filter(Boolean);
  const hostAllowed = (host: string | undefined) =>
    allowedHosts.length === 0 || (host !== undefined && (allowedHosts.includes(host.toLowerCase()) || allowedHosts.includes(host.toLowerCase().replace(/:\d+$/, ""))));
  app.addHook("onRequest", async (request, reply) => {
    if (!hostAllowed(request.headers.host)) return replyError(reply, 421, "HOST_NOT_ALLOWED");
  });
  // Every response: no MIME sniffing, no referrer to other sites; API and error responses may not
  // be framed or load anything (the console sets its own policy below; the demo shop is a site).
  app.addHook("onSend", async (request, reply, payload) => {
    reply.header("x-content-type-options", "nosniff");
    reply.header("referrer-policy", "no-referrer");
    if (!request.url.startsWith("/demo/") && !reply.hasHeader("content-security-policy")) {
      reply.header("content-security-policy", API_CSP);
      reply.header("x-frame-options", "DENY");
    }
    if (reply.statusCode >= 400 && typeof payload === "string") metrics.errorText(payload);
    return payload;
  });

  // CSRF: a state-changing request from a browser must come from the console's own origin
  // (browsers always send Origin on POST). Cookies are SameSite=Strict as a second wall.
  app.addHook("onRequest", async (request, reply) => {
    if (request.method === "GET" || request.method === "HEAD" || request.method === "OPTIONS") return;
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== ownOrigin(request)) return replyError(reply, 403, "FORBIDDEN_ORIGIN");
  });

  // Liveness (the process answers, its database too) and readiness (and it takes new clients: not
  // draining). With several nodes, the load balancer asks /readyz.
  const databaseOk = async () => {
    try {
      return await store.ping();
    } catch {
      return false;
    }
  };
  // Several nodes: Redis too (without it this node cannot find sessions on others).
  const checks = async () => {
    const database = await databaseOk();
    const redis = cluster ? cluster.ready() : null;
    return { ok: database && redis !== false, checks: { database: database ? "ok" : "unreachable", ...(cluster ? { redis: redis ? "ok" : "unreachable" } : {}) } };
  };
  app.get("/healthz", async (_request, reply) => {
    const { ok, checks: found } = await checks();
    return reply.status(ok ? 200 : 503).send({ ok, sessions: registry.size, ...(cluster ? { node: cluster.nodeId } : {}), checks: found });
  });
  app.get("/readyz", async (_request, reply) => {
    const { ok, checks: found } = await checks();
    if (ok && !draining) return { ready: true, checks: found };
    const why = draining
      ? "This node is draining (shutting down): its clients reconnect to another node."
      : found.database !== "ok"
        ? "This node cannot reach its database."
        : "This node cannot reach Redis, where it finds sessions and visitors on other nodes.";
    return reply.status(503).send({ ready: false, ...glimpseError("NOT_READY", why), checks: { ...found, draining } });
  });
  const tokenMatches = (authorization: string | undefined, token: string) => safeEqual(/^Bearer (\S+)$/.exec(authorization ?? "")?.[1] ?? "", token);
  // Prometheus: only when a token is configured, and only for a scraper that sends it.
  app.get("/metrics", async (request, reply) => {
    if (!config.metricsToken) return reply.status(404).send({ code: "NOT_FOUND", message: "Metrics are off: set GLIMPSE_METRICS_TOKEN to serve them." });
    if (!tokenMatches(request.headers.authorization, config.metricsToken)) {
      return replyError(reply, 401, "NOT_AUTHORIZED", "Send the metrics token: Authorization: Bearer <GLIMPSE_METRICS_TOKEN>.");
    }
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  app.get("/", async (_request, reply) => reply.redirect("/console/"));

  /** Visitor initialisation: the extension shows its button only for a group the server knows. */
  app.get<{ Params: { id: string } }>("/api/groups/:id", async (request, reply) => {
    const group = await store.getGroup(request.params.id);
    if (!group) return replyError(reply, 404, "UNKNOWN_GROUP");
    return { id: group.id, name: group.name, keyLength: group.keyLength };
  });

  // A sign-out closes that sign-in's open sockets at once: here, and (several nodes) on every node.
  const auth = registerAuthRoutes(app, store, config, limits, () => {
    agentSockets.sweep();
    cluster?.broadcast({ k: "signedOut" });
  });  registerSsoRoutes(app, store, auth.startSignIn);
  registerWidgetRoutes(app, store, auth.agentFromRequest, config.agentSessionMs);


  /** For CRM integrations (API token) and the console: is this visitor online, and where? */
  app.get<{ Params: { visitorId: string } }>("/api/visitors/:visitorId", async (request, reply) => {
    const agent = await auth.agentFromRequest(request);
    if (!agent) return replyError(reply, 401, "NOT_AUTHORIZED");
    return presenceAnywhere(hub, agent.groupId, request.params.visitorId);
  });

  registerAssetRoutes(app, hub, auth.agentFromRequest, (reply, message) => replyError(reply, 404, "ASSET_NOT_FOUND", message));

  if (config.demoTokens) {
    // The demo shop's stand-in for a site backend: on login it signs the visitor's ID with the
    // demo group's secret. A real site does this on its own server; never expose a secret like this.
    app.get<{ Querystring: { visitorId?: string } }>("/demo/api/token", async (request, reply) => {
      const group = await store.getGroup("demo");
      const visitorId = request.query.visitorId ?? "";
      if (!group) return replyError(reply, 404, "UNKNOWN_GROUP");
      if (!VISITOR_ID_PATTERN.test(visitorId)) return replyError(reply, 400, "BAD_MESSAGE", "visitorId: 1-128 letters, digits or _@.+:-");
      return { visitorId, token: await signVisitorToken(group, visitorId, config.demoTokenTtlS) };
    });
  }

  const visitorOrigins = config.visitorOrigins.split(",").map((o) => o.trim()).filter(Boolean);
  const heartbeat = new Heartbeat(config.pingMs);
  // WebSockets are served by `ws` straight from the HTTP upgrade, outside Fastify's request cycle:
  // routing upgrades through Fastify kept its request objects alive for each socket (~2.7 KB of
  // heap per idle presence connection, bench/presence.ts).
  // The hard cap closes the socket (1009); below it, the soft cap answers MESSAGE_TOO_LARGE.
  // permessage-deflate for clients that offer it (browsers do): rrweb's JSON shrinks 5-10× on the
  // wire. The server compresses each message on its own (server_no_context_takeover), once per
  // fan-out however many agents get it, small messages not at all (server/outgoing.ts).
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: config.maxMessageBytes * 2,
    perMessageDeflate: { threshold: COMPRESS_THRESHOLD, serverNoContextTakeover: true },
    // The CRM widget's token rides as a subprotocol (not in the URL, which proxies log); a browser
    // that offers one needs it echoed.
    handleProtocols: (protocols) => [...protocols].find((p) => p.startsWith(WIDGET_PROTOCOL)) ?? false,
  });
  app.decorate("websocketServer", wss);
  const clientIp = (req: IncomingMessage) => {
    return forwardedEntry(req.headers["x-forwarded-for"], config.trustProxy) || req.socket.remoteAddress || "unknown";
  };
  const upgradeOrigin = (req: IncomingMessage) => {
    const forwardedProto = forwardedEntry(req.headers["x-forwarded-proto"], config.trustProxy);
    const protocol = forwardedProto || ((req.socket as { encrypted?: boolean }).encrypted ? "https" : "http");
    return `${protocol}://${req.headers.host ?? ""}`;
  };
  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? "").split("?")[0];
    if (path !== "/ws/visitor" && path !== "/ws/agent") return socket.destroy();
    if (draining) {
      // The client retries; behind a load balancer it lands on another node.
      socket.end("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    if (!hostAllowed(req.headers.host)) {
      socket.end("HTTP/1.1 421 Misdirected Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    const ip = clientIp(req);
    const origin = req.headers.origin;
    if (path === "/ws/visitor") {
      // A presence connection carries a few tiny messages a minute: permessage-deflate saves it
      // nothing and would cost every idle connection a zlib context (README "Performance",
      // presence rows). Without the client's offer, ws negotiates no compression.
      if (new URLSearchParams((req.url ?? "").split("?")[1] ?? "").get("role") === "presence") delete req.headers["sec-websocket-extensions"];
      // The visitor's socket is not coalesced (no `socket` passed): it gets a few small messages,
      // and corking it broke the agent's view of nested cross-origin frames in the fidelity
      // suite (cause not found yet; see the #12 note).
      return wss.handleUpgrade(req, socket, head, (ws) => {
        attachSocket(ws, { config, ip, origin, allowedOrigins: visitorOrigins, requireOrigin: true, counter: visitorCounter, heartbeat, metrics }, (peer) => visitorConnection(hub, peer));
      });
    }
    const { authorization, cookie } = req.headers;
    // The CRM widget (server/widget.ts) signs in with a token made for its page's origin, from there only.
    const widgetToken = widgetTokenOf(req.headers["sec-websocket-protocol"]);
    const allowedOrigins = widgetToken ? [origin ?? ""] : [upgradeOrigin(req)];
    const lookUp = (): Promise<Agent | null> =>
      widgetToken ? Promise.resolve(store.agentForWidgetToken(widgetToken, origin ?? "", Date.now())) : auth.agentFromHeaders(authorization, cookie);
    const upgrade = (agent: Agent | null) =>
      wss.handleUpgrade(req, socket, head, (ws) => {
        attachSocket(ws, { config, ip, origin, allowedOrigins, counter: agentCounter, heartbeat, metrics }, (peer) => {
          if (agent) return agentConnection(hub, peer, agent, ip, async () => (await lookUp())?.id === agent.id);
          peer.sendRaw(JSON.stringify({ t: "error", ...glimpseError("NOT_AUTHORIZED") }));
          peer.close(4401, "NOT_AUTHORIZED");
          return null;
        }, socket);
      });
    // The sign-in is looked up before the upgrade (PostgreSQL: a round trip). A database that does
    // not answer gets 503 (the console retries, as from a draining node), not "signed out".
    lookUp().then(upgrade, (error: Error) => {
      console.error("glimpse: sign-in lookup failed", error.message);
      socket.end("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 2\r\nContent-Length: 0\r\n\r\n");
    });
  };
  app.server.on("upgrade", onUpgrade);

  const consoleDir = root("console/dist");
  if (existsSync(consoleDir)) {
    await app.register(async (scope) => {
      // The replayed page lives in an about:blank frame, which inherits this policy: the agent's
      // browser loads nothing but this server (carried assets), so it never contacts the
      // visitor's site or a third party, and the console cannot be framed.
      scope.addHook("onSend", async (_request, reply, payload) => {
        reply.header("content-security-policy", `${CONSOLE_CSP}; frame-ancestors ${config.frameAncestors}`);
        // X-Frame-Options cannot name origins: only sent when nobody may frame the console.
        if (config.frameAncestors.trim() === "'none'") reply.header("x-frame-options", "DENY");
        else reply.removeHeader("x-frame-options");
        return payload;
      });
      await scope.register(fastifyStatic, { root: consoleDir, prefix: "/console/", decorateReply: false });
    });
  } else {
    app.get("/console/", async (_request, reply) =>
      reply.type("text/plain").status(503).send("The agent console is not built yet: run `npm run build`."),
    );
  }
  await app.register(fastifyStatic, { root: root("demo"), prefix: "/demo/", decorateReply: false });

  // Retention: session metadata older than the configured days is deleted, at start and every 6 h.
  const purge = () =>
    Promise.resolve()
      .then(() => store.purgeAudit(Date.now() - config.auditRetentionDays * DAY_MS, Date.now()))
      .catch((error: Error) => console.error("glimpse: audit purge failed", error.message));
  await purge();
  const purgeTimer = setInterval(purge, 6 * 60 * 60_000);
  purgeTimer.unref();

  // Before the HTTP server closes (it would wait for upgraded sockets): hang up, saying "restarting".
  // Live sessions are not ended: they stay in the store, and the next process takes each back when
  // its visitor resumes and its agents rejoin, as after a dropped connection (sessions.ts).
  app.addHook("preClose", async () => {
    hub.tunnels?.stop();
    registry.suspendAll();
    heartbeat.stop();
    agentSockets.stop();
    app.server.off("upgrade", onUpgrade);
    for (const client of wss.clients) client.close(1012, "server restarting");
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (const client of wss.clients) client.terminate();
    wss.close();
  });

  app.addHook("onClose", async () => {
    clearInterval(purgeTimer);
    await cluster?.close();
    await registry.writesDone();
    await webhooks.stop();
    if (!options.store) await store.close();
  });

  return app;
}

