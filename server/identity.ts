/**
 * Visitor identity tokens: a JWT (HS256) signed by the site's backend with the group secret,
 * `sub` = visitor ID, `aud` = group ID, short expiry. Verified here; the agent sees the result.
 */
import { jwtVerify, SignJWT } from "jose";
import type { ErrorCode } from "../src/errors";
import type { Group } from "./store";

export type IdentityResult = { ok: true; verified: boolean } | { ok: false; code: ErrorCode; message: string };

export async function verifyIdentity(group: Group, visitorId: string, token: string | undefined, maxAgeS: number): Promise<IdentityResult> {
  if (!token) {
    return group.requireVerified
      ? { ok: false, code: "VERIFICATION_REQUIRED", message: "This group accepts only verified visitors: pass a token signed with the group secret." }
      : { ok: true, verified: false };
  }
  if (!group.secret) return { ok: false, code: "TOKEN_INVALID", message: "This group has no signing secret configured." };
  try {
    const { payload } = await jwtVerify(token, new TextEncoder().encode(group.secret), {
      algorithms: ["HS256"],
      audience: group.id,
      subject: visitorId,
      maxTokenAge: `${maxAgeS}s`,
      requiredClaims: ["exp", "iat", "sub", "aud"],
    });
    return payload.sub === visitorId ? { ok: true, verified: true } : { ok: false, code: "TOKEN_INVALID", message: "The token is for another visitor." };
  } catch (error) {
    const reason = (error as { code?: string }).code === "ERR_JWT_EXPIRED" ? "it has expired" : "its signature, group or visitor does not match";
    return { ok: false, code: "TOKEN_INVALID", message: `The visitor's identity token was refused: ${reason}.` };
  }
}

/** What a site's backend does on login (used by the demo shop and the tests). */
export function signVisitorToken(group: Pick<Group, "id" | "secret">, visitorId: string, expiresInS = 5 * 60): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: "HS256" })
    .setSubject(visitorId)
    .setAudience(group.id)
    .setIssuedAt()
    .setExpirationTime(`${expiresInS}s`)
    .sign(new TextEncoder().encode(group.secret));
}
