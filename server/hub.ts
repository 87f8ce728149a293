import type { AgentSockets } from "./agent-sockets";
import type { ServerConfig } from "./config";
import type { Cluster } from "./cluster";
import type { Invites } from "./invites";
import type { Limits } from "./limits";
import type { Metrics } from "./metrics";
import type { PresenceRegistry } from "./presence";
import type { ShareRequests } from "./requests";
import type { SessionRegistry } from "./sessions";
import type { StoreApi } from "./store";
import type { Tunnels } from "./tunnel";

/** What the protocol handlers share. */
export interface Hub {
  store: StoreApi;
  registry: SessionRegistry;
  presence: PresenceRegistry;
  requests: ShareRequests;
  invites: Invites;
  limits: Limits;
  agentSockets: AgentSockets;
  config: ServerConfig;
  metrics: Metrics;
  /** Several nodes (GLIMPSE_REDIS_URL): this node among them, and its agents' tunnels to session owners. */
  cluster?: Cluster;
  tunnels?: Tunnels;
  /** Test and audit tap: every frames message relayed, exactly as relayed. Never stored by the server. */
  onRelay?: (sessionKey: string, text: string) => void;
  /** Test tap: every frame a visitor connection sent, before any processing. */
  onVisitorInbound?: (text: string) => void;
}

export interface Connection {
  /** `raw` is the frame as received, for relaying it byte for byte without re-encoding. */
  onText(text: string, raw: Buffer): void;
  onClose(): void;
  /** The client has said hello (connections that do not are closed after a timeout). */
  greeted(): boolean;
}
