/** The stand-in for a CRM record: a visitor's presence, verified badge and Start screen share. */
import type { ServerToAgent } from "~src/protocol";

export type Presence = Extract<ServerToAgent, { t: "visitorPresence" }>;
export type TermsState = "idle" | "sent" | "displayed" | "declined" | "accepted";

const TERMS_TEXT: Record<TermsState, string> = {
  idle: "",
  sent: "Request sent — waiting for the visitor's browser…",
  displayed: "The visitor sees the request (displayed).",
  declined: "The visitor declined.",
  accepted: "The visitor accepted — joining…",
};

export interface VisitorRecordProps {
  visitorId: string | null;
  presence: Presence | null;
  terms: TermsState;
  error: string | null;
  connected: boolean;
  onLookup: (visitorId: string) => void;
  onStart: () => void;
  onCancel: () => void;
}

export function VisitorRecord({ visitorId, presence, terms, error, connected, onLookup, onStart, onCancel }: VisitorRecordProps) {
  const waiting = terms === "sent" || terms === "displayed" || terms === "accepted";
  return (
    <main>
      <form
        class="card"
        onSubmit={(event) => {
          event.preventDefault();
          const value = String(new FormData(event.currentTarget as HTMLFormElement).get("visitor-id") ?? "").trim();
          if (value) onLookup(value);
        }}
      >
        <h2>Visitor lookup</h2>
        <label for="visitor-id">Visitor ID</label>
        <input id="visitor-id" name="visitor-id" defaultValue={visitorId ?? ""} autocomplete="off" required />
        <button type="submit">Look up</button>
      </form>
      {visitorId && (
        <section class="card" aria-label="Visitor record">
          <h2>{presence?.name ?? visitorId}</h2>
          <p class="muted">Visitor ID {visitorId}</p>
          <p data-testid="presence-state">
            <span class={`dot ${presence?.online ? "on" : "off"}`} />
            {presence?.online ? "Online" : "Offline"}
            {presence && <span class={`badge ${presence.verified ? "verified" : ""}`}>{presence.verified ? "Verified" : "Unverified"}</span>}
          </p>
          {presence?.online && presence.page && (
            <p data-testid="presence-page">
              On <strong>{presence.page.title || "(untitled)"}</strong>
              <span class="url"> {presence.page.url}</span>
              {!presence.visible && <span class="muted"> (tab in the background)</span>}
            </p>
          )}
          <button disabled={!connected || !presence?.online || waiting} onClick={onStart}>
            Start screen share
          </button>
          {waiting && terms !== "accepted" && (
            <button class="plain" onClick={onCancel}>Cancel</button>
          )}
          {terms !== "idle" && <p role="status" data-testid="terms-state" class={terms === "declined" ? "error" : "info"}>{TERMS_TEXT[terms]}</p>}
          {error && <p class="error" role="alert">{error}</p>}
        </section>
      )}
    </main>
  );
}
