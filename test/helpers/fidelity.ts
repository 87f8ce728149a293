/** Shared by the fidelity suites: an agent who cannot reach the site, and form-state comparison. */
import { expect } from "vitest";
import type { Browser, Page } from "playwright-core";
import { signIn } from "./console";
import { AGENT_PASSWORD } from "./world";

export interface AgentWatch {
  /** Every request an agent's browser tried to make outside the Glimpse server. */
  blocked: string[];
  /** Errors and warnings in the agent's browser console during the session. */
  noise: string[];
}

/** An agent in a browser that can reach the Glimpse server and nothing else (an agent outside the site's network). */
export async function joinWithoutSiteAccess(browser: Browser, serverUrl: string, username: string, key: string, watch: AgentWatch): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1600, height: 1100 } });
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(`${serverUrl}/`) || url.startsWith("data:") || url.startsWith("blob:")) return route.continue();
    watch.blocked.push(url);
    return route.abort("blockedbyclient");
  });
  const console = await signIn(await context.newPage(), serverUrl, username, AGENT_PASSWORD);
  await console.getByLabel("Session key").fill(key);
  // From here on, the session (before sign-in the console's "who am I?" is answered 401, as it should be).
  console.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warning") watch.noise.push(`${username}: ${message.text()}`);
  });
  console.on("pageerror", (error) => watch.noise.push(`${username}: ${error.message}`));
  await console.getByRole("button", { name: "Join" }).click();
  return console;
}

/** The form state of a document (`doc`): every field's value, checked and selected options, plus scroll. */
export const FORM_STATE = `
  const fields = [...doc.querySelectorAll("input, select, textarea")].map((el) => ({
    id: el.id || el.name,
    value: el.type === "checkbox" || el.type === "radio" ? null : el.value,
    checked: el.type === "checkbox" || el.type === "radio" ? el.checked : null,
    selected: el.tagName === "SELECT" ? [...el.options].map((o) => o.selected) : null,
  }));
  const editor = doc.getElementById("editor");
  const log = doc.getElementById("log");
  return { fields, editor: editor ? editor.textContent : null, logScroll: log ? log.scrollTop : null, windowScroll: doc.scrollingElement ? doc.scrollingElement.scrollTop : null };
`;
export type FormState = { fields: { id: string; value: string | null; checked: boolean | null; selected: boolean[] | null }[]; editor: string | null; logScroll: number | null; windowScroll: number | null };
/** The fields of test/fidelity/pages/forms.html that are masked. */
const MASKED_IDS = new Set(["pw", "card", "loyalty", "month"]);

/** 100 % of the unmasked form state equal (waiting for it); masked fields show no value of the visitor's. */
export async function expectSameFormState(visitorState: () => Promise<FormState>, agentState: () => Promise<FormState | null>): Promise<void> {
  const unmasked = (state: FormState | null) => state && { ...state, fields: state.fields.filter((f) => !MASKED_IDS.has(f.id)) };
  const mine = await visitorState();
  await expect.poll(async () => unmasked(await agentState()), { timeout: 20_000 }).toEqual(unmasked(mine));
  const theirs = (await agentState())!;
  for (const field of mine.fields.filter((f) => MASKED_IDS.has(f.id))) {
    const shown = theirs.fields.find((f) => f.id === field.id)!;
    // A masked select carries no choice: the agent sees its first option or none, never the visitor's.
    if (field.id === "month") expect(["", "01"]).toContain(shown.value);
    else if (field.value) expect(shown.value, field.id).not.toBe(field.value);
  }
}
