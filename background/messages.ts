/** Answers the typed requests of src/messages.ts from the content UI, the popup and the options page. */
import browser, { type Runtime } from "webextension-polyfill";
import * as v from "valibot";
import { glimpseError } from "~src/errors";
import { Request, type Responses, type Result } from "~src/messages";
import { httpOrigin, ruleFor, siteConfigured } from "~src/settings";
import type { Capture } from "./capture";
import { sameSite } from "./capture";
import type { Controller } from "./controller";
import type { RemoteControl } from "./control";
import { recentSessions } from "./history";
import { checkInit, forgetInit } from "./init";
import type { Presence } from "./presence";
import {
  loadCustomUiOrigins,
  loadEnabledOrigins,
  loadIdentities,
  loadSettings,
  loadSettingsWithPolicy,
  saveEnabledOrigins,
  saveIdentity,
  saveSettings,
  setCustomUi,
} from "./storage";

const OK: Result = { ok: true };

export interface MessageDeps {
  controller: Controller;
  capture: Capture;
  presence: Presence;
  remote: RemoteControl;
  sendToAgents: (message: { t: "paused"; reason: "left_site" }) => void;
  /** Tell every UI that something they show changed. */
  changed: () => void;
}

export function handleMessages({ controller, capture, presence, remote, sendToAgents, changed }: MessageDeps): () => void {
  const listener = (raw: unknown, sender: Runtime.MessageSender) => {
    if (sender.id !== browser.runtime.id) return undefined;
    const parsed = v.safeParse(Request, raw);
    if (!parsed.success) return undefined; // not ours (or malformed): let other listeners answer
    return answer(parsed.output, sender);
  };
  browser.runtime.onMessage.addListener(listener);
  return () => browser.runtime.onMessage.removeListener(listener);

  /** Requests that change the extension's configuration come only from its own pages, not from content scripts. */
  function fromExtensionPage(sender: Runtime.MessageSender): boolean {
    return sender.tab === undefined || (sender.url ?? "").startsWith(browser.runtime.getURL(""));
  }

  /**
   * The tab whose consent frame (terms.html, placed by the page script) sent this, or null for any
   * other sender: a content script runs beside the page, and only the frame shows the visitor what
   * they are answering. Chrome serves the frame from a per-session dynamic origin, so the path is
   * what identifies it.
   */
  function termsFrameTab(sender: Runtime.MessageSender): number | null {
    if (sender.tab?.id === undefined || !sender.url) return null;
    const url = new URL(sender.url);
    const extensionFrame = url.protocol === "chrome-extension:" || url.protocol === "moz-extension:";
    return extensionFrame && url.pathname === "/terms.html" ? sender.tab.id : null;
  }

  async function answer(request: Request, sender: Runtime.MessageSender): Promise<Responses[Request["type"]] | undefined> {
    await controller.settled();
    switch (request.type) {
      case "getStatus": {
        const tabId = sender.tab?.id;
        const state = controller.current;
        const thisTab = tabId !== undefined && controller.view().tabId === tabId;
        if (thisTab && state.status === "live") {
          // The shared tab loaded a page: resume capture on the same site, pause elsewhere (unless
          // the visitor paused sharing: then nothing is recorded on any page until they resume).
          if (!state.paused) {
            if (sameSite(request.url, state.site)) void capture.inject(state.tabId);
            else sendToAgents({ t: "paused", reason: "left_site" });
          }
        }
        // Every page load in every tab asks this: read each storage item once.
        const origin = httpOrigin(request.url);
        const [settings, identities, customUi, enabled] = await Promise.all([loadSettings(), loadIdentities(), loadCustomUiOrigins(), loadEnabledOrigins()]);
        const show =
          thisTab || (origin !== null && (siteConfigured(settings, request.url) || enabled.includes(origin) || identities[origin] !== undefined));
        const init = show ? await checkInit(settings) : { ok: false as const, error: glimpseError("INVALID_STATE") };
        return {
          show,
          init,
          session: controller.view(),
          thisTab,
          visitorId: origin ? (identities[origin]?.visitorId ?? null) : null,
          customUi: origin !== null && customUi.includes(origin),
          rule: ruleFor(settings, request.url),
          presence: presence.view(),
        } satisfies Responses["getStatus"];
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
        // Share screen always starts a manual (random-key) session, also when logged in.
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
      case "pauseShare":
      case "resumeShare":
        await controller.dispatch({ type: request.type });
        return OK;
      case "controlAnswer":
        // Only the shared tab's panel shows the control dialog.
        if (sender.tab?.id === undefined || sender.tab.id !== controller.view().tabId) return { ok: false, error: glimpseError("INVALID_STATE", "Control is answered in the shared tab.") };
        remote.dispatch({ type: "answer", allow: request.allow });
        return OK;
      case "controlStop":
        remote.dispatch({ type: "stop" });
        return OK;
      case "setMarksHidden":
        capture.setMarksHidden(request.hidden);
        changed();
        return OK;
      case "loadUi": {
        const tabId = sender.tab?.id;
        if (tabId === undefined) return { ok: false, error: glimpseError("INVALID_STATE", "Only a page loads the UI.") };
        await browser.scripting.executeScript({ target: { tabId, frameIds: [sender.frameId ?? 0] }, files: ["ui.js"] });
        return OK;
      }
      case "termsShown": {
        const tabId = termsFrameTab(sender);
        return { request: tabId === null ? null : await presence.shownIn(tabId) };
      }
      case "termsAnswer": {
        const tabId = termsFrameTab(sender);
        if (tabId === null) return { ok: false, error: glimpseError("INVALID_STATE", "Only the consent dialog answers a request.") };
        const answered = await presence.answer(tabId, request.id, request.status);
        return answered ? OK : { ok: false, error: glimpseError("INVALID_STATE", "This request is no longer open.") };
      }
      case "setIdentity": {
        const origin = httpOrigin(sender.url ?? sender.tab?.url ?? "");
        if (!origin || sender.tab === undefined) return { ok: false, error: glimpseError("INVALID_STATE", "Only a page can link its visitor.") };
        await saveIdentity(origin, request.identity);
        if (request.ui) await setCustomUi(origin, request.ui === "none");
        await presence.identitiesChanged();
        changed();
        return OK;
      }
      case "linkVisitor": {
        if (!fromExtensionPage(sender)) return { ok: false, error: glimpseError("INVALID_STATE", "Link a visitor from the popup.") };
        const origin = httpOrigin(request.origin);
        if (!origin) return { ok: false, error: glimpseError("PERMISSION_DENIED") };
        await saveIdentity(origin, request.visitorId ? { visitorId: request.visitorId, token: null, name: null, email: null, source: "manual" } : null);
        await presence.identitiesChanged();
        changed();
        return OK;
      }
      case "getPopup": {
        const { settings, managed } = await loadSettingsWithPolicy();
        const origin = httpOrigin(request.url);
        const [enabled, identities] = await Promise.all([loadEnabledOrigins(), loadIdentities()]);
        const identity = origin ? identities[origin] : undefined;
        return {
          session: controller.view(),
          init: await checkInit(settings),
          origin,
          siteConfigured: siteConfigured(settings, request.url),
          siteEnabled: origin !== null && enabled.includes(origin),
          history: await recentSessions(),
          visitorId: identity?.visitorId ?? null,
          identitySource: identity?.source ?? null,
          presence: presence.view(),
          server: { serverUrl: settings.serverUrl, groupId: settings.groupId, managed: managed.includes("serverUrl") || managed.includes("groupId") },
        } satisfies Responses["getPopup"];
      }
      case "setSiteEnabled": {
        if (!fromExtensionPage(sender)) return undefined;
        const enabled = new Set(await loadEnabledOrigins());
        if (request.enabled) enabled.add(request.origin);
        else enabled.delete(request.origin);
        await saveEnabledOrigins([...enabled]);
        return OK;
      }
      case "getSettings":
        return loadSettingsWithPolicy();
      case "saveSettings":
        if (!fromExtensionPage(sender)) return undefined;
        await saveSettings(request.settings);
        forgetInit();
        return OK;
    }
  }
}
