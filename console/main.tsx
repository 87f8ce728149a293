import { render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import type { ControlAction, ControlState, PauseReason, ServerToAgent } from "~src/protocol";
import { Reassembler } from "~src/capture/chunks";
import { backoffDelay } from "~src/reconnect";
import { t } from "./t";
import { me, signIn, signOut, widgetToken, type AgentInfo } from "./api";
import { isErrorCode } from "~src/errors";
import { AgentSocket } from "./socket";
import { Viewer, type ViewerHandle } from "./Viewer";
import { VisitorRecord, type Presence, type ShareRequest } from "./VisitorRecord";

/**
 * `#/visitor/<id>` is the visitor record (what a CRM links to); anything else is join-by-key.
 * While a session is live the address names it (`#/visitor/<id>/live`, `#/session/<key>`), so a
 * reloaded console rejoins it. `#/invite/<token>` is a colleague's invitation into their session.
 */
type Route = { view: "key"; live: string | null } | { view: "visitor"; visitorId: string | null; live: boolean } | { view: "invite"; token: string };

function route(): Route {
  const invite = /^#\/invite\/([A-Za-z0-9_-]{1,128})$/.exec(location.hash);
  if (invite) return { view: "invite", token: invite[1]! };
  const session = /^#\/session\/(\d+)$/.exec(location.hash);
  if (session) return { view: "key", live: session[1]! };
  const match = /^#\/visitor(?:\/([^/]+))?(\/live)?$/.exec(location.hash);
  if (!match) return { view: "key", live: null };
  return { view: "visitor", visitorId: match[1] ? decodeURIComponent(match[1]) : null, live: Boolean(match[1] && match[2]) };
}

/** Name the live session in the address (or, at its end, the page it was started from) without a navigation. */
function showLiveInAddress(live: { key: string; oneClick: boolean } | null, visitorId: string | null): void {
  const hash = live ? (live.oneClick ? `#/visitor/${encodeURIComponent(live.key)}/live` : `#/session/${live.key}`) : visitorId ? `#/visitor/${encodeURIComponent(visitorId)}` : "#/";
  if (location.hash !== hash) history.replaceState(null, "", hash);
}

function useRoute() {
  const [current, setCurrent] = useState(route());
  useEffect(() => {
    const onHash = () => setCurrent(route());
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);
  return current;
}

type Live = {
  sessionKey: string;
  page: { url: string; title: string } | null;
  visitorConnected: boolean;
  /** Why the view shows a placeholder, while it does. */
  paused: PauseReason | null;
  agents: string[];
  /** Resources the visitor's browser could not carry (placeholders in the view). */
  skipped: number;
  /** The last invitation link this agent made, while it can be used. */
  invite: { link: string; expiresAt: number } | null;
  /** Who controls the visitor's page (or asks to), and the last word on it. */
  control: { agent: string; state: ControlState } | null;
};

/** A field of the visitor's page the agent in control is filling in, from the console's editor bar. */
type Editing = { id: number; kind: "text"; value: string } | { id: number; kind: "select"; options: string[]; index: number };

function App() {
  const [agent, setAgent] = useState<AgentInfo | null | undefined>(undefined);
  useEffect(() => {
    void me().then((result) => setAgent(result.ok ? result.value : null));
  }, []);
  if (agent === undefined) return <main>{t("loading")}</main>;
  if (agent === null) return <SignIn onSignedIn={setAgent} />;
  const widget = /^#\/widget\/([^/]+)$/.exec(location.hash);
  if (widget) return <WidgetSignIn origin={decodeURIComponent(widget[1]!)} />;
  return <Console agent={agent} onSignedOut={() => setAgent(null)} />;
}

/**
 * Opened as a popup by the CRM widget (console/widget.ts) on a page of `origin`: once the agent is
 * signed in here, a token for that origin goes to the widget (postMessage to that origin only).
 */
function WidgetSignIn({ origin }: { origin: string }) {
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    void widgetToken(origin).then((result) => {
      const opener = window.opener as Window | null;
      if (!result.ok) {
        setError(t(`error_${result.error.code}`));
        opener?.postMessage({ t: "glimpseWidgetToken", message: result.error.message }, origin);
        return;
      }
      opener?.postMessage({ t: "glimpseWidgetToken", token: result.value.token }, origin);
      window.close();
    });
  }, [origin]);
  return (
    <main>
      <div class="card">
        <h1>{t("consoleTitle")}</h1>
        {error ? <p class="error" role="alert">{error}</p> : <p>{t("loading")}</p>}
      </div>
    </main>
  );
}

/** Why company sign-in sent the agent back (server/sso.ts), once: taken off the address. */
function ssoError(): string | null {
  const code = new URLSearchParams(location.search).get("sso_error");
  if (!code) return null;
  history.replaceState(null, "", location.pathname + location.hash);
  return isErrorCode(code) ? t(`error_${code}`) : t("error_SSO_FAILED");
}

function SignIn({ onSignedIn }: { onSignedIn: (agent: AgentInfo) => void }) {
  const [error, setError] = useState<string | null>(ssoError);
  const submit = async (event: Event) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const result = await signIn(String(form.get("username")), String(form.get("password")));
    if (result.ok) onSignedIn(result.value);
    else setError(t(`error_${result.error.code}`));
  };
  // Company sign-in (OpenID Connect) is a page navigation: to the team's identity provider and back.
  const company = (event: Event) => {
    event.preventDefault();
    const team = String(new FormData(event.currentTarget as HTMLFormElement).get("team")).trim();
    // Back to this page of the console afterwards (a visitor's record, the CRM widget's sign-in).
    location.assign(`/api/sso/${encodeURIComponent(team)}/login?return=${encodeURIComponent(location.hash)}`);
  };
  return (
    <main>
      <form class="card" onSubmit={submit}>
        <h1>{t("consoleTitle")}</h1>
        <label for="username">{t("username")}</label>
        <input id="username" name="username" autocomplete="username" required />
        <label for="password">{t("password")}</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required />
        {error && <p class="error" role="alert">{error}</p>}
        <button type="submit">{t("signIn")}</button>
      </form>
      <form class="card" onSubmit={company} aria-label={t("companySignIn")}>
        <h2>{t("companySignIn")}</h2>
        <label for="team">{t("team")}</label>
        <input id="team" name="team" autocomplete="organization" pattern="[A-Za-z0-9_-]{1,64}" required />
        <button type="submit">{t("continueWithCompany")}</button>
      </form>
    </main>
  );
}

function Console({ agent, onSignedOut }: { agent: AgentInfo; onSignedOut: () => void }) {
  const [connected, setConnected] = useState(false);
  const [live, setLive] = useState<Live | null>(null);
  const [notice, setNotice] = useState<{ kind: "error" | "info"; text: string } | null>(null);
  const [key, setKey] = useState("");
  const viewer = useRef<ViewerHandle | null>(null);
  const pending = useRef<unknown[][]>([]);
  const socketRef = useRef<AgentSocket | null>(null);
  const page = useRoute();
  // A reloaded console picks up the session its address names (rejoined on welcome).
  const initial = useRef(route()).current;
  const liveKey = useRef<string | null>(initial.view === "key" ? initial.live : initial.view === "visitor" && initial.live ? initial.visitorId : null);
  const liveOneClick = useRef(initial.view === "visitor" && initial.live);
  const watched = page.view === "visitor" ? page.visitorId : null;
  const watchedRef = useRef<string | null>(null);
  watchedRef.current = watched;
  const [presence, setPresence] = useState<Presence | null>(null);
  const [request, setRequest] = useState<ShareRequest | null>(null);
  const [recordError, setRecordError] = useState<string | null>(null);
  const [editing, setEditing] = useState<Editing | null>(null);
  const [drawing, setDrawing] = useState(false);

  // An invitation link (opened, or pasted into the address bar): join once the socket is up.
  const inviteToken = page.view === "invite" ? page.token : null;
  useEffect(() => {
    if (!inviteToken || !connected) return;
    setNotice(null);
    pending.current = [];
    socketRef.current?.send({ t: "joinInvite", token: inviteToken });
  }, [inviteToken, connected]);

  // Follow the visitor on the record page: presence updates live while it is open.
  useEffect(() => {
    setPresence(null);
    setRequest(null);
    setRecordError(null);
    if (!watched || !connected) return;
    socketRef.current?.send({ t: "watchVisitor", visitorId: watched });
    return () => socketRef.current?.send({ t: "unwatchVisitor", visitorId: watched });
  }, [watched, connected]);

  useEffect(() => {
    let attempt = 0;
    const chunks = new Reassembler();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onMessage = (message: ServerToAgent) => {
      switch (message.t) {
        case "welcome":
          attempt = 0;
          setConnected(true);
          // Back after a dropped connection: rejoin the session we were watching.
          if (liveKey.current) socket.send(liveOneClick.current ? { t: "joinVisitor", visitorId: liveKey.current } : { t: "join", key: liveKey.current });
          return;
        case "visitorPresence":
          if (message.visitorId === watchedRef.current) setPresence(message);
          return;
        case "shareRequest":
          if (message.visitorId === watchedRef.current) setRequest(message);
          return;
        case "joined":
          liveKey.current = message.sessionKey;
          liveOneClick.current = message.keyType === "visitor";
          showLiveInAddress({ key: message.sessionKey, oneClick: liveOneClick.current }, watchedRef.current);
          setRequest(null);
          setNotice(null);
          return setLive({ sessionKey: message.sessionKey, page: message.page, visitorConnected: message.visitorConnected, paused: null, agents: [], skipped: 0, invite: null, control: null });
        case "frames":
          if (viewer.current) viewer.current.add(message.events);
          else pending.current.push(message.events);
          return;
        case "chunk": {
          const event = chunks.add(message);
          if (event === undefined) return;
          if (viewer.current) viewer.current.add([event]);
          else pending.current.push([event]);
          return;
        }
        case "page":
          return setLive((l) => l && { ...l, page: { url: message.url, title: message.title }, paused: null });
        case "controlState":
          if (message.state !== "granted") setEditing(null);
          return setLive((l) => l && { ...l, control: { agent: message.agent, state: message.state } });
        case "invited": {
          const link = `${location.origin}${location.pathname}#/invite/${message.token}`;
          return setLive((l) => l && { ...l, invite: { link, expiresAt: message.expiresAt } });
        }
        case "paused":
          return setLive((l) => l && { ...l, paused: message.reason });
        case "assetSkipped":
          return setLive((l) => l && { ...l, skipped: l.skipped + 1 });
        case "visitorConnection":
          return setLive((l) => l && { ...l, visitorConnected: message.connected });
        case "guests":
          return setLive((l) => l && { ...l, agents: message.agents });
        case "sessionEnded":
          liveKey.current = null;
          showLiveInAddress(null, watchedRef.current);
          setLive(null);
          return setNotice({ kind: "info", text: t("sessionEnded", { reason: t(`agentEnd_${message.reason}`) }) });
        case "error":
          if (message.code === "NOT_AUTHORIZED") return onSignedOut();
          if (message.code === "VISITOR_OFFLINE" || message.code === "REQUEST_PENDING" || message.code === "REQUEST_NOT_FOUND") {
            return setRecordError(message.message || t(`error_${message.code}`));
          }
          if (message.code === "INVITE_INVALID") showLiveInAddress(null, null);
          // The server's text names the reason (which field, which link): more than the code says.
          if (message.code.startsWith("CONTROL_")) return setNotice({ kind: "error", text: message.message || t(`error_${message.code}`) });
          if (liveKey.current && (message.code === "KEY_NOT_FOUND" || message.code === "KEY_EXPIRED")) {
            // The session we were rejoining is gone.
            liveKey.current = null;
            showLiveInAddress(null, watchedRef.current);
            setLive(null);
          }
          return setNotice({ kind: "error", text: t(`error_${message.code}`) });
      }
    };
    const socket = new AgentSocket(onMessage, () => {
      setConnected(false);
      const delay = backoffDelay(attempt++, Math.random) ?? 30_000;
      timer = setTimeout(() => socket.open(), delay);
    });
    socketRef.current = socket;
    socket.open();
    return () => {
      clearTimeout(timer);
      socket.close();
    };
  }, []);

  const registerViewer = (handle: ViewerHandle | null) => {
    viewer.current = handle;
    if (handle) for (const events of pending.current.splice(0)) handle.add(events);
  };

  const join = (event: Event) => {
    event.preventDefault();
    setNotice(null);
    pending.current = [];
    socketRef.current?.send({ t: "join", key });
  };

  const control = (action: ControlAction) => socketRef.current?.send({ t: "control", action });
  const controlState = live?.control;
  const mine = controlState?.agent === agent.username;
  const held = controlState && ["asked", "granted", "suspended"].includes(controlState.state) ? controlState : null;
  const controlling = Boolean(mine && held?.state === "granted");
  const controlText = !controlState ? null
    : controlState.state === "asked" ? (mine ? t("controlAsked") : t("controlAskedBy", { agent: controlState.agent }))
    : controlState.state === "granted" ? (mine ? t("controlGranted") : t("controlHeldBy", { agent: controlState.agent }))
    : controlState.state === "suspended" ? t("controlSuspended", { agent: controlState.agent })
    : mine ? t(`control_${controlState.state}`) : null;

  const overlay = live && !live.visitorConnected ? t("overlayDropped")
    : live?.paused === "visitor" ? t("overlayPausedByVisitor")
    : live?.paused ? t("overlayPaused")
    : null;

  return (
    <>
      <header class="bar">
        <h1>Glimpse</h1>
        <nav>
          <a href="#/">{t("joinByKey")}</a>
          <a href="#/visitor">{t("visitorLookup")}</a>
        </nav>
        <span><span class={`dot ${connected ? "on" : "off"}`} />{connected ? t("connected") : t("connecting")}</span>
        <span data-testid="signed-in-as" title={agent.username}>{agent.displayName || agent.username}</span>
        <button class="plain" onClick={() => void signOut().then(onSignedOut)}>{t("signOut")}</button>
      </header>
      {live ? (
        <section class="viewer" aria-label={t("liveView")}>
          <div class="meta">
            <div class="page">
              <strong data-testid="visitor-title">{live.page?.title ?? t("waitingForPage")}</strong>
              <div class="url" data-testid="visitor-url">{live.page?.url ?? ""}</div>
            </div>
            <span>{liveOneClick.current ? t("oneClickLabel", { visitor: live.sessionKey }) : t("sessionLabel", { key: live.sessionKey })}</span>
            <span data-testid="visitor-connection"><span class={`dot ${live.visitorConnected ? "on" : "off"}`} />{live.visitorConnected ? t("visitorConnected") : t("visitorReconnecting")}</span>
            <span data-testid="agents">{t("agents", { names: live.agents.join(", ") || agent.username })}</span>
            <button class="plain" onClick={() => { liveKey.current = null; showLiveInAddress(null, watched); socketRef.current?.send({ t: "leave" }); setLive(null); }}>{t("leave")}</button>
            {!held && <button class="plain" onClick={() => { setNotice(null); socketRef.current?.send({ t: "controlRequest" }); }}>{t("requestControl")}</button>}
            {held && mine && <button class="plain" onClick={() => socketRef.current?.send({ t: "controlRelease" })}>{held.state === "asked" ? t("cancelControl") : t("releaseControl")}</button>}
            <button class="plain" aria-pressed={drawing} onClick={() => setDrawing(!drawing)}>{t("draw")}</button>
            <button class="plain" onClick={() => socketRef.current?.send({ t: "invite" })}>{t("invite")}</button>
            <button class="danger" onClick={() => socketRef.current?.send({ t: "endSession" })}>{t("endSession")}</button>
          </div>
          {/* Always one line, so the view does not move when control starts or changes. */}
          <p class={`banner control ${controlling ? "on" : ""}`} role="status" data-testid="control-state">{controlText ?? ""}</p>
          {/* Over the view, not above it: an agent at work keeps the page where it was. */}
          <div class="floating">
            {controlling && editing && <Editor editing={editing} control={control} onDone={() => setEditing(null)} />}
            {notice && <p class={`${notice.kind} banner`} role="status" data-testid="live-notice">{notice.text}</p>}
          </div>
          {live.invite && <InviteLink link={live.invite.link} onClose={() => setLive((l) => l && { ...l, invite: null })} />}
          {live.skipped > 0 && <p class="info banner" role="status" data-testid="assets-skipped">{t("assetsSkipped", { count: String(live.skipped) })}</p>}
          <Viewer register={registerViewer} overlay={overlay} sessionKey={live.sessionKey} onPointer={(target) => socketRef.current?.send({ t: "pointer", target })}
            onHighlight={(id) => socketRef.current?.send({ t: "highlight", id })}
            drawing={drawing}
            onDraw={(stroke) => socketRef.current?.send({ t: "draw", stroke })}
            control={controlling ? { act: (action) => { setNotice(null); control(action); }, edit: setEditing } : null}
          />
        </section>
      ) : page.view === "visitor" ? (
        <>
          {notice && <p class={`${notice.kind} banner`} role="status">{notice.text}</p>}
          <VisitorRecord
            visitorId={watched}
            presence={presence}
            request={request}
            me={agent.username}
            error={recordError}
            connected={connected}
            onLookup={(id) => (location.hash = `#/visitor/${encodeURIComponent(id)}`)}
            onStart={() => {
              setRecordError(null);
              setNotice(null);
              pending.current = [];
              socketRef.current?.send({ t: "requestShare", visitorId: watched! });
            }}
            onCancel={() => socketRef.current?.send({ t: "cancelRequest", visitorId: watched! })}
          />
        </>
      ) : (
        <main>
          <form class="card" onSubmit={join}>
            <h2>{t("joinTitle")}</h2>
            {page.view === "invite" && <p class="muted" role="status">{t("joiningInvite")}</p>}
            <p>{t("joinHelp")}</p>
            <label for="key">{t("sessionKey")}</label>
            <input id="key" class="key" inputMode="numeric" autocomplete="off" value={key} onInput={(e) => setKey(e.currentTarget.value)} required />
            {notice && <p class={notice.kind} role={notice.kind === "error" ? "alert" : "status"}>{notice.text}</p>}
            <button type="submit" disabled={!connected}>{t("join")}</button>
          </form>
        </main>
      )}
    </>
  );
}

/** What the agent in control types or chooses for a field of the visitor's page: each change goes at once. */
function Editor({ editing, control, onDone }: { editing: Editing; control: (action: ControlAction) => void; onDone: () => void }) {
  const focus = (element: HTMLElement | null) => element?.focus();
  return (
    <div class="info banner editor" role="group" aria-label={t("editorLabel")}>
      <span>{t("editorLabel")}</span>
      {editing.kind === "text" ? (
        <input key={editing.id} ref={focus} aria-label={t("editorLabel")} defaultValue={editing.value} data-testid="control-editor"
          onInput={(e) => control({ kind: "input", id: editing.id, value: e.currentTarget.value })}
          onKeyDown={(e) => e.key === "Enter" && onDone()} />
      ) : (
        <select key={editing.id} ref={focus} aria-label={t("editorLabel")} data-testid="control-editor"
          onChange={(e) => control({ kind: "select", id: editing.id, index: e.currentTarget.selectedIndex })}>
          {editing.options.map((label, index) => <option key={index} selected={index === editing.index}>{label}</option>)}
        </select>
      )}
      <button class="plain" onClick={onDone}>{t("done")}</button>
    </div>
  );
}

/** The link a colleague opens to join this session, to copy and send. */
function InviteLink({ link, onClose }: { link: string; onClose: () => void }) {
  const [copied, setCopied] = useState(false);
  const copy = () => void navigator.clipboard?.writeText(link).then(() => setCopied(true), () => setCopied(false));
  return (
    <div class="info banner invite" role="status">
      <span>{t("inviteNote")}</span>
      <input readOnly value={link} data-testid="invite-link" onFocus={(e) => e.currentTarget.select()} />
      <button class="plain" onClick={copy}>{copied ? t("copied") : t("copyLink")}</button>
      <button class="plain" aria-label={t("close")} onClick={onClose}>×</button>
    </div>
  );
}

render(<App />, document.getElementById("app")!);
