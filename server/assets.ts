/**
 * A live session's carried resources: held in memory for the session's lifetime and dropped with
 * it, never written to disk (DESIGN §5: the server relays content and never stores it). Content is
 * kept once per SHA-256; URLs point at it. Capped per asset and per session like the extension.
 */
import { createHash } from "node:crypto";
import { ASSET_LIMITS, type Asset, type AssetSkipReason } from "../src/protocol";

export type AssetLookup = { kind: "asset"; mime: string; body: Buffer } | { kind: "skipped"; reason: AssetSkipReason };

interface Pending {
  mime: string;
  size: number;
  count: number;
  parts: (Buffer | undefined)[];
  /** Bytes and pieces received so far. */
  received: number;
  pieces: number;
}

/** How long a request for an asset not yet arrived waits for it. */
export const ASSET_WAIT_MS = 15_000;

export class SessionAssets {
  private readonly byHash = new Map<string, { mime: string; body: Buffer }>();
  private readonly pending = new Map<string, Pending>();
  private readonly byUrl = new Map<string, string | { skipped: AssetSkipReason }>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private bytes = 0;

  get size(): number {
    return this.bytes;
  }

  /**
   * Takes one piece; answers why it was refused, or null. A piece that does not fit leaves the URL
   * marked unreachable, so the agent's view gets a placeholder at once instead of waiting.
   */
  put(message: Asset): AssetSkipReason | "bad_piece" | null {
    const refused = this.take(message);
    if (refused === "bad_piece") this.skip(message.url, "unreachable");
    return refused;
  }

  private take(message: Asset): AssetSkipReason | "bad_piece" | null {
    const { url, hash, mime, size, index, count, data } = message;
    if (count === 0) {
      if (!this.byHash.has(hash)) return "bad_piece";
      return this.link(url, hash), null;
    }
    if (index >= count) return "bad_piece";
    if (this.byHash.has(hash)) return this.link(url, hash), null;
    let entry = this.pending.get(hash);
    if (!entry) {
      if (this.bytes + size > ASSET_LIMITS.sessionBytes) return this.skip(url, "session_cap"), "session_cap";
      this.bytes += size; // reserved now, so parallel uploads cannot overrun the cap together
      entry = { mime, size, count, parts: Array.from<Buffer | undefined>({ length: count }), received: 0, pieces: 0 };
      this.pending.set(hash, entry);
    }
    if (entry.count !== count || entry.parts[index]) return "bad_piece";
    const piece = Buffer.from(data, "base64");
    entry.parts[index] = piece;
    entry.received += piece.length;
    entry.pieces++;
    if (entry.received > entry.size) return this.drop(hash, entry), "bad_piece";
    if (entry.pieces < entry.count) return null;
    this.pending.delete(hash);
    const body = Buffer.concat(entry.parts as Buffer[]);
    // The content must be what the visitor said it is: a hash names one content for every URL.
    if (body.length !== entry.size || createHash("sha256").update(body).digest("hex") !== hash) return this.drop(hash, entry), "bad_piece";
    this.byHash.set(hash, { mime: entry.mime, body });
    this.link(url, hash);
    return null;
  }

  skip(url: string, reason: AssetSkipReason): void {
    this.byUrl.set(url, { skipped: reason });
    this.wake(url);
  }

  lookup(url: string): AssetLookup | null {
    const entry = this.byUrl.get(url);
    if (entry === undefined) return null;
    if (typeof entry !== "string") return { kind: "skipped", reason: entry.skipped };
    const asset = this.byHash.get(entry);
    return asset ? { kind: "asset", ...asset } : null;
  }

  /** The asset, waiting up to `waitMs` for it to arrive (the agent's view may ask first). */
  async get(url: string, waitMs = ASSET_WAIT_MS): Promise<AssetLookup | null> {
    const found = this.lookup(url);
    if (found || waitMs <= 0) return found;
    await new Promise<void>((resolve) => {
      let set = this.waiters.get(url);
      if (!set) this.waiters.set(url, (set = new Set()));
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0 && this.waiters.get(url) === set) this.waiters.delete(url);
        resolve();
      };
      const timer = setTimeout(done, waitMs);
      timer.unref();
      set.add(done);
    });
    return this.lookup(url);
  }

  /** The session ended: everything goes, and anyone still waiting is answered. */
  clear(): void {
    this.byHash.clear();
    this.pending.clear();
    this.byUrl.clear();
    this.bytes = 0;
    for (const url of [...this.waiters.keys()]) this.wake(url);
  }

  private link(url: string, hash: string): void {
    this.byUrl.set(url, hash);
    this.wake(url);
  }

  private drop(hash: string, entry: Pending): void {
    this.pending.delete(hash);
    this.bytes -= entry.size;
  }

  private wake(url: string): void {
    for (const done of [...(this.waiters.get(url) ?? [])]) done();
  }
}
