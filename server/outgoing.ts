/**
 * Messages to clients, framed (and compressed) once however many sockets they go to. A visitor's
 * frames fan out to every agent of the session: `ws` would turn the text into bytes, frame it and
 * deflate it again for each socket. Here one `Outgoing` holds the WebSocket frame — plain, and
 * deflated where a socket negotiated permessage-deflate — and every socket writes the same bytes.
 *
 * Sharing one deflated payload needs each message compressed on its own: the server negotiates
 * `server_no_context_takeover` (server/app.ts), as RFC 7692 lets it. Clients keep their own
 * context for what they send (the visitor's uplink is unchanged); messages to agents compress a
 * little less, for one deflate per fan-out instead of one per agent.
 *
 * The frames go straight to the socket's sender (`_sender.sendFrame`, what engine.io does for
 * socket.io's pre-encoded broadcasts). Every data message to a socket takes this path, so `ws`
 * never has a compression of its own in flight that a frame written here could overtake.
 */
import { constants, deflateRawSync } from "node:zlib";
import * as wsModule from "ws";
import type WebSocket from "ws";
import { corkForTurn } from "./coalesce";
import type { Duplex } from "node:stream";

/** Messages smaller than this go uncompressed (pings, input events): not worth a deflate. */
export const COMPRESS_THRESHOLD = 1024;

interface FrameSender {
  sendFrame(list: Buffer[], cb?: (error?: Error) => void): void;
}
type SenderClass = { frame(data: Buffer, options: object): Buffer[] };
// A named export of ws's ES module wrapper (its CommonJS export hangs it on WebSocket instead).
const Sender = ((wsModule as unknown as { Sender?: SenderClass }).Sender ?? (wsModule as unknown as { default: { Sender: SenderClass } }).default.Sender)!;
const frame = (data: Buffer, options: object) => Sender.frame(data, options);
/** RFC 7692 7.2.1: a message deflated with a sync flush goes without its last 4 bytes (00 00 ff ff). */
const TRAILER = 4;

export class Outgoing {
  private bytes: Buffer | null = null;
  private plain: Buffer[] | null = null;
  private deflated: Buffer[] | null = null;

  constructor(readonly data: string | Buffer) {}

  private payload(): Buffer {
    return (this.bytes ??= typeof this.data === "string" ? Buffer.from(this.data) : this.data);
  }

  /** The frame for a socket that did (or did not) negotiate permessage-deflate. */
  frames(deflate: boolean): Buffer[] {
    const payload = this.payload();
    if (!deflate || payload.length < COMPRESS_THRESHOLD) {
      return (this.plain ??= frame(payload, { fin: true, rsv1: false, opcode: 1, mask: false, readOnly: true }));
    }
    if (!this.deflated) {
      const compressed = deflateRawSync(payload, { level: 1, finishFlush: constants.Z_SYNC_FLUSH });
      this.deflated = frame(compressed.subarray(0, compressed.length - TRAILER), { fin: true, rsv1: true, opcode: 1, mask: false, readOnly: true });
    }
    return this.deflated;
  }
}

/**
 * Write `message` to an open socket, deflated if `deflate` (the socket negotiated it); its
 * stream's writes of this turn leave together (server/coalesce.ts).
 */
export function writeMessage(socket: WebSocket, stream: Duplex | undefined, deflate: boolean, message: string | Buffer | Outgoing): void {
  if (socket.readyState !== socket.OPEN) return;
  const out = message instanceof Outgoing ? message : new Outgoing(message);
  if (stream) corkForTurn(stream);
  (socket as unknown as { _sender: FrameSender })._sender.sendFrame(out.frames(deflate));
}
