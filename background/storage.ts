/** Typed access to the storage keys declared in src/settings.ts. Only the background writes them. */
import browser from "webextension-polyfill";
import * as v from "valibot";
import { STORAGE, type Settings } from "~src/settings";
import { INITIAL_STATE, isVisitorState, type VisitorState } from "~src/visitor/machine";

export async function loadSettings(): Promise<Settings> {
  const { settings } = STORAGE;
  const stored = await browser.storage.local.get(settings.key);
  const parsed = v.safeParse(settings.schema, stored[settings.key]);
  return parsed.success ? parsed.output : settings.default;
}

export async function saveSettings(value: Settings): Promise<void> {
  await browser.storage.local.set({ [STORAGE.settings.key]: value });
}

export async function loadEnabledOrigins(): Promise<string[]> {
  const item = STORAGE.enabledOrigins;
  const stored = await browser.storage.local.get(item.key);
  const parsed = v.safeParse(item.schema, stored[item.key]);
  return parsed.success ? parsed.output : item.default;
}

export async function saveEnabledOrigins(origins: string[]): Promise<void> {
  await browser.storage.local.set({ [STORAGE.enabledOrigins.key]: origins });
}

export async function loadVisitorState(): Promise<VisitorState> {
  const key = STORAGE.visitorState.key;
  const stored = await browser.storage.session.get(key);
  return isVisitorState(stored[key]) ? stored[key] : INITIAL_STATE;
}

export async function saveVisitorState(state: VisitorState): Promise<void> {
  await browser.storage.session.set({ [STORAGE.visitorState.key]: state });
}
