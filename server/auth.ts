/** Agent sign-in: username + password → an HttpOnly, SameSite=Strict cookie holding a random token. */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import * as v from "valibot";
import { glimpseError } from "../src/errors";
import type { ServerConfig } from "./config";
import { retryMessage, type Limits } from "./limits";
import { randomSecret, verifyPassword } from "./passwords";
import type { Agent, StoreApi } from "./store";

export const AUTH_COOKIE = "glimpse_agent";

const Login = v.object({
  username: v.pipe(v.string(), v.minLength(1), v.maxLength(128)),
  password: v.pipe(v.string(), v.minLength(1), v.maxLength(1024)),
});

/** `signedOut`: a sign-in was ended here; open sockets are checked again at once. */
export function registerAuthRoutes(app: FastifyInstance, store: StoreApi, config: ServerConfig, limits: Limits, signedOut: () => void) {
  /** The console's sign-in cookie, or an API token (`Authorization: Bearer …`) for CRM integrations. */
  const agentFromHeaders = async (authorization: string | undefined, cookieHeader: string | undefined): Promise<Agent | null> => {
    const bearer = /^Bearer (\S+)$/.exec(authorization ?? "")?.[1];
    if (bearer) return store.agentForApiToken(bearer);
    const token = app.parseCookie(cookieHeader ?? "")[AUTH_COOKIE];
    return token ? store.agentForToken(token, Date.now()) : null;
  };
  const agentFromRequest = (request: FastifyRequest): Promise<Agent | null> => agentFromHeaders(request.headers.authorization, request.headers.cookie);
  /** A new sign-in for `agent` (password or company sign-in): a random token, stored hashed, in the cookie. */
  const startSignIn = async (request: FastifyRequest, reply: FastifyReply, agent: Agent) => {
    const token = randomSecret();
    await store.createAgentSession(agent.id, token, Date.now() + config.agentSessionMs);
    reply.setCookie(AUTH_COOKIE, token, {
      httpOnly: true,
      sameSite: "strict",
      secure: request.protocol === "https",
      path: "/",
      maxAge: Math.floor(config.agentSessionMs / 1000),
    });
  };

  app.post("/api/login", async (request, reply) => {
    const body = v.safeParse(Login, request.body);
    if (!body.success) return reply.status(400).send(glimpseError("BAD_MESSAGE", "Send a username and a password."));
    const { username, password } = body.output;
    const wait = await limits.loginAttempt(request.ip, username);
    if (wait > 0) {
      reply.header("retry-after", Math.ceil(wait / 1000));
      return reply.status(429).send(glimpseError("RATE_LIMITED", retryMessage(wait)));
    }
    let agent: Agent | null;
    let ok: boolean;
    try {
      agent = await store.getAgentByUsername(username);
      // Verify against a dummy hash when the user is unknown, so timing does not reveal usernames.
      ok = await verifyPassword(password, agent?.passwordHash ?? DUMMY_HASH);
    } finally {
      limits.loginFinished(request.ip, username);
    }
    if (!agent || !ok) return reply.status(401).send(glimpseError("INVALID_CREDENTIALS"));
    await limits.loginSucceeded(request.ip, username);
    // Said only to someone who knew the password: it reveals nothing about who has an account.
    if ((await store.ssoOf(agent.groupId))?.passwordsOff) return reply.status(403).send(glimpseError("PASSWORD_SIGN_IN_OFF"));
    await startSignIn(request, reply, agent);
    return { username: agent.username, groupId: agent.groupId, displayName: agent.displayName };
  });

  app.post("/api/logout", async (request, reply) => {
    const token = request.cookies[AUTH_COOKIE];
    if (token) await store.deleteAgentSession(token);
    reply.clearCookie(AUTH_COOKIE, { path: "/" });
    signedOut();
    return { ok: true };
  });

  app.get("/api/me", async (request, reply) => {
    const agent = await agentFromRequest(request);
    if (!agent) return reply.status(401).send(glimpseError("NOT_AUTHORIZED"));
    return { username: agent.username, groupId: agent.groupId, displayName: agent.displayName };
  });

  return { agentFromRequest, agentFromHeaders, startSignIn };
}

// scrypt hash of a random password nobody knows (same parameters as real hashes).
const DUMMY_HASH = "scrypt$32768$8$3$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
