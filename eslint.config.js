// Lint, including the context boundaries of STYLE.md §2 as errors.
import tseslint from "typescript-eslint";

const ctx = (...names) => names.flatMap((n) => [`**/${n}`, `**/${n}/**`, `~${n}/**`]);
const restrict = (files, groups, message) => ({
  files,
  rules: { "no-restricted-imports": ["error", { patterns: [{ group: groups, message }] }] },
});

export default tseslint.config(
  { ignores: ["node_modules/", "build/", ".plasmo/", "console/dist/", "bench/results/", "test/fidelity/pages/public/"] },
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-explicit-any": "error",
      "no-unreachable": "error",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  restrict(
    ["src/**"],
    [...ctx("background", "contents", "popup", "options", "server", "console"), "webextension-polyfill", "node:*"],
    "src/ is the pure core: no context folder, no browser extension API, no Node API.",
  ),
  restrict(["contents/**", "popup/**", "options/**"], ctx("background", "server"), "UI contexts talk to the background by messages, never by import."),
  restrict(["background/**"], ctx("contents", "popup", "options", "server", "console"), "The background imports only src/."),
  restrict(
    ["server/**"],
    [...ctx("background", "contents", "popup", "options", "console"), "webextension-polyfill"],
    "The server never imports extension or console code.",
  ),
  restrict(["console/**"], [...ctx("background", "contents", "popup", "options", "server"), "webextension-polyfill"], "The console imports only src/."),
);
