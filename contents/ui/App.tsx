import { useState } from "preact/hooks";
import { formatKey } from "~src/keys";
import { request } from "./ext";
import { Terms } from "./Terms";
import type { UiProps } from "./types";

type AppProps = UiProps;

export function App({ terms, onTerms, ...props }: AppProps) {
  return (
    <>
      {terms && <Terms agent={terms.agent} groupName={terms.groupName} onAnswer={onTerms} />}
      {!props.customUi && <Widget {...props} />}
    </>
  );
}

function Widget({ session, init, thisTab, onRetryInit }: Omit<AppProps, "terms" | "onTerms" | "customUi">) {
  const [error, setError] = useState<string | null>(null);
  const act = async (message: Parameters<typeof request>[0]) => {
    setError(null);
    try {
      const result = (await request(message)) as { ok: boolean; error?: { message: string } };
      if (!result.ok) setError(result.error?.message ?? "Something went wrong.");
    } catch {
      setError("Glimpse was updated or removed. Reload the page.");
    }
  };

  if (error) {
    return (
      <div class="notice" role="alert">
        <div>{error}</div>
        <div class="row">
          <button class="plain" onClick={() => setError(null)}>Close</button>
        </div>
      </div>
    );
  }

  if (session.status === "live" && thisTab) {
    const viewing = session.guests > 0;
    return (
      <section class="panel" aria-label="Screen share">
        <h2>{viewing ? "Sharing this tab" : session.keyType === "visitor" ? "Starting screen share…" : "Screen share ready"}</h2>
        {session.sessionKey && !viewing && (
          <>
            <p class="muted">Read this key to your support agent:</p>
            <output class="key" aria-label="Session key">{formatKey(session.sessionKey)}</output>
          </>
        )}
        {viewing ? (
          <p class="viewing" role="status">
            {session.guests === 1 ? "An agent is viewing" : `${session.guests} agents are viewing`}
            {session.agents.length > 0 && <span class="muted"> ({session.agents.join(", ")})</span>}
          </p>
        ) : (
          <p class="muted" role="status">{session.keyType === "visitor" ? "Connecting you to the agent…" : "Waiting for an agent to join…"}</p>
        )}
        {session.connection === "reconnecting" && <p class="muted">Reconnecting to the server…</p>}
        <p class="muted">Password and payment fields are never shown.</p>
        <button class="stop" onClick={() => act({ type: "stopShare" })}>Stop sharing</button>
      </section>
    );
  }

  if (session.status === "starting" && thisTab) {
    return <button class="share" disabled>Starting…</button>;
  }

  if (session.status === "idle" && session.lastEnded && thisTab) {
    return (
      <div class="notice" role="status">
        <strong>Screen share ended.</strong> {session.lastEnded.text}
        <div class="row">
          <button class="plain" onClick={() => act({ type: "dismissEnded" })}>OK</button>
        </div>
      </div>
    );
  }

  if (!init.ok) {
    return (
      <div class="notice" role="status">
        <strong>Screen share is unavailable.</strong> {init.error.message}
        <div class="row">
          <button class="plain" onClick={onRetryInit}>Try again</button>
        </div>
      </div>
    );
  }

  if (session.status !== "idle") {
    return <button class="share" disabled title="A screen share is running in another tab">Sharing another tab</button>;
  }

  return (
    <button class="share" onClick={() => act({ type: "startShare" })}>
      Share screen
    </button>
  );
}
