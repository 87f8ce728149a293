/**
 * Who hears of a share request's changes: every agent watching the visitor (the requester and any
 * colleague on the same record), and the visitor's signalable browser for what changes its screen.
 */
import type { PresenceRegistry } from "./presence";
import type { RequestState, ShareRequest } from "./requests";

/** States that withdraw the overlay from the visitor's tab. */
const WITHDRAWN: ReadonlySet<RequestState> = new Set(["cancelled", "expired", "failed"]);

export function requestMessage(request: ShareRequest) {
  return { t: "shareRequest" as const, visitorId: request.visitorId, id: request.id, agent: request.agent, state: request.state, expiresAt: request.expiresAt };
}

export function requestChanged(presence: PresenceRegistry, request: ShareRequest, previous: RequestState): void {
  const { groupId, visitorId } = request;
  presence.toWatchers(groupId, visitorId, JSON.stringify(requestMessage(request)));
  if (request.state === "pending" && previous === "pending") {
    presence.signal(groupId, visitorId, JSON.stringify({ t: "shareRequest", id: request.id, agent: request.agent, expiresAt: request.expiresAt }));
  } else if (WITHDRAWN.has(request.state) && previous !== "accepted") {
    presence.signal(groupId, visitorId, JSON.stringify({ t: "requestEnded", id: request.id, state: request.state }));
  }
}
