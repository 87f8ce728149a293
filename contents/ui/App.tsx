import { useState } from "preact/hooks";
import type { GlimpseError } from "~src/errors";
import { formatKey } from "~src/keys";
import type { SessionView } from "~src/messages";
import { ext, request } from "./ext";
import { t } from "./t";
import { GuardedButton } from "./GuardedButton";
import { trusted } from "./trusted";
import type { UiProps } from "./types";

export function App({ terms, ...props }: UiProps) {
  return (
    <>
      {!props.customUi && <Widget {...props} />}
      {terms && <TermsFrame key={terms} />}
    </>
  );
}

/**
 * The consent dialog lives in the extension's own frame (contents/ui/terms-frame.tsx): the page can
 * reach neither its text nor its buttons. Focus moves into it so the keyboard answers it at once.
 */
function TermsFrame() {
  return (
    <iframe
      class="terms-frame"
      src={ext!.runtime.getURL("terms.html")}
      title={t("termsTitle")}
      onLoad={(event) => (event.currentTarget as HTMLIFrameElement).focus()}
    />
  );
}

/** The visitor reads errors in their language: by code, not the server's English text. */
export const errorText = (error: Pick<GlimpseError, "code">) => t(`error_${error.code}`);

export const endedText = (ended: NonNullable<SessionView["lastEnded"]>) =>
  ended.reason === "error" && ended.code ? errorText({ code: ended.code }) : t(`end_${ended.reason}`);

function Widget({ session, init, thisTab, onRetryInit }: Omit<UiProps, "terms" | "customUi">) {
  const [error, setError] = useState<string | null>(null);
  const [obscured, setObscured] = useState(false);
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
        <h2>{session.paused ? t("sharingPaused") : viewing ? t("sharingThisTab") : session.keyType === "visitor" ? t("startingOneClick") : t("shareReady")}</h2>
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
        {session.paused && <p class="muted" role="status">{t("pausedNote")}</p>}
        {session.control?.state === "asked" && (
          <div class="control" role="alertdialog" aria-label={t("controlAsk", { agent: session.control.agent })}>
            <strong>{t("controlAsk", { agent: session.control.agent })}</strong>
            <p class="muted">{t("controlAskDetails")}</p>
            {obscured && <p class="warning" role="alert">{t("uiObscured")}</p>}
            <div class="row">
              <button class="plain" onClick={trusted(() => act({ type: "controlAnswer", allow: false }))}>{t("decline")}</button>
              <GuardedButton class="share" onPress={() => void act({ type: "controlAnswer", allow: true })} onObscured={setObscured}>{t("allowControl")}</GuardedButton>
            </div>
          </div>
        )}
        {(session.control?.state === "granted" || session.control?.state === "suspended") && (
          <div class="control" role="status">
            <strong>{t("agentControlling", { agent: session.control.agent })}</strong>
            {session.control.state === "suspended" && <p class="muted">{t("controlSuspended")}</p>}
            <button class="stop" onClick={trusted(() => act({ type: "controlStop" }))}>{t("stopControl")}</button>
          </div>
        )}
        {viewing && !session.paused && (
          <button class="plain wide" onClick={trusted(() => act({ type: "setMarksHidden", hidden: !session.marksHidden }))}>
            {session.marksHidden ? t("showMarks") : t("hideMarks")}
          </button>
        )}
        {(viewing || session.paused) && (
          <button class="plain wide" onClick={trusted(() => act({ type: session.paused ? "resumeShare" : "pauseShare" }))}>
            {session.paused ? t("resumeSharing") : t("pauseSharing")}
          </button>
        )}
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
    <>
      {obscured && <p class="notice warning" role="alert">{t("uiObscured")}</p>}
      <GuardedButton class="share" onPress={() => void act({ type: "startShare" })} onObscured={setObscured}>
        {t("shareScreen")}
      </GuardedButton>
    </>
  );
}
