/**
 * One timer for all sockets: every second it closes sockets that did not say hello in time, pings
 * the others every `pingMs` (each at its own phase), and drops those that stopped answering.
 * Entries are plain data (no closures per socket): at 10,000 idle presence connections every
 * per-socket object shows in the heap (bench/presence.ts).
 */
import type { WebSocket } from "ws";
import type { Connection } from "./hub";

export interface Beat {
  socket: WebSocket;
  connection: Connection;
  helloBy: number;
  lastSeen: number;
  nextPing: number;
}

const PING = '{"t":"ping"}';
const HELLO_LATE = JSON.stringify({ t: "error", code: "HELLO_REQUIRED", message: "No hello arrived in time; the connection was closed." });

export class Heartbeat {
  private readonly beats = new Set<Beat>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly pingMs: number) {}

  add(socket: WebSocket, connection: Connection, helloTimeoutMs: number): Beat {
    const now = Date.now();
    const beat: Beat = { socket, connection, helloBy: now + helloTimeoutMs, lastSeen: now, nextPing: now + this.pingMs };
    this.beats.add(beat);
    this.timer ??= setInterval(() => this.tick(), Math.min(1000, this.pingMs));
    this.timer.unref();
    return beat;
  }

  remove(beat: Beat): void {
    this.beats.delete(beat);
    if (this.beats.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.beats.clear();
  }

  private tick(): void {
    const now = Date.now();
    for (const beat of this.beats) {
      const { socket } = beat;
      if (socket.readyState !== socket.OPEN) continue;
      if (!beat.connection.greeted()) {
        if (now >= beat.helloBy) {
          socket.send(HELLO_LATE);
          socket.close(4408, "HELLO_REQUIRED");
        }
        continue;
      }
      if (now < beat.nextPing) continue;
      beat.nextPing = now + this.pingMs;
      // An idle client that stopped answering pings is gone: free its slot.
      if (now - beat.lastSeen > this.pingMs * 2.5) socket.terminate();
      else socket.send(PING);
    }
  }
}
