import type { Hub } from "./hub";
import { send, type Peer } from "./peer";
import type { LiveSession } from "./sessions";

/** Put an agent into a session: by key, or automatically when the one-click session it waited for starts. */
export function joinSession(hub: Hub, session: LiveSession, agent: Peer, username: string): void {
  if (hub.registry.ofAgent(agent)) hub.registry.leave(agent);
  send(agent, {
    t: "joined",
    sessionKey: session.key,
    keyType: session.keyType,
    page: session.page,
    visitorConnected: session.visitor !== null,
  });
  hub.registry.join(session, agent, username);
  if (session.paused) send(agent, { t: "paused", reason: session.paused });
  if (session.control) send(agent, { t: "controlState", agent: session.control.agent, state: session.control.state });
  // A late joiner needs a full snapshot to see anything at all.
  if (session.visitor) send(session.visitor, { t: "snapshotRequest" });
}
