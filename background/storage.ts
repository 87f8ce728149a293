/** Typed access to the storage keys declared in src/settings.ts. Only the background writes them. */
import browser from "webextension-polyfill";
import * as v from "valibot";
import { Identity } from "~src/identity";
import { applyPolicy, STORAGE, type ManagedKey, type Settings } from "~src/settings";
import { INITIAL_STATE, isVisitorState, type VisitorState } from "~src/visitor/machine";
import type { ShownRequest } from "~src/presence/machine";

async function loadLocalSettings(): Promise<Settings> {
  const { settings } = STORAGE;
  const stored = await browser.storage.local.get(settings.key);
  const parsed = v.safeParse(settings.schema, stored[settings.key]);
  return parsed.success ? parsed.output : settings.default;
}

/** Enterprise policy: Chrome's managed_schema policies, Firefox's managed-storage manifest. */
async function loadPolicy(): Promise<unknown> {
  try {
    return await browser.storage.managed.get();
  } catch {
    return {}; // no policy installed (Firefox rejects when there is no managed-storage manifest)
  }
}

/** The settings in force, and which of them the organisation's policy fixed. */
export async function loadSettingsWithPolicy(): Promise<{ settings: Settings; managed: ManagedKey[] }> {
  const [local, policy] = await Promise.all([loadLocalSettings(), loadPolicy()]);
  const { settings, managed, invalid } = applyPolicy(local, policy);
  if (invalid.length) console.warn("glimpse: ignored invalid managed settings:", invalid.join(", "));
  return { settings, managed };
}

export async function loadSettings(): Promise<Settings> {
  return (await loadSettingsWithPolicy()).settings;
}

/** Save what the options page sent; values fixed by policy keep their stored (local) value. */
export async function saveSettings(value: Settings): Promise<void> {
  const [local, { managed }] = await Promise.all([loadLocalSettings(), loadSettingsWithPolicy()]);
  const next = { ...value };
  for (const key of managed) (next as Record<ManagedKey, unknown>)[key] = local[key];
  await browser.storage.local.set({ [STORAGE.settings.key]: next });
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

/** The share request whose overlay a tab shows (src/presence/machine.ts). */

export async function loadShownRequest(): Promise<ShownRequest | null> {
  const key = STORAGE.shareRequest.key;
  const value = (await browser.storage.session.get(key))[key] as Partial<ShownRequest> | undefined;
  return value && typeof value.id === "string" && typeof value.tabId === "number" && typeof value.agent === "string" && typeof value.origin === "string" ? (value as ShownRequest) : null;
}

export async function saveShownRequest(request: ShownRequest | null): Promise<void> {
  const key = STORAGE.shareRequest.key;
  if (request) await browser.storage.session.set({ [key]: request });
  else await browser.storage.session.remove(key);
}
