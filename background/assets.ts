/**
 * Carries the resources a shared page uses (images, fonts, sprites, posters, stylesheets the
 * recorder could not inline) to the session's agents: fetched here with the visitor's access,
 * hashed, sent once per content, size-capped. The agent's browser then needs nothing from the
 * visitor's site (DESIGN §3; README "What the agent sees").
 */
import { cssDependencies, isCarried } from "~src/capture/urls";
import { ASSET_LIMITS, type AssetSkipReason, type VisitorToServer } from "~src/protocol";

export interface AssetDeps {
  send: (message: VisitorToServer) => void;
  fetch?: typeof fetch;
}

const PARALLEL = 4;

export class AssetCarrier {
  /** URLs already handled in this session (sent, linked or skipped). */
  private readonly seen = new Set<string>();
  /** Content already sent in this session, by SHA-256. */
  private readonly sent = new Set<string>();
  private readonly queue: string[] = [];
  private running = 0;
  private sessionBytes = 0;
  private session: string | null = null;

  constructor(private readonly deps: AssetDeps) {}

  /** Assets belong to one session: a new key starts from nothing (the server holds none of the old). */
  forSession(sessionKey: string | null): void {
    if (sessionKey === this.session) return;
    this.session = sessionKey;
    this.seen.clear();
    this.sent.clear();
    this.queue.length = 0;
    this.sessionBytes = 0;
  }

  want(urls: Iterable<string>): void {
    if (!this.session) return;
    for (const url of urls) {
      if (!isCarried(url) || this.seen.has(url)) continue;
      this.seen.add(url);
      this.queue.push(url);
    }
    this.pump();
  }

  private pump(): void {
    while (this.running < PARALLEL && this.queue.length > 0) {
      const url = this.queue.shift()!;
      const session = this.session;
      this.running++;
      void this.carry(url, session).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  private async carry(url: string, session: string | null): Promise<void> {
    const skip = (reason: AssetSkipReason) => session === this.session && this.deps.send({ t: "assetSkipped", url, reason });
    let body: Uint8Array;
    let mime: string;
    try {
      // The visitor's own access (cookies of the site): the agent may not be able to reach it at all.
      const response = await (this.deps.fetch ?? fetch)(url, { credentials: "include", cache: "force-cache" });
      if (!response.ok) return void skip("unreachable");
      mime = (response.headers.get("content-type") ?? "application/octet-stream").split(";")[0]!.trim().toLowerCase();
      const declared = Number(response.headers.get("content-length") ?? "0");
      if (declared > ASSET_LIMITS.assetBytes) {
        void response.body?.cancel();
        return void skip("too_large");
      }
      const read = await readCapped(response, ASSET_LIMITS.assetBytes);
      if (!read) return void skip("too_large");
      body = read;
    } catch {
      return void skip("unreachable");
    }
    if (session !== this.session) return;
    const hash = await sha256(body);
    if (session !== this.session) return;
    if (this.sent.has(hash)) return this.deps.send({ t: "asset", url, hash, mime, size: body.length, index: 0, count: 0, data: "" });
    if (this.sessionBytes + body.length > ASSET_LIMITS.sessionBytes) return void skip("session_cap");
    this.sessionBytes += body.length;
    this.sent.add(hash);
    const count = Math.max(1, Math.ceil(body.length / ASSET_LIMITS.pieceBytes));
    for (let index = 0; index < count; index++) {
      const piece = body.subarray(index * ASSET_LIMITS.pieceBytes, (index + 1) * ASSET_LIMITS.pieceBytes);
      this.deps.send({ t: "asset", url, hash, mime, size: body.length, index, count, data: base64(piece) });
    }
    // A stylesheet names more resources (fonts, backgrounds), relative to itself.
    if (mime === "text/css") this.want(cssDependencies(new TextDecoder().decode(body), url));
  }
}

async function readCapped(response: Response, cap: number): Promise<Uint8Array | null> {
  if (!response.body) {
    const whole = new Uint8Array(await response.arrayBuffer());
    return whole.length > cap ? null : whole;
  }
  const reader = response.body.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > cap) {
      void reader.cancel();
      return null;
    }
    parts.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}
