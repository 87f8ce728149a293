/** The built extension: entries present (Plasmo builds empty without --src-path=.), page cost within budget. */
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const PAGE_SCRIPT_BUDGET = 20 * 1024;

describe.each(["chrome-mv3", "firefox-mv3"])("%s build", (target) => {
  const dir = join("build", `${target}-prod`);
  const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));

  it("declares the page script, the background, the popup and the options page", () => {
    expect(manifest.manifest_version).toBe(3);
    expect(manifest.content_scripts).toHaveLength(1);
    expect(manifest.background.service_worker ?? manifest.background.scripts).toBeTruthy();
    expect(manifest.action.default_popup).toBe("popup.html");
    expect(manifest.options_ui.page).toBe("options.html");
  });

  it(`injects at most ${PAGE_SCRIPT_BUDGET} bytes into a page with no session`, () => {
    const files: string[] = manifest.content_scripts.flatMap((entry: { js: string[]; css?: string[] }) => [...entry.js, ...(entry.css ?? [])]);
    const bytes = files.reduce((sum, file) => sum + statSync(join(dir, file)).size, 0);
    process.stdout.write(`[build] ${target}: ${bytes} bytes of script on every page\n`);
    expect(bytes).toBeLessThanOrEqual(PAGE_SCRIPT_BUDGET);
  });

  it("ships the recorder separately, loaded only into a shared tab", () => {
    expect(statSync(join(dir, "capture.js")).size).toBeGreaterThan(10_000);
    expect(JSON.stringify(manifest.content_scripts)).not.toContain("capture.js");
    expect(JSON.stringify(manifest.web_accessible_resources)).not.toContain("capture");
  });

  it("lets pages frame the consent dialog and nothing else of the extension (Chrome: by a per-session URL only)", () => {
    const dynamic = target.startsWith("chrome") ? { use_dynamic_url: true } : {};
    expect(manifest.web_accessible_resources).toEqual([{ resources: ["terms.html"], matches: ["<all_urls>"], ...dynamic }]);
    expect(readFileSync(join(dir, "terms.html"), "utf8")).toContain('src="terms.js"');
    expect(statSync(join(dir, "terms.js")).size).toBeGreaterThan(1_000);
  });
});
