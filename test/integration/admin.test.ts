/**
 * The admin CLI (`npm run admin -- …`) as an operator runs it, as its own process on the database
 * file: webhook endpoints and company sign-in settings, and its refusals.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Store } from "../../server/store";

let dir: string;
let db: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "glimpse-admin-"));
  db = join(dir, "glimpse.db");
  const store = new Store(db);
  store.createGroup({ id: "acme", name: "Acme", keyLength: 6, secret: "s", requireVerified: false });
  store.close();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const admin = (args: string[], input = "") =>
  spawnSync(process.execPath, ["--import", "tsx", "server/admin.ts", ...args], {
    cwd: fileURLToPath(new URL("../..", import.meta.url)),
    env: { ...process.env, GLIMPSE_DB: db, GLIMPSE_DATABASE_URL: "" },
    input,
    encoding: "utf8",
  });

/** What the CLI left in the database. */
function stored<T>(read: (store: Store) => T): T {
  const store = new Store(db);
  try {
    return read(store);
  } finally {
    store.close();
  }
}

describe("admin CLI", () => {
  it("sets a webhook endpoint: the URL gets a new signing secret; a bad URL or an unknown group is refused; off stops deliveries", () => {
    const set = admin(["webhook", "acme", "https://crm.example/glimpse-events"]);
    expect(set.status).toBe(0);
    const secret = /whsec_[A-Za-z0-9+/=]+/.exec(set.stdout)?.[0];
    expect(secret).toBeTruthy();
    expect(stored((store) => store.webhookOf("acme"))).toEqual({ url: "https://crm.example/glimpse-events", secret });
    const bad = admin(["webhook", "acme", "ftp://crm.example"]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("give the endpoint's full URL");
    expect(admin(["webhook", "nope", "https://crm.example"]).stderr).toContain('group "nope" does not exist');
    expect(admin(["webhook", "acme", "off"]).status).toBe(0);
    expect(stored((store) => store.webhookOf("acme"))).toBeNull();
  });

  it("sets company sign-in: the client secret from stdin, domains, a claim, passwords off; refuses what cannot work; off", () => {
    const set = admin(["sso", "acme", "--issuer", "https://id.acme.example/realms/support", "--client-id", "glimpse", "--domains", "Acme.example, acme.test", "--passwords", "off"], "client-secret-from-stdin\n");
    expect(set.status).toBe(0);
    expect(set.stdout).toContain("/api/sso/callback");
    expect(stored((store) => store.ssoOf("acme"))).toEqual({
      issuer: "https://id.acme.example/realms/support",
      clientId: "glimpse",
      clientSecret: "client-secret-from-stdin",
      allowedDomains: ["acme.example", "acme.test"],
      requiredClaim: "",
      passwordsOff: true,
    });
    const claim = admin(["sso", "acme", "--issuer", "https://id.acme.example", "--client-id", "glimpse", "--claim", "groups=support"], "s");
    expect(claim.status).toBe(0);
    expect(stored((store) => store.ssoOf("acme"))).toMatchObject({ allowedDomains: [], requiredClaim: "groups=support", passwordsOff: false });
    expect(admin(["sso", "acme", "--issuer", "http://id.acme.example", "--client-id", "glimpse"], "s").stderr).toContain("https URL");
    expect(admin(["sso", "acme", "--issuer", "https://id.acme.example"], "s").stderr).toContain("--client-id");
    expect(admin(["sso", "acme", "--issuer", "https://id.acme.example", "--client-id", "glimpse"], "").stderr).toContain("client secret on stdin");
    expect(admin(["sso", "acme", "off"]).status).toBe(0);
    expect(stored((store) => store.ssoOf("acme"))).toBeNull();
  });

  it("sets the origins whose pages may use the CRM widget; refuses what is not an origin; off", () => {
    expect(admin(["embed", "acme", "https://crm.example, https://acme.my.salesforce.com"]).status).toBe(0);
    expect(stored((store) => store.embedOriginsOf("acme"))).toEqual(["https://crm.example", "https://acme.my.salesforce.com"]);
    expect(admin(["embed", "acme", "https://crm.example/path"]).stderr).toContain("origins as browsers send them");
    expect(admin(["embed", "acme"]).stderr).toContain("origins as browsers send them");
    expect(stored((store) => store.embedOriginsOf("acme"))).toHaveLength(2);
    expect(admin(["embed", "acme", "off"]).status).toBe(0);
    expect(stored((store) => store.embedOriginsOf("acme"))).toEqual([]);
  });
});
