import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ERRORS } from "../../src/errors";
import { format, pickLanguage } from "../../src/i18n";

const extensionLocales = readdirSync("locales");
const extension = Object.fromEntries(
  extensionLocales.map((lang) => [
    lang,
    Object.fromEntries(Object.entries(JSON.parse(readFileSync(join("locales", lang, "messages.json"), "utf8")) as Record<string, { message: string }>).map(([k, v]) => [k, v.message])),
  ]),
) as Record<string, Record<string, string>>;
const consoleLocales = readdirSync("console/locales").map((file) => file.replace(/\.json$/, ""));
const consoleCatalogs = Object.fromEntries(consoleLocales.map((lang) => [lang, JSON.parse(readFileSync(`console/locales/${lang}.json`, "utf8"))])) as Record<string, Record<string, string>>;

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

/** Literal keys used with t("…") in a folder's sources. */
function usedKeys(folder: string): string[] {
  const keys: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== "dist" && entry.name !== "locales") walk(path);
      } else if (/\.tsx?$/.test(entry.name)) {
        for (const match of readFileSync(path, "utf8").matchAll(/\bt\("([A-Za-z0-9_]+)"/g)) keys.push(match[1]!);
      }
    }
  };
  walk(folder);
  return keys;
}

describe.each([
  ["extension", extension],
  ["console", consoleCatalogs],
])("%s message catalogues", (_name, catalogs) => {
  const english = catalogs.en!;

  it("exist in English and at least one other language", () => {
    expect(Object.keys(catalogs)).toContain("en");
    expect(Object.keys(catalogs).length).toBeGreaterThanOrEqual(2);
  });

  it.each(Object.keys(catalogs).filter((lang) => lang !== "en"))("%s has every key English has, and no others", (lang) => {
    const other = catalogs[lang]!;
    expect(Object.keys(english).filter((key) => !(key in other)), `missing in ${lang}`).toEqual([]);
    expect(Object.keys(other).filter((key) => !(key in english)), `unknown in ${lang}`).toEqual([]);
  });

  it.each(Object.keys(catalogs))("%s fills the same placeholders as English, with no empty message", (lang) => {
    for (const [key, text] of Object.entries(catalogs[lang]!)) {
      expect(text.trim(), `${lang}.${key}`).not.toBe("");
      expect(placeholders(text), `${lang}.${key}`).toEqual(placeholders(english[key] ?? ""));
    }
  });
});

describe("catalogue coverage", () => {
  it("has a message for every error code", () => {
    for (const code of Object.keys(ERRORS)) expect(extension.en, code).toHaveProperty(`error_${code}`);
  });

  it.each(["contents", "popup", "options"])("knows every key %s/ uses", (folder) => {
    expect(usedKeys(folder).filter((key) => !(key in extension.en!))).toEqual([]);
  });

  it("knows every key the console uses", () => {
    expect(usedKeys("console").filter((key) => !(key in consoleCatalogs.en!) && !(key in extension.en!))).toEqual([]);
  });
});

describe("formatting", () => {
  it("fills named placeholders and leaves unknown ones visible", () => {
    expect(format("{count} agents are viewing", { count: 3 })).toBe("3 agents are viewing");
    expect(format("Hello {name}", {})).toBe("Hello {name}");
  });

  it("picks the visitor's language, falling back to English", () => {
    expect(pickLanguage(["de-AT", "en"], ["en", "de"])).toBe("de");
    expect(pickLanguage(["fr-FR"], ["en", "de"])).toBe("en");
  });
});
