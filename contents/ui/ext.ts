/**
 * The native extension namespace. The content script runs on every page, so it skips
 * webextension-polyfill (~10 KB) and uses what both browsers provide: Firefox's promise-based
 * `browser`, Chrome MV3's promise-returning `chrome`.
 */
import type { Request, ResponseFor } from "~src/messages";

type Ext = typeof chrome;
const g = globalThis as unknown as { browser?: Ext; chrome?: Ext };
export const ext: Ext | undefined = g.browser ?? g.chrome;

/** False once the extension was reloaded or removed: this script is an orphan and must clean up. */
export function extensionAlive(): boolean {
  try {
    return Boolean(ext?.runtime?.id);
  } catch {
    return false;
  }
}

export async function request<R extends Request>(message: R): Promise<ResponseFor<R>> {
  return (await ext!.runtime.sendMessage(message)) as ResponseFor<R>;
}
