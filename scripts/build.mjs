#!/usr/bin/env node
/**
 * Builds everything a run needs: the extension for chrome-mv3 and firefox-mv3 (Plasmo), the
 * on-demand capture script for each (esbuild — Plasmo would declare it for every page), and the
 * agent console (esbuild). Fails loudly if Plasmo produced a manifest without entries.
 */
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const only = process.argv.slice(2);
const targets = ["chrome-mv3", "firefox-mv3"].filter((t) => only.length === 0 || only.includes(t) || only.includes("extension"));
const wantConsole = only.length === 0 || only.includes("console");

const common = {
  bundle: true,
  minify: true,
  sourcemap: false,
  target: ["chrome120", "firefox128"],
  alias: { "~src": join(root, "src") },
  jsx: "automatic",
  jsxImportSource: "preact",
  legalComments: "none",
  logLevel: "warning",
};

// The recorder needs rrweb with patches/ applied (npm's postinstall runs patch-package): without
// it, joining would serialise a big page in one blocking pass again, silently.
if (!readFileSync(join(root, "node_modules/rrweb/dist/rrweb.js"), "utf8").includes("sliceSnapshot")) {
  throw new Error("rrweb is not patched (patches/rrweb+2.2.2.patch): run `npm ci` or `npx patch-package`");
}

for (const target of targets) {
  const out = join(root, "build", `${target}-prod`);
  execFileSync(join(root, "node_modules/.bin/plasmo"), ["build", "--src-path=.", `--target=${target}`], { cwd: root, stdio: "inherit" });
  const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
  // The consent dialog is an extension page framed into the visitor's tab: pages may frame it
  // (and nothing else of ours). Chrome serves it from a per-session dynamic origin, so a page
  // cannot even probe for it; Firefox's moz-extension origin is already random per install.
  manifest.web_accessible_resources = [
    { resources: ["terms.html"], matches: ["<all_urls>"], ...(target.startsWith("chrome") ? { use_dynamic_url: true } : {}) },
  ];
  if (target.startsWith("chrome")) {
    // Enterprise policy (storage.managed) needs a schema in Chrome; Firefox reads a managed-storage
    // manifest on disk instead. Added here because Plasmo's manifest step cannot resolve the file.
    manifest.storage = { managed_schema: "managed_schema.json" };
    copyFileSync(join(root, "assets/managed_schema.json"), join(out, "managed_schema.json"));
  }
  writeFileSync(join(out, "manifest.json"), JSON.stringify(manifest));
  if (!manifest.content_scripts?.length || !(manifest.background?.service_worker || manifest.background?.scripts)) {
    throw new Error(`${target}: the built manifest has no content script or background — was --src-path=. lost?`);
  }
  // Plasmo declares the page script; esbuild bundles it. Every page pays for this file, and
  // Parcel's module wrapper adds ~50% to a file this small (budget: 20 KB).
  const pageScripts = manifest.content_scripts.flatMap((entry) => entry.js);
  if (pageScripts.length !== 1) throw new Error(`${target}: expected one content script, found ${pageScripts.join(", ")}`);
  await build({ ...common, entryPoints: [join(root, "contents/glimpse.ts")], outfile: join(out, pageScripts[0]), format: "iife" });
  // Loaded on demand by the background: the page UI (where Glimpse shows something) and the recorder (shared tab only).
  await build({ ...common, entryPoints: [join(root, "contents/ui/entry.tsx")], outfile: join(out, "ui.js"), format: "iife" });
  await build({ ...common, entryPoints: [join(root, "contents/ui/terms-frame.tsx")], outfile: join(out, "terms.js"), format: "iife" });
  copyFileSync(join(root, "contents/ui/terms.html"), join(out, "terms.html"));
  await build({ ...common, entryPoints: [join(root, "contents/capture/entry.ts")], outfile: join(out, "capture.js"), format: "iife" });
  await build({ ...common, entryPoints: [join(root, "contents/capture/main-world.ts")], outfile: join(out, "capture-main.js"), format: "iife" });
  console.log(`built ${target} → ${out}`);
}

if (wantConsole) {
  const out = join(root, "console/dist");
  mkdirSync(out, { recursive: true });
  await build({ ...common, entryPoints: [join(root, "console/main.tsx")], outfile: join(out, "app.js"), format: "esm", sourcemap: true });
  // The CRM widget: a classic script (document.currentScript names the server it came from).
  await build({ ...common, entryPoints: [join(root, "console/widget.ts")], outfile: join(out, "widget.js"), format: "iife", sourcemap: true });
  copyFileSync(join(root, "console/index.html"), join(out, "index.html"));
  copyFileSync(join(root, "console/console.css"), join(out, "console.css"));
  copyFileSync(join(root, "node_modules/rrweb/dist/style.css"), join(out, "rrweb.css"));
  console.log(`built console → ${out}`);
}
