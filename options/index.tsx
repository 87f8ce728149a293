import browser from "webextension-polyfill";
import { useEffect, useState } from "preact/hooks";
import * as v from "valibot";
import type { Request, ResponseFor } from "~src/messages";
import { Settings } from "~src/settings";
import "./options.css";

const request = <R extends Request>(message: R) => browser.runtime.sendMessage(message) as Promise<ResponseFor<R>>;

function Options() {
  const [serverUrl, setServerUrl] = useState("");
  const [groupId, setGroupId] = useState("");
  const [sites, setSites] = useState("");
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);

  useEffect(() => {
    void request({ type: "getSettings" }).then((settings) => {
      setServerUrl(settings.serverUrl);
      setGroupId(settings.groupId);
      setSites(settings.sites.join("\n"));
    });
  }, []);

  const save = async (event: Event) => {
    event.preventDefault();
    const candidate = { serverUrl: serverUrl.trim(), groupId: groupId.trim(), sites: sites.split("\n").map((s) => s.trim()).filter(Boolean) };
    const parsed = v.safeParse(Settings, candidate);
    if (!parsed.success) {
      const issue = parsed.issues[0];
      const field = issue.path?.[0]?.key;
      return setMessage({ ok: false, text: `${field === "groupId" ? "Group ID" : field === "sites" ? "Sites" : "Server URL"}: ${issue.message}` });
    }
    const result = await request({ type: "saveSettings", settings: parsed.output });
    setMessage(result.ok ? { ok: true, text: "Saved." } : { ok: false, text: result.error.message });
  };

  return (
    <main class="options">
      <h1>Glimpse settings</h1>
      <form onSubmit={save}>
        <label for="server">Server URL</label>
        <input id="server" value={serverUrl} onInput={(e) => setServerUrl(e.currentTarget.value)} placeholder="https://glimpse.example.com" />
        <label for="group">Group ID</label>
        <input id="group" value={groupId} onInput={(e) => setGroupId(e.currentTarget.value)} />
        <label for="sites">Sites that show the Share screen button (one pattern per line, * matches anything)</label>
        <textarea id="sites" rows={5} value={sites} onInput={(e) => setSites(e.currentTarget.value)} />
        <p class="muted">Visitors can also switch the button on for any site from the toolbar popup.</p>
        <button type="submit">Save</button>
        {message && <p role={message.ok ? "status" : "alert"} class={message.ok ? "ok" : "warn"}>{message.text}</p>}
      </form>
    </main>
  );
}

export default Options;
