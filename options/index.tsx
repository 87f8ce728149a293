import browser from "webextension-polyfill";
import { useEffect, useState } from "preact/hooks";
import * as v from "valibot";
import type { Request, ResponseFor } from "~src/messages";
import type { SiteRule } from "~src/identity";
import { Settings } from "~src/settings";
import "./options.css";

const request = <R extends Request>(message: R) => browser.runtime.sendMessage(message) as Promise<ResponseFor<R>>;

function Options() {
  const [serverUrl, setServerUrl] = useState("");
  const [groupId, setGroupId] = useState("");
  const [sites, setSites] = useState("");
  const [rules, setRules] = useState<SiteRule[]>([]);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [managed, setManaged] = useState<string[]>([]);
  const locked = (key: string) => managed.includes(key);

  useEffect(() => {
    void request({ type: "getSettings" }).then(({ settings, managed }) => {
      setManaged(managed);
      setServerUrl(settings.serverUrl);
      setGroupId(settings.groupId);
      setSites(settings.sites.join("\n"));
      setRules(settings.rules);
    });
  }, []);

  const save = async (event: Event) => {
    event.preventDefault();
    const candidate = {
      serverUrl: serverUrl.trim(),
      groupId: groupId.trim(),
      sites: sites.split("\n").map((s) => s.trim()).filter(Boolean),
      rules: rules.map((rule) => ({ ...rule, pattern: rule.pattern.trim(), name: rule.name.trim() })),
    };
    const parsed = v.safeParse(Settings, candidate);
    if (!parsed.success) {
      const issue = parsed.issues[0];
      const field = issue.path?.[0]?.key;
      const label = { groupId: "Group ID", sites: "Sites", rules: "Visitor ID rules", serverUrl: "Server URL" }[String(field)] ?? "Settings";
      return setMessage({ ok: false, text: `${label}: ${issue.message}` });
    }
    const result = await request({ type: "saveSettings", settings: parsed.output });
    setMessage(result.ok ? { ok: true, text: "Saved." } : { ok: false, text: result.error.message });
  };

  return (
    <main class="options">
      <h1>Glimpse settings</h1>
      {managed.length > 0 && (
        <p class="managed" role="note">
          Some settings are managed by your organisation and cannot be changed here ({managed.join(", ")}).
        </p>
      )}
      <form onSubmit={save}>
        <label for="server">Server URL</label>
        <input id="server" readOnly={locked("serverUrl")} value={serverUrl} onInput={(e) => setServerUrl(e.currentTarget.value)} placeholder="https://glimpse.example.com" />
        <label for="group">Group ID</label>
        <input id="group" readOnly={locked("groupId")} value={groupId} onInput={(e) => setGroupId(e.currentTarget.value)} />
        <label for="sites">Sites that show the Share screen button (one pattern per line, * matches anything)</label>
        <textarea id="sites" rows={5} readOnly={locked("sites")} value={sites} onInput={(e) => setSites(e.currentTarget.value)} />
        <p class="muted">Visitors can also switch the button on for any site from the toolbar popup.</p>
        {locked("rules") ? <p class="managed">Visitor ID rules are managed by your organisation.</p> : <RulesEditor rules={rules} onChange={setRules} />}
        <button type="submit">Save</button>
        {message && <p role={message.ok ? "status" : "alert"} class={message.ok ? "ok" : "warn"}>{message.text}</p>}
      </form>
    </main>
  );
}

const blankRule = (): SiteRule => ({ pattern: "", from: "selector", name: "", mask: [] });

/**
 * Site rules, for sites that cannot call the page bridge: where the logged-in visitor's ID is
 * found (login = it appears, logout = it disappears), and extra fields to mask there.
 */
function RulesEditor({ rules, onChange }: { rules: SiteRule[]; onChange: (rules: SiteRule[]) => void }) {
  const update = (index: number, patch: Partial<SiteRule>) => onChange(rules.map((rule, i) => (i === index ? { ...rule, ...patch } : rule)));
  return (
    <fieldset>
      <legend>Visitor ID rules (for sites that cannot call the page bridge)</legend>
      {rules.length === 0 && <p class="muted">No rules. Sites that use the page bridge need none.</p>}
      {rules.map((rule, i) => (
        <div class="rule" key={i}>
          <input aria-label={`Rule ${i + 1} site pattern`} placeholder="https://shop.example.com/*" value={rule.pattern} onInput={(e) => update(i, { pattern: e.currentTarget.value })} />
          <select aria-label={`Rule ${i + 1} source`} value={rule.from} onChange={(e) => update(i, { from: e.currentTarget.value as SiteRule["from"] })}>
            <option value="selector">CSS selector</option>
            <option value="cookie">Cookie</option>
            <option value="localStorage">localStorage key</option>
          </select>
          <input aria-label={`Rule ${i + 1} selector, cookie or key`} placeholder="#account-id" value={rule.name} onInput={(e) => update(i, { name: e.currentTarget.value })} />
          <input
            aria-label={`Rule ${i + 1} extra masked selectors`}
            placeholder="mask: .ssn, #dob"
            value={rule.mask.join(", ")}
            onInput={(e) => update(i, { mask: e.currentTarget.value.split(",").map((m) => m.trim()).filter(Boolean) })}
          />
          <button type="button" class="plain" onClick={() => onChange(rules.filter((_, j) => j !== i))}>Remove</button>
        </div>
      ))}
      <button type="button" class="plain" onClick={() => onChange([...rules, blankRule()])}>Add rule</button>
    </fieldset>
  );
}

export default Options;
