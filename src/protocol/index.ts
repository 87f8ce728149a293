import * as v from "valibot";
import { glimpseError, type GlimpseError } from "../errors";
import { AgentToServer, ServerToAgent } from "./agent";
import { ServerToVisitor, VisitorToServer } from "./visitor";

export * from "./common";
export { AgentToServer, ServerToAgent, ServerToVisitor, VisitorToServer };

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: GlimpseError };

/** Parse one frame of text. Never throws: bad input becomes a BAD_MESSAGE result. */
function parser<S extends v.GenericSchema>(schema: S) {
  return (text: string): ParseResult<v.InferOutput<S>> => {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return { ok: false, error: glimpseError("BAD_MESSAGE", "The message is not valid JSON.") };
    }
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

export const parseVisitorMessage = parser(VisitorToServer);
export const parseAgentMessage = parser(AgentToServer);
export const parseServerToVisitor = parser(ServerToVisitor);
export const parseServerToAgent = parser(ServerToAgent);
