import * as v from "valibot";
import { glimpseError, type GlimpseError } from "../errors";
import { AgentToServer, ServerToAgent } from "./agent";
import { FRAMES_MAX_EVENTS } from "./common";
import { ServerToVisitor, VisitorToServer } from "./visitor";

export * from "./common";
export { AgentToServer, ServerToAgent, ServerToVisitor, VisitorToServer };

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: GlimpseError };

/**
 * The relay's hot path — every `frames` message of every session — checked by hand against the
 * rules of the `Frames` schema (common.ts): valibot builds a copy of every event, which cost the
 * relay about a third of its time, and the console about a tenth of its time to show a big page. Passes only what the schema passes (test/unit/frames-fast-path);
 * whatever it does not pass goes through the schema, which says what is wrong.
 */
export function framesOk(json: unknown): boolean {
  if (typeof json !== "object" || json === null) return false;
  const { t, seq, events } = json as Record<string, unknown>;
  if (t !== "frames" || typeof seq !== "number" || !Number.isInteger(seq) || seq < 0) return false;
  if (!Array.isArray(events) || events.length > FRAMES_MAX_EVENTS) return false;
  for (const event of events as unknown[]) {
    if (typeof event !== "object" || event === null) return false;
    const { type, timestamp } = event as Record<string, unknown>;
    if (typeof type !== "number" || !Number.isInteger(type) || typeof timestamp !== "number") return false;
  }
  return true;
}

/** Parse one frame of text. Never throws: bad input becomes a BAD_MESSAGE result. */
function parser<S extends v.GenericSchema>(schema: S, fast?: (json: unknown) => boolean) {
  return (text: string): ParseResult<v.InferOutput<S>> => {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return { ok: false, error: glimpseError("BAD_MESSAGE", "The message is not valid JSON.") };
    }
    if (fast?.(json)) return { ok: true, value: json as v.InferOutput<S> };
    // abortEarly: the first issue is all the answer says, and a huge bad array must not cost one issue per item.
    const result = v.safeParse(schema, json, { abortEarly: true });
    if (result.success) return { ok: true, value: result.output };
    const issue = result.issues[0];
    const path = issue.path?.map((p) => String(p.key)).join(".") ?? "";
    return {
      ok: false,
      error: glimpseError("BAD_MESSAGE", `Invalid message${path ? ` at "${path}"` : ""}: ${issue.message}`),
    };
  };
}

export const parseVisitorMessage = parser(VisitorToServer, framesOk);
export const parseAgentMessage = parser(AgentToServer);
export const parseServerToVisitor = parser(ServerToVisitor);
export const parseServerToAgent = parser(ServerToAgent, framesOk);
