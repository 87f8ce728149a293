/** Answers the typed requests of src/messages.ts from the content UI, the popup and the options page. */
import browser, { type Runtime } from "webextension-polyfill";
import * as v from "valibot";
import { glimpseError } from "~src/errors";
import { Request, type Responses, type Result } from "~src/messages";
import { httpOrigin, siteConfigured } from "~src/settings";
import type { Capture } from "./capture";
import { sameSite } from "./capture";
import type { Controller } from "./controller";
import { recentSessions } from "./history";
import { checkInit, forgetInit } from "./init";
import { loadEnabledOrigins, loadSettings, saveEnabledOrigins, saveSettings } from "./storage";

const OK: Result = { ok: true };

export function handleMessages(controller: Controller, capture: Capture, sendToAgents: (m: { t: "paused" }) => void): () => void {
  const listener = (raw: unknown, sender: Runtime.MessageSender) => {
    if (sender.id !== browser.runtime.id) return undefined;
    const parsed = v.safeParse(Request, raw);
    if (!parsed.success) return undefined; // not ours (or malformed): let other listeners answer
    return answer(parsed.output, sender);
  };
  browser.runtime.onMessage.addListener(listener);
  return () => browser.runtime.onMessage.removeListener(listener);

  async function shows(url: string): Promise<boolean> {
    const origin = httpOrigin(url);
    if (!origin) return false;
    const [settings, enabled] = await Promise.all([loadSettings(), loadEnabledOrigins()]);
    return siteConfigured(settings, url) || enabled.includes(origin);
  }

  async function answer(request: Request, sender: Runtime.MessageSender): Promise<Responses[Request["type"]]> {
    await controller.settled();
    switch (request.type) {
      case "getStatus": {
        const tabId = sender.tab?.id;
        const state = controller.current;
        const thisTab = tabId !== undefined && controller.view().tabId === tabId;
        if (thisTab && state.status === "live") {
          // The shared tab loaded a page: resume capture on the same site, pause elsewhere.
          if (sameSite(request.url, state.site)) void capture.inject(state.tabId);
          else sendToAgents({ t: "paused" });
        }
        const show = thisTab || (await shows(request.url));
        const init = show ? await checkInit(await loadSettings()) : { ok: false as const, error: glimpseError("INVALID_STATE") };
        return { show, init, session: controller.view(), thisTab } satisfies Responses["getStatus"];
      }
      case "startShare": {
        const tabId = request.tabId ?? sender.tab?.id;
        if (tabId === undefined) return { ok: false, error: glimpseError("INVALID_STATE", "No tab to share.") };
        const tab = await browser.tabs.get(tabId);
        const site = httpOrigin(tab.url ?? "");
        if (!site) return { ok: false, error: glimpseError("PERMISSION_DENIED") };
        const init = await checkInit(await loadSettings());
        if (!init.ok) {
          forgetInit();
          return init;
        }
        const rejected = await controller.dispatch({ type: "share", tabId, site, keyType: "random" });
        return rejected ? { ok: false, error: rejected } : OK;
      }
      case "stopShare": {
        const rejected = await controller.dispatch({ type: "stop", now: Date.now() });
        return rejected ? { ok: false, error: rejected } : OK;
      }
      case "dismissEnded":
        await controller.dispatch({ type: "dismiss" });
        return OK;
      case "getPopup": {
        const settings = await loadSettings();
        const origin = httpOrigin(request.url);
        const enabled = await loadEnabledOrigins();
        return {
          session: controller.view(),
          init: await checkInit(settings),
          origin,
          siteConfigured: siteConfigured(settings, request.url),
          siteEnabled: origin !== null && enabled.includes(origin),
          history: await recentSessions(),
        } satisfies Responses["getPopup"];
      }
      case "setSiteEnabled": {
        const enabled = new Set(await loadEnabledOrigins());
        if (request.enabled) enabled.add(request.origin);
        else enabled.delete(request.origin);
        await saveEnabledOrigins([...enabled]);
        return OK;
      }
      case "getSettings":
        return loadSettings();
      case "saveSettings":
        await saveSettings(request.settings);
        forgetInit();
        return OK;
    }
  }
}
