/**
 * Company sign-in for agents: OpenID Connect, authorization code flow with PKCE (openid-client),
 * per group (issuer, client, allowed e-mail domains or a required claim). The person is created as
 * an agent of the group at their first sign-in, with the provider's name for them. What the flow
 * needs between the two legs (state, nonce, PKCE verifier, group) rides in a short-lived HttpOnly
 * cookie, so any node can finish a flow another node started.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import * as oidc from "openid-client";
import type { ErrorCode } from "../src/errors";
import { hashPassword, randomSecret } from "./passwords";
import type { Agent, SsoConfig, StoreApi } from "./store";

const FLOW_COOKIE = "glimpse_sso";
const FLOW_MAX_AGE_S = 10 * 60;
const CALLBACK = "/api/sso/callback";

interface Flow {
  group: string;
  state: string;
  nonce: string;
  verifier: string;
  /** Where in the console to come back to (its address's hash: a record, the widget's sign-in). */
  back?: string;
}

/** A console route to return to: a hash of plain characters, nothing that leaves the console. */
const CONSOLE_HASH = /^#\/[A-Za-z0-9_.~%:/@+-]{0,300}$/;

/** Plain http only for an identity provider on this machine (development, tests). */
const loopback = (url: URL) => url.protocol === "http:" && ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);

/** Whether the signed-in person may be an agent of the group (`null`: yes; else why not). */
export function refusal(sso: Pick<SsoConfig, "allowedDomains" | "requiredClaim">, claims: Record<string, unknown>): string | null {
  if (sso.allowedDomains.length > 0) {
    const email = typeof claims.email === "string" ? claims.email.toLowerCase() : "";
    if (!email || claims.email_verified === false) return "no verified e-mail address";
    const domain = email.slice(email.lastIndexOf("@") + 1);
    if (!sso.allowedDomains.some((allowed) => allowed.toLowerCase() === domain)) return `e-mail domain ${domain} is not allowed`;
  }
  if (sso.requiredClaim) {
    const [name, value] = sso.requiredClaim.split("=", 2) as [string, string | undefined];
    const held = claims[name];
    const has = Array.isArray(held) ? held.includes(value) : value === undefined ? held !== undefined && held !== false : held === value;
    if (!has) return `claim ${sso.requiredClaim} is missing`;
  }
  return null;
}

export function registerSsoRoutes(
  app: FastifyInstance,
  store: StoreApi,
  startSignIn: (request: FastifyRequest, reply: FastifyReply, agent: Agent) => Promise<void>,
) {
  /** Discovery documents, per group and settings (a changed setting is fetched again). */
  const discovered = new Map<string, { at: number; config: Promise<oidc.Configuration> }>();
  const configOf = (sso: SsoConfig) => {
    const key = `${sso.issuer}\n${sso.clientId}\n${sso.clientSecret}`;
    const cached = discovered.get(key);
    if (cached && Date.now() - cached.at < 10 * 60_000) return cached.config;
    const issuer = new URL(sso.issuer);
    const config = oidc.discovery(issuer, sso.clientId, undefined, oidc.ClientSecretBasic(sso.clientSecret), loopback(issuer) ? { execute: [oidc.allowInsecureRequests] } : undefined);
    config.catch(() => discovered.delete(key));
    discovered.set(key, { at: Date.now(), config });
    return config;
  };
  const origin = (request: FastifyRequest) => `${request.protocol}://${request.headers.host ?? ""}`;
  /** Back to the console's sign-in, which shows why. */
  const back = (reply: FastifyReply, code: ErrorCode) => reply.redirect(`/console/?sso_error=${code}`);

  app.get<{ Params: { groupId: string }; Querystring: { return?: string } }>("/api/sso/:groupId/login", async (request, reply) => {
    const groupId = request.params.groupId;
    const sso = await store.ssoOf(groupId);
    if (!sso) return back(reply, "SSO_NOT_CONFIGURED");
    let config: oidc.Configuration;
    try {
      config = await configOf(sso);
    } catch (error) {
      console.error(`glimpse: SSO discovery for group ${groupId} failed:`, (error as Error).message);
      return back(reply, "SSO_FAILED");
    }
    const returnTo = request.query.return;
    const flow: Flow = { group: groupId, state: oidc.randomState(), nonce: oidc.randomNonce(), verifier: oidc.randomPKCECodeVerifier(), back: returnTo && CONSOLE_HASH.test(returnTo) ? returnTo : undefined };
    // Lax: the provider's redirect back is a top-level navigation from its site.
    reply.setCookie(FLOW_COOKIE, Buffer.from(JSON.stringify(flow)).toString("base64url"), {
      httpOnly: true,
      sameSite: "lax",
      secure: request.protocol === "https",
      path: CALLBACK,
      maxAge: FLOW_MAX_AGE_S,
    });
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: `${origin(request)}${CALLBACK}`,
      scope: "openid email profile",
      code_challenge: await oidc.calculatePKCECodeChallenge(flow.verifier),
      code_challenge_method: "S256",
      state: flow.state,
      nonce: flow.nonce,
    });
    return reply.redirect(url.href);
  });

  app.get(CALLBACK, async (request, reply) => {
    const raw = request.cookies[FLOW_COOKIE];
    reply.clearCookie(FLOW_COOKIE, { path: CALLBACK });
    let flow: Flow | null = null;
    try {
      flow = raw ? (JSON.parse(Buffer.from(raw, "base64url").toString()) as Flow) : null;
    } catch {
      // a cookie we did not write: start again
    }
    const sso = flow ? await store.ssoOf(flow.group) : null;
    if (!flow || !sso) return back(reply, "SSO_FAILED");
    let claims: Record<string, unknown>;
    try {
      const config = await configOf(sso);
      const tokens = await oidc.authorizationCodeGrant(config, new URL(request.url, origin(request)), {
        pkceCodeVerifier: flow.verifier,
        expectedState: flow.state,
        expectedNonce: flow.nonce,
        idTokenExpected: true,
      });
      claims = { ...tokens.claims() };
      // A provider that keeps the ID token minimal (as the spec prefers) gives e-mail and name at userinfo.
      if (claims.email === undefined || claims.name === undefined) {
        const info = await oidc.fetchUserInfo(config, tokens.access_token, String(claims.sub));
        claims = { ...info, ...claims };
      }
    } catch (error) {
      console.error(`glimpse: SSO sign-in for group ${flow.group} failed:`, (error as Error).message);
      return back(reply, "SSO_FAILED");
    }
    const why = refusal(sso, claims);
    if (why) {
      console.warn(`glimpse: SSO sign-in to group ${flow.group} refused (${why})`);
      return back(reply, "SSO_NOT_ALLOWED");
    }
    const username = typeof claims.email === "string" && claims.email ? claims.email.toLowerCase() : `${String(claims.sub)}@${new URL(sso.issuer).host}`;
    const displayName = typeof claims.name === "string" ? claims.name.slice(0, 200) : "";
    // The provider's subject is the person (an e-mail address can change); the address links them once.
    const subject = `${sso.issuer}|${String(claims.sub)}`;
    let agent = await store.agentForSsoSubject(subject);
    if (!agent) {
      agent = await store.getAgentByUsername(username);
      const linked = agent ? await store.ssoSubjectOf(agent.id) : null;
      if (agent && linked !== null) {
        console.warn(`glimpse: SSO sign-in to group ${flow.group} refused (${username} belongs to another person at the provider)`);
        return back(reply, "SSO_NOT_ALLOWED");
      }
      if (!agent) {
        // Just in time; a password nobody knows (they sign in through the provider).
        await store.createAgent(flow.group, username, await hashPassword(randomSecret()), displayName);
        agent = await store.getAgentByUsername(username);
        if (!agent) return back(reply, "SSO_FAILED");
      }
      if (agent.groupId === flow.group) await store.setSsoSubject(agent.id, subject);
    }
    if (agent.groupId !== flow.group) {
      console.warn(`glimpse: SSO sign-in to group ${flow.group} refused (${agent.username} is an agent of another group)`);
      return back(reply, "SSO_NOT_ALLOWED");
    }
    await startSignIn(request, reply, agent);
    return reply.redirect(`/console/${flow.back && CONSOLE_HASH.test(flow.back) ? flow.back : ""}`);
  });
}
