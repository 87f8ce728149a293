/**
 * The CRM widget (`<glimpse-visitor visitor-id="…">`, console/widget.ts, served at
 * /console/widget.js): a CRM page of an origin the group allows shows the visitor's presence,
 * asks them to share and opens the live view. The page never holds the console's cookie: the
 * widget gets a token made for its page's origin — from the console in a popup the agent signs in
 * to (the popup hands it over with postMessage to that origin only), or from the CRM's backend
 * with an API token — and opens its agent socket with it (as a subprotocol, `glimpse-widget.<token>`),
 * which the server accepts only with that Origin and only while the group allows it.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import * as v from "valibot";
import { glimpseError } from "../src/errors";
import { randomSecret } from "./passwords";
import type { Agent, StoreApi } from "./store";

/** The agent socket's subprotocol that carries a widget token: `glimpse-widget.<token>`. */
export const WIDGET_PROTOCOL = "glimpse-widget.";

/** The widget token offered in a `Sec-WebSocket-Protocol` header, if any. */
export function widgetTokenOf(header: string | undefined): string | null {
  const offered = (header ?? "").split(",").map((p) => p.trim()).find((p) => p.startsWith(WIDGET_PROTOCOL));
  return offered ? offered.slice(WIDGET_PROTOCOL.length) : null;
}

/** An origin as a browser sends it: scheme, host, optional port; nothing else. */
export const ORIGIN_PATTERN = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/;

const Body = v.object({ origin: v.pipe(v.string(), v.regex(ORIGIN_PATTERN)) });

export function registerWidgetRoutes(app: FastifyInstance, store: StoreApi, agentFromRequest: (request: FastifyRequest) => Promise<Agent | null>, lifetimeMs: number) {
  app.post("/api/widget-tokens", async (request, reply) => {
    const agent = await agentFromRequest(request);
    if (!agent) return reply.status(401).send(glimpseError("NOT_AUTHORIZED"));
    const body = v.safeParse(Body, request.body);
    if (!body.success) return reply.status(400).send(glimpseError("BAD_MESSAGE", "Send the origin of the page the widget is on, e.g. {\"origin\":\"https://crm.example\"}."));
    const { origin } = body.output;
    if (!(await store.embedOriginsOf(agent.groupId)).includes(origin)) return reply.status(403).send(glimpseError("EMBED_NOT_ALLOWED"));
    const token = `glw_${randomSecret()}`;
    const expiresAt = Date.now() + lifetimeMs;
    await store.createWidgetToken(agent.id, token, origin, expiresAt);
    return { token, origin, expiresAt, username: agent.username, displayName: agent.displayName };
  });
}
