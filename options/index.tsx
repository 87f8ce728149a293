import browser from "webextension-polyfill";
import { useEffect, useState } from "preact/hooks";
import * as v from "valibot";
import type { Request, ResponseFor } from "~src/messages";
import type { SiteRule } from "~src/identity";
import { Settings } from "~src/settings";
import "./options.css";
import { t } from "./t";

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
      const label = { groupId: t("groupId"), sites: t("sitesField"), rules: t("rulesField"), serverUrl: t("serverUrl") }[String(field)] ?? t("settings");
      return setMessage({ ok: false, text: t("fieldError", { field: label, message: issue.message }) });
    }
    const result = await request({ type: "saveSettings", settings: parsed.output });
    setMessage(result.ok ? { ok: true, text: t("saved") } : { ok: false, text: t(`error_${result.error.code}`) });
  };

  return (
    <main class="options">
      <h1>{t("optionsTitle")}</h1>
      {managed.length > 0 && (
        <p class="managed" role="note">
          {t("managedSome", { keys: managed.join(", ") })}
        </p>
      )}
      <form onSubmit={save}>
        <label for="server">{t("serverUrl")}</label>
        <input id="server" readOnly={locked("serverUrl")} value={serverUrl} onInput={(e) => setServerUrl(e.currentTarget.value)} placeholder="https://glimpse.example.com" />
        <label for="group">{t("groupId")}</label>
        <input id="group" readOnly={locked("groupId")} value={groupId} onInput={(e) => setGroupId(e.currentTarget.value)} />
        <label for="sites">{t("sitesLabel")}</label>
        <textarea id="sites" rows={5} readOnly={locked("sites")} value={sites} onInput={(e) => setSites(e.currentTarget.value)} />
        <p class="muted">{t("sitesNote")}</p>
        {locked("rules") ? <p class="managed">{t("managedRules")}</p> : <RulesEditor rules={rules} onChange={setRules} />}
        <button type="submit">{t("save")}</button>
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
      <legend>{t("rulesLegend")}</legend>
      {rules.length === 0 && <p class="muted">{t("rulesNone")}</p>}
      {rules.map((rule, i) => (
        <div class="rule" key={i}>
          <input aria-label={t("rulePattern", { n: i + 1 })} placeholder="https://shop.example.com/*" value={rule.pattern} onInput={(e) => update(i, { pattern: e.currentTarget.value })} />
          <select aria-label={t("ruleSource", { n: i + 1 })} value={rule.from} onChange={(e) => update(i, { from: e.currentTarget.value as SiteRule["from"] })}>
            <option value="selector">{t("fromSelector")}</option>
            <option value="cookie">{t("fromCookie")}</option>
            <option value="localStorage">{t("fromLocalStorage")}</option>
          </select>
          <input aria-label={t("ruleName", { n: i + 1 })} placeholder="#account-id" value={rule.name} onInput={(e) => update(i, { name: e.currentTarget.value })} />
          <input
            aria-label={t("ruleMask", { n: i + 1 })}
            placeholder="mask: .ssn, #dob"
            value={rule.mask.join(", ")}
            onInput={(e) => update(i, { mask: e.currentTarget.value.split(",").map((m) => m.trim()).filter(Boolean) })}
          />
          <button type="button" class="plain" onClick={() => onChange(rules.filter((_, j) => j !== i))}>{t("remove")}</button>
        </div>
      ))}
      <button type="button" class="plain" onClick={() => onChange([...rules, blankRule()])}>{t("addRule")}</button>
    </fieldset>
  );
}

export default Options;
