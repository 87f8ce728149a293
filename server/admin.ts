/**
 * Non-interactive administration (documented in the README):
 *   npm run admin -- create-group <id> [--name <name>] [--key-length <4-12>] [--require-verified]
 *   npm run admin -- group-secret <id>        (print the secret sites sign visitor tokens with)
 *   npm run admin -- require-verified <id> on|off
 *   npm run admin -- sso <id> --issuer <url> --client-id <id> [--domains a.com,b.com] [--claim groups=support] [--passwords on|off]
 *                                (the client secret on stdin; company sign-in for agents) | sso <id> off
 *   npm run admin -- embed <id> <origin>[,<origin>…]|off   (CRM pages that may use the one-click widget)
 *   npm run admin -- webhook <id> <https-url>|off   (session and request events for a CRM; prints the signing secret)
 *   npm run admin -- create-agent <username> --group <id> [--password-stdin]
 *   npm run admin -- create-token <username> [--label <text>]   (API token for CRM integrations, shown once)
 *   npm run admin -- revoke-tokens <username>
 *   npm run admin -- remove-agent <username>   (with its sign-ins and tokens; open consoles close within seconds)
 *   npm run admin -- list
 *   npm run admin -- init-demo        (first run: demo group + a first agent, credentials printed once)
 * The database is GLIMPSE_DATABASE_URL (PostgreSQL) when set, else GLIMPSE_DB (SQLite, default data/glimpse.db).
 */
import { parseArgs } from "node:util";
import { readFileSync } from "node:fs";
import { DEFAULT_KEY_LENGTH, MAX_KEY_LENGTH, MIN_KEY_LENGTH } from "../src/keys";
import { configFromEnv } from "./config";
import { hashPassword, randomSecret } from "./passwords";
import { newWebhookSecret } from "./webhooks";
import { ORIGIN_PATTERN } from "./widget";
import { openStore, type StoreApi } from "./store";

function fail(message: string): never {
  console.error(`glimpse admin: ${message}`);
  process.exit(1);
}

async function createAgent(store: StoreApi, groupId: string, username: string, password?: string) {
  if (!(await store.getGroup(groupId))) fail(`group "${groupId}" does not exist; create it first with create-group`);
  if (await store.getAgentByUsername(username)) fail(`agent "${username}" already exists`);
  const secret = password ?? randomSecret(12);
  await store.createAgent(groupId, username, await hashPassword(secret));
  return secret;
}

async function main(argv: string[]) {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      name: { type: "string" },
      "key-length": { type: "string" },
      group: { type: "string" },
      "password-stdin": { type: "boolean" },
      "require-verified": { type: "boolean" },
      label: { type: "string" },
      issuer: { type: "string" },
      "client-id": { type: "string" },
      domains: { type: "string" },
      claim: { type: "string" },
      passwords: { type: "string" },
    },
  });
  const [command, arg] = positionals;
  const store = await openStore(configFromEnv());
  try {
    switch (command) {
      case "create-group": {
        if (!arg || !/^[A-Za-z0-9_-]{1,64}$/.test(arg)) fail("create-group needs an id of letters, digits, - or _");
        if (await store.getGroup(arg)) fail(`group "${arg}" already exists`);
        const keyLength = Number(values["key-length"] ?? DEFAULT_KEY_LENGTH);
        if (!Number.isInteger(keyLength) || keyLength < MIN_KEY_LENGTH || keyLength > MAX_KEY_LENGTH) {
          fail(`--key-length must be ${MIN_KEY_LENGTH}..${MAX_KEY_LENGTH}`);
        }
        const secret = randomSecret();
        await store.createGroup({ id: arg, name: values.name ?? arg, keyLength, secret, requireVerified: Boolean(values["require-verified"]) });
        console.log(`created group ${arg}; visitor token secret (HS256): ${secret}`);
        break;
      }
      case "group-secret": {
        const group = arg ? await store.getGroup(arg) : null;
        if (!group) fail(`group "${arg ?? ""}" does not exist`);
        console.log(group.secret);
        break;
      }
      case "require-verified": {
        const group = arg ? await store.getGroup(arg) : null;
        if (!group) fail(`group "${arg ?? ""}" does not exist`);
        const mode = positionals[2];
        if (mode !== "on" && mode !== "off") fail("require-verified <id> on|off");
        await store.setRequireVerified(group.id, mode === "on");
        console.log(`group ${group.id}: verified visitors ${mode === "on" ? "required" : "optional"}`);
        break;
      }
      case "sso": {
        const group = arg ? await store.getGroup(arg) : null;
        if (!group) fail(`group "${arg ?? ""}" does not exist`);
        if (positionals[2] === "off") {
          await store.setSso(group.id, null);
          console.log(`group ${group.id}: company sign-in off (agents sign in with passwords)`);
          break;
        }
        let issuer: URL | null = null;
        try {
          issuer = new URL(values.issuer ?? "");
        } catch {
          // reported below
        }
        if (!issuer || (issuer.protocol !== "https:" && !["127.0.0.1", "localhost"].includes(issuer.hostname))) fail("sso needs --issuer <https URL of the identity provider> (its /.well-known/openid-configuration is read)");
        if (!values["client-id"]) fail("sso needs --client-id <the client ID the identity provider gave Glimpse>");
        if (values.passwords !== undefined && values.passwords !== "on" && values.passwords !== "off") fail("--passwords on|off");
        const clientSecret = readFileSync(0, "utf8").trim();
        if (!clientSecret) fail("sso reads the client secret on stdin: echo \"$SECRET\" | npm run admin -- sso …");
        const allowedDomains = (values.domains ?? "").split(",").map((d) => d.trim().toLowerCase()).filter(Boolean);
        const requiredClaim = values.claim ?? "";
        // The issuer is kept as written: the provider's discovery document must name the same one.
        await store.setSso(group.id, { issuer: values.issuer!, clientId: values["client-id"], clientSecret, allowedDomains, requiredClaim, passwordsOff: values.passwords === "off" });
        console.log(
          `group ${group.id}: company sign-in through ${issuer.href}; ` +
            (allowedDomains.length ? `e-mail domains ${allowedDomains.join(", ")}` : "any e-mail domain") +
            (requiredClaim ? `, claim ${requiredClaim}` : "") +
            `; passwords ${values.passwords === "off" ? "off" : "on"}\nRegister this redirect URI with the provider: https://<your Glimpse host>/api/sso/callback`,
        );
        break;
      }
      case "embed": {
        const group = arg ? await store.getGroup(arg) : null;
        if (!group) fail(`group "${arg ?? ""}" does not exist`);
        const list = positionals[2] ?? "";
        const origins = list === "off" ? [] : list.split(",").map((o) => o.trim()).filter(Boolean);
        if (list !== "off" && (origins.length === 0 || !origins.every((o) => ORIGIN_PATTERN.test(o)))) {
          fail("embed <id> <origin>[,<origin>…]|off: origins as browsers send them, e.g. https://crm.example or https://acme.my.salesforce.com (no path, no trailing slash)");
        }
        await store.setEmbedOrigins(group.id, origins);
        console.log(origins.length ? `group ${group.id}: the widget may be used on ${origins.join(", ")}` : `group ${group.id}: the widget is off`);
        break;
      }
      case "webhook": {
        const group = arg ? await store.getGroup(arg) : null;
        if (!group) fail(`group "${arg ?? ""}" does not exist`);
        const target = positionals[2];
        if (target === "off") {
          await store.setWebhook(group.id, "", "");
          console.log(`group ${group.id}: webhooks off`);
          break;
        }
        let url: URL | null = null;
        try {
          url = new URL(target ?? "");
        } catch {
          // reported below
        }
        if (!url || (url.protocol !== "https:" && url.protocol !== "http:")) fail("webhook <id> <https-url>|off: give the endpoint's full URL, e.g. https://crm.example/glimpse-events");
        const secret = newWebhookSecret();
        await store.setWebhook(group.id, url.href, secret);
        console.log(`group ${group.id}: webhooks to ${url.href}\nsigning secret (Standard Webhooks, verify every delivery with it): ${secret}`);
        break;
      }
      case "create-agent": {
        if (!arg) fail("create-agent needs a username");
        if (!values.group) fail("create-agent needs --group <id>");
        const given = values["password-stdin"] ? readFileSync(0, "utf8").trim() : undefined;
        if (given !== undefined && given.length < 8) fail("the password must be at least 8 characters");
        const password = await createAgent(store, values.group, arg, given);
        console.log(given ? `created agent ${arg}` : `created agent ${arg} with password: ${password}`);
        break;
      }
      case "create-token": {
        const agent = arg ? await store.getAgentByUsername(arg) : null;
        if (!agent) fail(`agent "${arg ?? ""}" does not exist`);
        const token = `glm_${randomSecret()}`;
        await store.createApiToken(agent.id, token, values.label ?? "api", Date.now());
        console.log(`API token for ${agent.username} (shown once; send as "Authorization: Bearer <token>"):\n${token}`);
        break;
      }
      case "revoke-tokens": {
        const agent = arg ? await store.getAgentByUsername(arg) : null;
        if (!agent) fail(`agent "${arg ?? ""}" does not exist`);
        console.log(`revoked ${await store.revokeApiTokens(agent.id)} token(s) of ${agent.username}`);
        break;
      }
      case "remove-agent": {
        const agent = arg ? await store.getAgentByUsername(arg) : null;
        if (!agent) fail(`agent "${arg ?? ""}" does not exist`);
        await store.deleteAgent(agent.id);
        console.log(`removed agent ${agent.username}`);
        break;
      }
      case "list":
        for (const group of await store.listGroups()) console.log(`group ${group.id} "${group.name}" key length ${group.keyLength}`);
        console.log(`${await store.countAgents()} agent(s)`);
        break;
      case "init-demo": {
        if (!(await store.getGroup("demo"))) {
          await store.createGroup({ id: "demo", name: "Demo shop", keyLength: DEFAULT_KEY_LENGTH, secret: randomSecret(), requireVerified: false });
        }
        if ((await store.countAgents()) === 0) {
          const password = await createAgent(store, "demo", "agent");
          console.log(`\n  First agent account (shown once, keep it):  username: agent   password: ${password}\n`);
        }
        break;
      }
      default:
        fail("usage: create-group <id> [--name N] [--key-length L] [--require-verified] | group-secret <id> | require-verified <id> on|off | sso <id> --issuer U --client-id C [--domains D] [--claim N=V] [--passwords on|off] (secret on stdin) | sso <id> off | embed <id> <origins>|off | webhook <id> <url>|off | create-agent <username> --group <id> [--password-stdin] | create-token <username> [--label L] | revoke-tokens <username> | remove-agent <username> | list | init-demo");
    }
  } finally {
    await store.close();
  }
}

await main(process.argv.slice(2));
