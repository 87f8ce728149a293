import browser from "webextension-polyfill";
import { useEffect, useState } from "preact/hooks";
import { formatKey } from "~src/keys";
import type { HistoryEntry, Request, ResponseFor, Responses, StateBroadcast } from "~src/messages";
import { END_TEXT } from "~src/visitor/machine";
import "./popup.css";

const request = <R extends Request>(message: R) => browser.runtime.sendMessage(message) as Promise<ResponseFor<R>>;

type Data = Responses["getPopup"] & { tabId: number };

function Popup() {
  const [data, setData] = useState<Data | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = async () => {
    const [tab] = await browser.tabs.query({ active: true, currentWindow: true });
    if (tab?.id === undefined) return;
    const popup = await request({ type: "getPopup", tabId: tab.id, url: tab.url ?? "" });
    setData({ ...popup, tabId: tab.id });
  };

  useEffect(() => {
    void load();
    const onMessage = (message: unknown) => {
      if ((message as StateBroadcast)?.type === "glimpse:state") void load();
    };
    browser.runtime.onMessage.addListener(onMessage);
    return () => browser.runtime.onMessage.removeListener(onMessage);
  }, []);

  if (!data) return <main class="popup">Loading…</main>;
  const { session, init } = data;

  const act = async (message: Request) => {
    setError(null);
    const result = (await request(message)) as { ok: boolean; error?: { message: string } };
    if (!result.ok) setError(result.error?.message ?? "Something went wrong.");
    await load();
  };

  return (
    <main class="popup">
      <h1>Glimpse</h1>
      {!init.ok && <p class="warn" role="alert">{init.error.message}</p>}
      {error && <p class="warn" role="alert">{error}</p>}

      <section aria-label="Current session">
        {session.status === "live" ? (
          <>
            {session.keyType === "visitor" && <p>One-click session (no key needed)</p>}
            {session.sessionKey && (
              <p>
                Session key: <output class="key" aria-label="Session key">{formatKey(session.sessionKey)}</output>
              </p>
            )}
            <p role="status">
              {session.guests > 0 ? `${session.guests === 1 ? "An agent is" : `${session.guests} agents are`} viewing` : "Waiting for an agent to join…"}
              {session.connection === "reconnecting" && " (reconnecting…)"}
            </p>
            <button class="stop" onClick={() => act({ type: "stopShare" })}>Stop sharing</button>
          </>
        ) : session.status === "starting" ? (
          <p role="status">Starting…</p>
        ) : (
          <>
            {session.lastEnded && <p class="muted">Last session ended: {session.lastEnded.text}</p>}
            <button class="share" disabled={!init.ok || data.origin === null} onClick={() => act({ type: "startShare", tabId: data.tabId })}>
              Share screen
            </button>
            {data.origin === null && <p class="muted">This page cannot be shared.</p>}
          </>
        )}
      </section>

      <VisitorLink data={data} act={act} />

      {data.origin && (
        <label class="toggle">
          <input
            type="checkbox"
            checked={data.siteConfigured || data.siteEnabled}
            disabled={data.siteConfigured}
            onChange={(event) => act({ type: "setSiteEnabled", origin: data.origin!, enabled: event.currentTarget.checked })}
          />
          Show the Share screen button on {new URL(data.origin).host}
          {data.siteConfigured && <span class="muted"> (set by your support team)</span>}
        </label>
      )}

      <History entries={data.history} />
      <p class="muted server">
        Server {data.server.serverUrl.replace(/^https?:\/\//, "")} · group {data.server.groupId}
        {data.server.managed && " · managed by your organisation"}
      </p>
      <p>
        <a href="#" onClick={(event) => (event.preventDefault(), void browser.runtime.openOptionsPage())}>Settings</a>
      </p>
    </main>
  );
}

const PRESENCE_TEXT: Record<Data["presence"]["status"], string> = {
  off: "Offline",
  connecting: "Connecting…",
  online: "Online — agents can start a screen share",
  blurred: "Online in another browser (this one is not signalled)",
  error: "Not connected",
};

function VisitorLink({ data, act }: { data: Data; act: (message: Request) => Promise<void> }) {
  const [draft, setDraft] = useState("");
  if (!data.origin) return null;
  const presence = data.presence.origin === data.origin ? data.presence : null;
  return (
    <section aria-label="Visitor" class="visitor">
      <h2>Visitor</h2>
      {data.visitorId ? (
        <>
          <p>
            Visitor ID: <output aria-label="Visitor ID">{data.visitorId}</output>
            <span class="muted"> ({data.identitySource === "manual" ? "linked by hand" : data.identitySource === "rule" ? "from a site rule" : "from the site"})</span>
          </p>
          <p role="status" aria-label="Presence">
            {presence ? PRESENCE_TEXT[presence.status] : "Offline"}
            {presence?.status === "online" && (presence.verified ? " · verified" : " · unverified")}
            {presence?.error && <span class="warn"> {presence.error.message}</span>}
          </p>
          {data.identitySource === "manual" && (
            <button class="plain" onClick={() => act({ type: "linkVisitor", origin: data.origin!, visitorId: null })}>Unlink</button>
          )}
        </>
      ) : (
        <form
          onSubmit={(event) => {
            event.preventDefault();
            void act({ type: "linkVisitor", origin: data.origin!, visitorId: draft.trim() });
          }}
        >
          <label for="link-visitor">Link a visitor ID to {new URL(data.origin).host} (for testing)</label>
          <input id="link-visitor" value={draft} onInput={(e) => setDraft(e.currentTarget.value)} pattern="[A-Za-z0-9_@.+:\-]{1,128}" required />
          <button class="plain" type="submit">Link</button>
        </form>
      )}
    </section>
  );
}

function History({ entries }: { entries: HistoryEntry[] }) {
  if (entries.length === 0) return null;
  const time = (at: number | null) => (at ? new Date(at).toLocaleString() : "—");
  return (
    <section aria-label="Recent sessions">
      <h2>Recent sessions</h2>
      <table>
        <thead>
          <tr><th>Key</th><th>Site</th><th>Started</th><th>Ended</th><th>Agents</th><th>How it ended</th></tr>
        </thead>
        <tbody>
          {entries.map((entry) => (
            <tr key={entry.id}>
              <td>{entry.keyType === "random" ? entry.sessionKey : "one-click"}</td>
              <td>{entry.site.replace(/^https?:\/\//, "")}</td>
              <td>{time(entry.startedAt)}</td>
              <td>{time(entry.endedAt)}</td>
              <td>{entry.agents.join(", ") || "none"}</td>
              <td>{entry.endReason ? END_TEXT[entry.endReason] : "live"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export default Popup;
