import type { ErrorCode } from "../src/errors";
import { glimpseError } from "../src/errors";
import type { ServerToAgent, ServerToVisitor } from "../src/protocol";
import type { Outgoing } from "./outgoing";

/** One connected socket as the session logic sees it; app.ts adapts `ws` sockets to this. */
export interface Peer {
  readonly id: number;
  /**
   * Send pre-serialised text; a Buffer is sent as is (relayed frames are never re-encoded); an
   * Outgoing is framed and compressed once for every peer it goes to (server/outgoing.ts).
   */
  sendRaw(text: string | Buffer | Outgoing): void;
  close(code: number, reason: string): void;
}

export function send(peer: Peer, message: ServerToVisitor | ServerToAgent): void {
  peer.sendRaw(JSON.stringify(message));
}

export function sendError(peer: Peer, code: ErrorCode, message?: string): void {
  send(peer, { t: "error", ...glimpseError(code, message) });
}
