/** Typed access to the storage keys declared in src/settings.ts. Only the background writes them. */
import browser from "webextension-polyfill";
import * as v from "valibot";
import { Identity } from "~src/identity";
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

export async function loadIdentities(): Promise<Record<string, Identity>> {
  const key = STORAGE.identities.key;
  const parsed = v.safeParse(v.record(v.string(), Identity), (await browser.storage.local.get(key))[key]);
  return parsed.success ? parsed.output : {};
}

export async function saveIdentity(origin: string, identity: Identity | null): Promise<void> {
  const all = await loadIdentities();
  if (identity) all[origin] = identity;
  else delete all[origin];
  await browser.storage.local.set({ [STORAGE.identities.key]: all });
}

export async function loadCustomUiOrigins(): Promise<string[]> {
  const item = STORAGE.customUiOrigins;
  const parsed = v.safeParse(item.schema, (await browser.storage.local.get(item.key))[item.key]);
  return parsed.success ? parsed.output : item.default;
}

export async function setCustomUi(origin: string, custom: boolean): Promise<void> {
  const origins = new Set(await loadCustomUiOrigins());
  if (custom) origins.add(origin);
  else origins.delete(origin);
  await browser.storage.local.set({ [STORAGE.customUiOrigins.key]: [...origins] });
}
