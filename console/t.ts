/**
 * The console's strings: its own catalogue plus the extension's error messages (one source for
 * every error code's text), in the agent's browser language when available.
 */
import { pickLanguage, translator, type ExtensionMessageKey } from "~src/i18n";
import extensionDe from "../locales/de/messages.json";
import extensionEn from "../locales/en/messages.json";
import de from "./locales/de.json";
import en from "./locales/en.json";

export type ConsoleKey = keyof typeof en | Extract<ExtensionMessageKey, `error_${string}`>;

const catalogs: Record<string, Record<string, string>> = {
  en: { ...errorsOf(extensionEn), ...en },
  de: { ...errorsOf(extensionDe), ...de },
};

function errorsOf(catalog: Record<string, { message: string }>): Record<string, string> {
  return Object.fromEntries(Object.entries(catalog).filter(([key]) => key.startsWith("error_")).map(([key, value]) => [key, value.message]));
}

const lang = pickLanguage(typeof navigator === "undefined" ? [] : navigator.languages, Object.keys(catalogs));
document.documentElement.lang = lang;
export const t = translator<ConsoleKey>((key) => catalogs[lang]?.[key] ?? catalogs.en?.[key]);
