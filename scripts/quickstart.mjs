#!/usr/bin/env node
/**
 * `npm start`: on a fresh machine, install, build, create the demo group and a first agent
 * (credentials printed once), and start the server with the console and the demo site.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ensureNodeModules, nodeBin, root, run } from "./setup.mjs";

ensureNodeModules();
if (process.env.GLIMPSE_SKIP_BUILD !== "1" || !existsSync(join(root, "build/chrome-mv3-prod/manifest.json"))) {
  run("node", ["scripts/build.mjs"]);
}
run(nodeBin("tsx"), ["server/admin.ts", "init-demo"]);

const host = process.env.GLIMPSE_HOST ?? "127.0.0.1";
const port = process.env.GLIMPSE_PORT ?? "8787";
console.log(`
Glimpse is ready.
  Agent console:  http://${host}:${port}/console/
  Demo shop:      http://${host}:${port}/demo/
  Extension to load unpacked:
    Chrome/Chromium: ${join(root, "build/chrome-mv3-prod")}   (chrome://extensions → Developer mode → Load unpacked)
    Firefox:         ${join(root, "build/firefox-mv3-prod/manifest.json")}   (about:debugging → This Firefox → Load Temporary Add-on)
`);
// The demo shop's token endpoint is for this quick start only; a production server leaves it off.
process.env.GLIMPSE_DEMO_TOKENS ??= "1";
run(nodeBin("tsx"), ["server/main.ts"]);
