/**
 * The one table of error codes. Every error that crosses a boundary (server → client, background →
 * UI) carries one of these codes and, by default, this message. The README's error table is
 * generated from the same entries (see test/unit/errors.test.ts, which keeps them in sync).
 */
export const ERRORS = {
  BAD_MESSAGE: "The message was not valid JSON or did not match the protocol. It was dropped.",
  MESSAGE_TOO_LARGE: "The message is larger than the server accepts. It was dropped.",
  VERSION_MISMATCH: "This Glimpse client speaks a different protocol version than the server. Update the extension or the console.",
  HELLO_REQUIRED: "The first message on a connection must be hello.",
  UNKNOWN_GROUP: "The group ID is not known to the server. Check the group ID in the extension's options.",
  NOT_AUTHORIZED: "Sign in to the agent console first (your sign-in may have expired).",
  INVALID_CREDENTIALS: "Wrong username or password.",
  SSO_NOT_CONFIGURED: "Company sign-in is not set up for that team. Check the team name, or sign in with your username and password.",
  SSO_FAILED: "Company sign-in did not complete (it was cancelled, took too long, or the identity provider refused it). Start again.",
  SSO_NOT_ALLOWED: "Your company account is not allowed into this team (its e-mail domain or group is not on the team's list). Ask your administrator.",
  EMBED_NOT_ALLOWED: "This page's site may not use the Glimpse widget for your team. Ask your administrator to allow it (admin command: embed).",
  PASSWORD_SIGN_IN_OFF: "Your team signs in with its company account only. Use company sign-in.",
  KEY_INVALID: "A session key is digits only. Check the key the visitor read to you.",
  KEY_NOT_FOUND: "No session has that key. Check the key with the visitor.",
  KEY_EXPIRED: "That session key has expired because no agent joined in time. Ask the visitor to share again.",
  SESSION_ENDED: "That session has already ended.",
  INVALID_STATE: "That action is not possible in the current state.",
  RESUME_FAILED: "The session could not be resumed; it has ended.",
  TOKEN_INVALID: "The visitor's identity token is invalid, expired or for another group. The site must sign a fresh token with the group secret.",
  VERIFICATION_REQUIRED: "This group accepts only verified visitors: the site must pass a signed token with the visitor ID.",
  NOT_LINKED: "A one-click session needs a visitor ID: the site (or the popup) must link one first.",
  VISITOR_OFFLINE: "The visitor is not online: no browser of theirs has the site open with Glimpse.",
  SERVER_UNREACHABLE: "The Glimpse server cannot be reached. Check your connection or the server URL in the extension's options.",
  PERMISSION_DENIED: "Glimpse cannot capture this tab (browser pages and the extension gallery cannot be shared).",
  RATE_LIMITED: "Too many attempts. Wait a minute and try again.",
  TOO_MANY_CONNECTIONS: "Too many connections from this address. Close other Glimpse windows or try again later.",
  FORBIDDEN_ORIGIN: "This request came from a page that may not use this Glimpse server.",
  ASSET_NOT_FOUND: "The visitor's browser has not sent that resource (yet), or the session is not yours.",
  REQUEST_PENDING: "Another agent has already asked this visitor to share. Wait until that request is answered, cancelled or expires.",
  REQUEST_NOT_FOUND: "That share request is no longer open (it was cancelled, expired or answered).",
  TICKET_INVALID: "The share request this session answers is no longer open. Ask the agent to send a new request.",
  VISITOR_VERIFIED_ELSEWHERE: "This visitor is online with a verified identity in another browser; a connection without a valid token cannot take over. The site must pass a fresh signed token.",
  ORIGIN_REQUIRED: "Visitor connections must come from the Glimpse extension (the request had no Origin header).",
  HOST_NOT_ALLOWED: "This server does not answer to that host name. Use the address your administrator gave you.",
  BUDGET_EXCEEDED: "This connection kept the server busier than one client may (too much or too deeply nested data); it was closed. Reload the page to reconnect.",
  CONTROL_NOT_GRANTED: "The visitor has not given you control of their page (or has taken it back, or is using the page right now). Ask for control first.",
  CONTROL_BUSY: "Another agent controls the visitor's page, or has asked to. Only one agent controls at a time.",
  CONTROL_REFUSED: "The visitor's page did not do that: the field is masked (passwords, payment, fields the site protects), the link leaves the shared site, or the element is gone.",
  INVITE_INVALID: "This invitation link cannot be used: it was used already, it expired (links last 10 minutes), its session has ended, or it is for another group. Ask your colleague for a new link.",
  NOT_READY: "This server node is not taking new clients (it is draining or cannot reach its database). Clients retry; behind a load balancer they reach another node.",
  INTERNAL: "Something went wrong on the server. Try again; if it persists, tell your administrator.",
} as const;

export type ErrorCode = keyof typeof ERRORS;

export interface GlimpseError {
  code: ErrorCode;
  message: string;
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(ERRORS, value);
}

export function glimpseError(code: ErrorCode, message: string = ERRORS[code]): GlimpseError {
  return { code, message };
}
