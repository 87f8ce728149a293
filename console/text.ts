import type { EndReason } from "~src/protocol";

/** What the agent reads when a session ends, per reason. */
export const END_TEXT_AGENT: Record<EndReason, string> = {
  visitor_stopped: "the visitor stopped sharing.",
  agent_ended: "an agent ended it.",
  expired: "the key expired before anyone joined.",
  visitor_left: "the visitor's connection was lost and did not come back.",
  server_shutdown: "the server was restarted.",
};
