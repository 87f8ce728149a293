#!/usr/bin/env node
/**
 * `npm test`: install what is missing, build, package (with Mozilla's `web-ext lint`), then lint,
 * type-check and run every test tier.
 */
import { ensureSystemPackages, ensureNodeModules, nodeBin, run } from "./setup.mjs";

ensureNodeModules();
ensureSystemPackages();
run("node", ["scripts/build.mjs"]);
run("node", ["scripts/package.mjs", "--no-build"]);
run(nodeBin("eslint"), ["."]);
run(nodeBin("tsc"), ["--noEmit"]);
for (const tier of ["unit", "integration", "e2e"]) {
  console.log(`\n── ${tier} tests ──`);
  run(nodeBin("vitest"), ["run", "--project", tier, ...process.argv.slice(2)]);
}
