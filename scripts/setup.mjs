/**
 * Shared by `npm start` and `npm test`: make a fresh machine ready. Uses only Node built-ins,
 * because it runs before node_modules exists.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");

export function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit", ...options });
  if (result.status !== 0) {
    console.error(`\n✖ ${command} ${args.join(" ")} failed (exit ${result.status ?? result.signal})`);
    process.exit(result.status ?? 1);
  }
}

export function ensureNodeModules() {
  const major = Number(process.versions.node.split(".")[0]);
  if (major < 20) {
    console.error(`Glimpse needs Node.js 20 or newer; this is ${process.version}.`);
    process.exit(1);
  }
  if (existsSync(join(root, "node_modules/.bin/plasmo")) && existsSync(join(root, "node_modules/better-sqlite3/build/Release"))) return;
  console.log("Installing npm packages…");
  run("npm", [existsSync(join(root, "package-lock.json")) ? "ci" : "install", "--no-audit", "--no-fund"]);
}

/** The Debian packages the tests need: the browsers the e2e tier drives, and the servers the several-nodes tests start. */
export const SYSTEM_PACKAGES = [
  { bin: "/usr/bin/chromium", pkg: "chromium", env: "GLIMPSE_CHROMIUM" },
  { bin: "/usr/bin/firefox-esr", pkg: "firefox-esr", env: "GLIMPSE_FIREFOX" },
  // Several nodes: the tests start their own Redis and nginx (test/helpers/cluster.ts).
  { bin: "/usr/bin/redis-server", pkg: "redis-server" },
  { bin: "/usr/sbin/nginx", pkg: "nginx-light" },
  // PostgreSQL: the store suite and the several-nodes tests start a throwaway server (test/helpers/postgres.ts).
  { found: () => existsSync("/usr/lib/postgresql") && readdirSync("/usr/lib/postgresql").some((v) => existsSync(join("/usr/lib/postgresql", v, "bin/postgres"))), pkg: "postgresql" },
];

export function ensureSystemPackages() {
  const missing = SYSTEM_PACKAGES.filter((b) => !(b.found ? b.found() : existsSync((b.env && process.env[b.env]) || b.bin)));
  if (missing.length === 0) return;
  const pkgs = missing.map((b) => b.pkg);
  const isRoot = process.getuid?.() === 0;
  const sudo = !isRoot && spawnSync("sudo", ["-n", "true"]).status === 0 ? ["sudo"] : isRoot ? [] : null;
  if (!sudo) {
    console.error(`The tests need ${pkgs.join(" and ")}. Install them with:\n  sudo apt-get update && sudo apt-get install -y ${pkgs.join(" ")}`);
    process.exit(1);
  }
  console.log(`Installing ${pkgs.join(", ")} from Debian's packages…`);
  const apt = (args) => (sudo.length ? run("sudo", ["apt-get", ...args]) : run("apt-get", args, { env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } }));
  apt(["update", "-qq"]);
  apt(["install", "-y", "-qq", ...pkgs]);
}

export function nodeBin(name) {
  return join(root, "node_modules/.bin", name);
}

export function hasCommand(command) {
  try {
    execFileSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
