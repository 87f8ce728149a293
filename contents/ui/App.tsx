import { useState } from "preact/hooks";
import type { GlimpseError } from "~src/errors";
import { formatKey } from "~src/keys";
import type { SessionView } from "~src/messages";
import { request } from "./ext";
import { t } from "./t";
import { Terms } from "./Terms";
import { trusted } from "./trusted";
import type { UiProps } from "./types";

export function App({ terms, onTerms, ...props }: UiProps) {
  return (
    <>
      {terms && <Terms agent={terms.agent} groupName={terms.groupName} onAnswer={onTerms} />}
      {!props.customUi && <Widget {...props} />}
    </>
  );
}

/** The visitor reads errors in their language: by code, not the server's English text. */
export const errorText = (error: Pick<GlimpseError, "code">) => t(`error_${error.code}`);

export const endedText = (ended: NonNullable<SessionView["lastEnded"]>) =>
  ended.reason === "error" && ended.code ? errorText({ code: ended.code }) : t(`end_${ended.reason}`);

function Widget({ session, init, thisTab, onRetryInit }: Omit<UiProps, "terms" | "onTerms" | "customUi">) {
  const [error, setError] = useState<string | null>(null);
  const act = async (message: Parameters<typeof request>[0]) => {
    setError(null);
    try {
      const result = (await request(message)) as { ok: boolean; error?: GlimpseError };
      if (!result.ok) setError(result.error ? errorText(result.error) : t("errGeneric"));
    } catch {
      setError(t("errReload"));
    }
  };

  if (error) {
    return (
      <div class="notice" role="alert">
        <div>{error}</div>
        <div class="row">
          <button class="plain" onClick={() => setError(null)}>{t("close")}</button>
        </div>
      </div>
    );
  }

  if (session.status === "live" && thisTab) {
    const viewing = session.guests > 0;
    return (
      <section class="panel" aria-label={t("sharingThisTab")}>
        <h2>{viewing ? t("sharingThisTab") : session.keyType === "visitor" ? t("startingOneClick") : t("shareReady")}</h2>
        {session.sessionKey && !viewing && (
          <>
            <p class="muted">{t("readKey")}</p>
            <output class="key" aria-label={t("sessionKey")}>{formatKey(session.sessionKey)}</output>
          </>
        )}
        {viewing ? (
          <p class="viewing" role="status">
            {session.guests === 1 ? t("agentViewing") : t("agentsViewing", { count: session.guests })}
            {session.agents.length > 0 && <span class="muted"> ({session.agents.join(", ")})</span>}
          </p>
        ) : (
          <p class="muted" role="status">{session.keyType === "visitor" ? t("connectingToAgent") : t("waitingForAgent")}</p>
        )}
        {session.connection === "reconnecting" && <p class="muted">{t("reconnecting")}</p>}
        <p class="muted">{t("maskedNote")}</p>
        <button class="stop" onClick={trusted(() => act({ type: "stopShare" }))}>{t("stopSharing")}</button>
      </section>
    );
  }

  if (session.status === "starting" && thisTab) {
    return <button class="share" disabled>{t("starting")}</button>;
  }

  if (session.status === "idle" && session.lastEnded && thisTab) {
    return (
      <div class="notice" role="status">
        <strong>{t("shareEnded")}</strong> {endedText(session.lastEnded)}
        <div class="row">
          <button class="plain" onClick={() => act({ type: "dismissEnded" })}>{t("ok")}</button>
        </div>
      </div>
    );
  }

  if (!init.ok) {
    return (
      <div class="notice" role="status">
        <strong>{t("unavailable")}</strong> {errorText(init.error)}
        <div class="row">
          <button class="plain" onClick={onRetryInit}>{t("tryAgain")}</button>
        </div>
      </div>
    );
  }

  if (session.status !== "idle") {
    return <button class="share" disabled title={t("sharingAnotherTabTitle")}>{t("sharingAnotherTab")}</button>;
  }

  return (
    <button class="share" onClick={trusted(() => act({ type: "startShare" }))}>
      {t("shareScreen")}
    </button>
  );
}
