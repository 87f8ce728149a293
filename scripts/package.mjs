#!/usr/bin/env node
/**
 * `npm run package`: the store packages, from a fresh build.
 *   dist/glimpse-chrome-<version>.zip    Chrome Web Store upload
 *   dist/glimpse-firefox-<version>.zip   addons.mozilla.org upload (passes `web-ext lint`)
 *   dist/glimpse-sources-<version>.zip   the sources AMO asks for (git archive of HEAD; build with
 *                                        `npm ci && npm run build`, output in build/firefox-mv3-prod)
 */
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { nodeBin, root, run } from "./setup.mjs";

const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const dist = join(root, "dist");
mkdirSync(dist, { recursive: true });

if (!process.argv.includes("--no-build")) run("node", ["scripts/build.mjs", "extension"]);
run(nodeBin("web-ext"), ["lint", "--source-dir", "build/firefox-mv3-prod", "--self-hosted=false", "--warnings-as-errors=false"]);

const zips = [
  ["build/chrome-mv3-prod", `glimpse-chrome-${version}.zip`],
  ["build/firefox-mv3-prod", `glimpse-firefox-${version}.zip`],
];
for (const [source, filename] of zips) {
  run(nodeBin("web-ext"), ["build", "--source-dir", source, "--artifacts-dir", "dist", "--filename", filename, "--overwrite-dest"]);
}
const sources = join(dist, `glimpse-sources-${version}.zip`);
run("git", ["archive", "--format=zip", "-o", sources, "HEAD"]);

for (const file of [...zips.map(([, name]) => join(dist, name)), sources]) {
  if (!existsSync(file) || statSync(file).size < 10_000) throw new Error(`${file} is missing or too small`);
  console.log(`${file}  ${statSync(file).size} bytes`);
}
