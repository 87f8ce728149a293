import browser from "webextension-polyfill";
import { useEffect, useState } from "preact/hooks";
import type { ErrorCode, GlimpseError } from "~src/errors";
import { formatKey } from "~src/keys";
import type { HistoryEntry, Request, ResponseFor, Responses, StateBroadcast } from "~src/messages";
import { t } from "./t";
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

  if (!data) return <main class="popup">{t("loading")}</main>;
  const { session, init } = data;

  const act = async (message: Request) => {
    setError(null);
    const result = (await request(message)) as { ok: boolean; error?: GlimpseError };
    if (!result.ok) setError(result.error ? t(`error_${result.error.code}`) : t("errGeneric"));
    await load();
  };

  return (
    <main class="popup">
      <h1>Glimpse</h1>
      {!init.ok && <p class="warn" role="alert">{t(`error_${init.error.code}`)}</p>}
      {error && <p class="warn" role="alert">{error}</p>}

      <section aria-label={t("currentSession")}>
        {session.status === "live" ? (
          <>
            {session.keyType === "visitor" && <p>{t("oneClickSession")}</p>}
            {session.sessionKey && (
              <p>
                {t("sessionKeyColon")} <output class="key" aria-label={t("sessionKey")}>{formatKey(session.sessionKey)}</output>
              </p>
            )}
            <p role="status">
              {session.guests === 0 ? t("waitingForAgent") : session.guests === 1 ? t("agentViewing") : t("agentsViewing", { count: session.guests })}
              {session.connection === "reconnecting" && ` ${t("reconnectingShort")}`}
            </p>
            <button class="stop" onClick={() => act({ type: "stopShare" })}>{t("stopSharing")}</button>
          </>
        ) : session.status === "starting" ? (
          <p role="status">{t("starting")}</p>
        ) : (
          <>
            {session.lastEnded && <p class="muted">{t("lastEnded", { text: endText(session.lastEnded.reason, session.lastEnded.code) })}</p>}
            <button class="share" disabled={!init.ok || data.origin === null} onClick={() => act({ type: "startShare", tabId: data.tabId })}>
              {t("shareScreen")}
            </button>
            {data.origin === null && <p class="muted">{t("cannotShare")}</p>}
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
          {t("showButtonOn", { host: new URL(data.origin).host })}
          {data.siteConfigured && <span class="muted"> {t("setByTeam")}</span>}
        </label>
      )}

      <History entries={data.history} />
      <p class="muted server">
        {t("serverLine", { server: data.server.serverUrl.replace(/^https?:\/\//, ""), group: data.server.groupId })}
        {data.server.managed && ` · ${t("managedByOrg")}`}
      </p>
      <p>
        <a href="#" onClick={(event) => (event.preventDefault(), void browser.runtime.openOptionsPage())}>{t("settings")}</a>
      </p>
    </main>
  );
}

/** Text for an end reason (or, for an error, its code), in the visitor's language. */
const endText = (reason: NonNullable<HistoryEntry["endReason"]>, code: ErrorCode | null) => (reason === "error" && code ? t(`error_${code}`) : t(`end_${reason}`));

function VisitorLink({ data, act }: { data: Data; act: (message: Request) => Promise<void> }) {
  const [draft, setDraft] = useState("");
  if (!data.origin) return null;
  const presence = data.presence.origin === data.origin ? data.presence : null;
  return (
    <section aria-label={t("visitor")} class="visitor">
      <h2>{t("visitor")}</h2>
      {data.visitorId ? (
        <>
          <p>
            {t("visitorIdColon")} <output aria-label={t("visitorId")}>{data.visitorId}</output>
            <span class="muted"> ({t(data.identitySource === "manual" ? "sourceManual" : data.identitySource === "rule" ? "sourceRule" : "sourceBridge")})</span>
          </p>
          <p role="status" aria-label={t("presence")}>
            {t(`presence_${presence?.status ?? "off"}`)}
            {presence?.status === "online" && ` · ${presence.verified ? t("verified") : t("unverified")}`}
            {presence?.error && <span class="warn"> {t(`error_${presence.error.code}`)}</span>}
          </p>
          {data.identitySource === "manual" && (
            <button class="plain" onClick={() => act({ type: "linkVisitor", origin: data.origin!, visitorId: null })}>{t("unlink")}</button>
          )}
        </>
      ) : (
        <form
          onSubmit={(event) => {
            event.preventDefault();
            void act({ type: "linkVisitor", origin: data.origin!, visitorId: draft.trim() });
          }}
        >
          <label for="link-visitor">{t("linkVisitor", { host: new URL(data.origin).host })}</label>
          <input id="link-visitor" value={draft} onInput={(e) => setDraft(e.currentTarget.value)} pattern="[A-Za-z0-9_@.+:\-]{1,128}" required />
          <button class="plain" type="submit">{t("link")}</button>
        </form>
      )}
    </section>
  );
}

function History({ entries }: { entries: HistoryEntry[] }) {
  if (entries.length === 0) return null;
  const time = (at: number | null) => (at ? new Date(at).toLocaleString() : "—");
  return (
    <section aria-label={t("recentSessions")}>
      <h2>{t("recentSessions")}</h2>
      <table>
        <thead>
          <tr>
            <th>{t("colKey")}</th><th>{t("colSite")}</th><th>{t("colStarted")}</th><th>{t("colEnded")}</th><th>{t("colAgents")}</th><th>{t("colHow")}</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((entry) => (
            <tr key={entry.id}>
              <td>{entry.keyType === "random" ? entry.sessionKey : t("oneClick")}</td>
              <td>{entry.site.replace(/^https?:\/\//, "")}</td>
              <td>{time(entry.startedAt)}</td>
              <td>{time(entry.endedAt)}</td>
              <td>{entry.agents.join(", ") || t("none")}</td>
              <td>{entry.endReason ? endText(entry.endReason, null) : t("live")}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

export default Popup;
