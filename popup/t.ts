import browser from "webextension-polyfill";
import { translator, type ExtensionMessageKey } from "~src/i18n";

export const t = translator<ExtensionMessageKey>((key) => browser.i18n.getMessage(key));
