/**
 * The session-scoped asset endpoint: the agents of a live session, and nobody else, get the
 * resources the visitor's extension carried. The console maps every resource URL of the replayed
 * page here (src/capture/urls.ts), and its CSP lets the agent's browser fetch nothing else.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { mapCssUrls } from "../src/capture/urls";
import type { AssetSkipReason } from "../src/protocol";
import { ASSET_WAIT_MS, type AssetLookup } from "./assets";
import type { Question } from "./cluster";
import type { LiveSession } from "./sessions";
import type { Agent } from "./store";
import type { Hub } from "./hub";

/** What a carried resource may be served as; anything else goes as an opaque download type. */
const SERVABLE = /^(image\/(png|jpeg|gif|webp|avif|svg\+xml|x-icon|vnd\.microsoft\.icon|bmp)|font\/[a-z0-9.+-]+|application\/(font-woff2?|x-font-[a-z]+|vnd\.ms-fontobject|font-sfnt)|text\/css|video\/[a-z0-9.+-]+|audio\/[a-z0-9.+-]+)$/;

/** Sent with every asset: even opened on its own (an SVG), it can run nothing on the console's origin. */
const ASSET_HEADERS = {
  "x-content-type-options": "nosniff",
  "content-security-policy": "default-src 'none'; img-src 'self' data:; font-src 'self' data:; style-src 'unsafe-inline'; sandbox",
  "cross-origin-resource-policy": "same-origin",
  "cache-control": "private, max-age=300",
};

export function registerAssetRoutes(app: FastifyInstance, hub: Hub, agentFromRequest: (request: FastifyRequest) => Promise<Agent | null>, reply404: (reply: FastifyReply, message: string) => unknown) {
  app.get<{ Params: { key: string }; Querystring: { u?: string } }>("/api/sessions/:key/assets", async (request, reply) => {
    const agent = await agentFromRequest(request);
    if (!agent) return reply.status(401).send({ code: "NOT_AUTHORIZED", message: "Sign in to the agent console first (your sign-in may have expired)." });
    const session = hub.registry.find(agent.groupId, request.params.key);
    const url = request.query.u ?? "";
    const found = session ? await assetOf(session, agent.username, url) : await assetElsewhere(hub, agent, request.params.key, url);
    if (found === "not_in_session") return reply404(reply, "No live session of yours has that key.");
    if (!found) return reply404(reply, "The visitor's browser has not sent that resource.");
    reply.headers(ASSET_HEADERS);
    if (found.kind === "skipped") return reply.header("x-glimpse-asset", found.reason).type("image/svg+xml").send(placeholder(found.reason));
    const mime = SERVABLE.test(found.mime) ? found.mime : "application/octet-stream";
    if (mime === "text/css") {
      // A carried stylesheet names its fonts and images relative to itself: send them here too.
      const css = mapCssUrls(found.body.toString("utf8"), (ref) => {
        try {
          return `assets?u=${encodeURIComponent(new URL(ref, url).href.split("#")[0]!)}`;
        } catch {
          return ref;
        }
      });
      return reply.type("text/css; charset=utf-8").send(css);
    }
    return reply.type(mime).send(found.body);
  });
}

/** Only an agent in the session: another agent of the group must join first. */
async function assetOf(session: LiveSession, agent: string, url: string): Promise<AssetLookup | null | "not_in_session"> {
  if (![...session.agents.values()].includes(agent)) return "not_in_session";
  return session.assets.get(url);
}

/** Several nodes: the session is owned by another node, which holds its assets; ask it over the bus. */
async function assetElsewhere(hub: Hub, agent: Agent, key: string, url: string): Promise<AssetLookup | null | "not_in_session"> {
  const cluster = hub.cluster;
  if (!cluster) return "not_in_session";
  const owner = (await cluster.owner(agent.groupId, "random", key).catch(() => null)) ?? (await cluster.owner(agent.groupId, "visitor", key).catch(() => null));
  if (!owner || owner === cluster.nodeId) return "not_in_session";
  const reply = await cluster.ask(owner, { q: "asset", groupId: agent.groupId, key, agent: agent.username, url }, ASSET_WAIT_MS + 2_000);
  if (!reply) return null; // the owner did not answer in time
  const found = reply.answer as RemoteAsset;
  return found && typeof found === "object" && found.kind === "asset" ? { ...found, body: reply.payload } : found;
}

/** An asset as one node tells another: the body goes as the bus message's payload. */
type RemoteAsset = { kind: "asset"; mime: string } | Extract<AssetLookup, { kind: "skipped" }> | "not_in_session" | null;

/** The owner's side of `assetElsewhere`. */
export async function answerAsset(hub: Hub, question: Extract<Question, { q: "asset" }>): Promise<{ answer: RemoteAsset; payload?: Buffer }> {
  const session = hub.registry.find(question.groupId, question.key);
  const found = session ? await assetOf(session, question.agent, question.url) : "not_in_session";
  if (found === "not_in_session" || !found || found.kind === "skipped") return { answer: found };
  return { answer: { kind: "asset", mime: found.mime }, payload: found.body };
}

const LABEL: Record<AssetSkipReason, string> = {
  too_large: "Image too large to share",
  session_cap: "Session's share of images used up",
  unreachable: "The visitor's browser could not load this",
};

/** Stands in for a resource that was not carried; the console also shows a note. */
function placeholder(reason: AssetSkipReason): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="320" height="120" viewBox="0 0 320 120" preserveAspectRatio="xMidYMid meet"><rect width="320" height="120" fill="#eceff1" stroke="#90a4ae" stroke-dasharray="6 4"/><text x="160" y="64" font-family="sans-serif" font-size="14" fill="#455a64" text-anchor="middle">${LABEL[reason]}</text></svg>`;
}
