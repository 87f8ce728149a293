/** The stand-in for a CRM record: a visitor's presence, verified badge and Start screen share. */
import type { ServerToAgent } from "~src/protocol";
import { t } from "./t";

export type Presence = Extract<ServerToAgent, { t: "visitorPresence" }>;
export type ShareRequest = Extract<ServerToAgent, { t: "shareRequest" }>;

const OPEN = new Set(["pending", "displayed", "accepted"]);

export interface VisitorRecordProps {
  visitorId: string | null;
  presence: Presence | null;
  /** The visitor's latest share request (anyone's), as the server last told. */
  request: ShareRequest | null;
  /** This console's agent. */
  me: string;
  error: string | null;
  connected: boolean;
  onLookup: (visitorId: string) => void;
  onStart: () => void;
  onCancel: () => void;
}

export function VisitorRecord({ visitorId, presence, request, me, error, connected, onLookup, onStart, onCancel }: VisitorRecordProps) {
  const open = request !== null && OPEN.has(request.state);
  const mine = request !== null && request.agent === me;
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
        <h2>{t("visitorLookup")}</h2>
        <label for="visitor-id">{t("visitorId")}</label>
        <input id="visitor-id" name="visitor-id" defaultValue={visitorId ?? ""} autocomplete="off" required />
        <button type="submit">{t("lookUp")}</button>
      </form>
      {visitorId && (
        <section class="card" aria-label={t("visitorRecord")}>
          <h2>{presence?.name ?? visitorId}</h2>
          <p class="muted">{t("visitorIdLine", { id: visitorId })}</p>
          <p data-testid="presence-state">
            <span class={`dot ${presence?.online ? "on" : "off"}`} />
            {presence?.online ? t("online") : t("offline")}
            {presence && (
              <>
                {t("presenceSeparator")}
                <span class={`badge ${presence.verified ? "verified" : ""}`}>{presence.verified ? t("verified") : t("unverified")}</span>
              </>
            )}
          </p>
          {presence?.online && presence.page && (
            <p data-testid="presence-page">
              {t("onPage")} <strong>{presence.page.title || t("untitled")}</strong>
              <span class="url"> {presence.page.url}</span>
              {!presence.visible && <span class="muted"> {t("backgroundTab")}</span>}
            </p>
          )}
          <button disabled={!connected || !presence?.online || open} onClick={onStart}>
            {t("startScreenShare")}
          </button>
          {mine && (request.state === "pending" || request.state === "displayed") && (
            <button class="plain" onClick={onCancel}>{t("cancel")}</button>
          )}
          {request && mine && (
            <p role="status" data-testid="terms-state" class={["declined", "expired", "failed"].includes(request.state) ? "error" : "info"}>
              {t(`request_${request.state}`)}
            </p>
          )}
          {request && !mine && open && (
            <p role="status" data-testid="terms-state" class="info">{t("requestByOther", { agent: request.agent, state: request.state })}</p>
          )}
          {error && <p class="error" role="alert">{error}</p>}
        </section>
      )}
    </main>
  );
}
