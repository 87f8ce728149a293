/**
 * Message catalogues. The extension's live in `locales/<lang>/messages.json` (the browser's
 * `_locales` format, read with `i18n.getMessage`); the console's in `console/locales/<lang>.json`.
 * Placeholders are `{name}`, filled here (the same in every browser).
 */
export type ExtensionMessageKey = keyof typeof import("../locales/en/messages.json");
export type Params = Record<string, string | number>;

export function format(template: string, params: Params = {}): string {
  return template.replace(/\{(\w+)\}/g, (match, name: string) => (name in params ? String(params[name]) : match));
}

/** A `t()` over a message source; a missing message shows its key rather than nothing. */
export function translator<K extends string>(lookup: (key: K) => string | undefined) {
  return (key: K, params?: Params): string => format(lookup(key) || key, params);
}

/** The best available language for the user's preferences ("de-AT" → "de"), else English. */
export function pickLanguage(preferred: readonly string[], available: readonly string[]): string {
  for (const tag of preferred) {
    const lang = tag.toLowerCase().split("-")[0]!;
    if (available.includes(lang)) return lang;
  }
  return "en";
}
