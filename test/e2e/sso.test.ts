/**
 * Company sign-in through a real OpenID Connect provider (oidc-provider, run by the test on its own
 * port, with its development login and consent pages) in Debian's Chromium: an agent of an allowed
 * domain is created at first sign-in and joins a session; one outside the domain is refused with
 * the console's message and no account; sign-out closes the agent's live sockets; a team with
 * passwords off refuses password sign-in.
 */
import Provider from "oidc-provider";
import type { Server } from "node:http";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchAgent } from "../helpers/chromium";
import { freePort } from "../helpers/cluster";
import { sharingVisitor, startServer, type Client, type TestServer } from "../helpers/server";

const CLIENT_SECRET = "glimpse-test-client-secret-0123456789";
/** The provider's e-mail address per login, where a test changed it (else the login itself). */
const emails = new Map<string, string>();
let glimpse: TestServer;
let idp: Server;
let agentBrowser: Awaited<ReturnType<typeof launchAgent>>;
const clients: Client[] = [];

beforeAll(async () => {
  glimpse = await startServer();
  glimpse.addGroup("acme");
  const port = await freePort();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [{ client_id: "glimpse", client_secret: CLIENT_SECRET, redirect_uris: [`${glimpse.url}/api/sso/callback`], response_types: ["code"], grant_types: ["authorization_code"] }],
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
    // Whatever is typed as the login on the provider's development page is the account: an e-mail address.
    findAccount: async (_ctx, id) => ({
      accountId: id,
      claims: async () => ({ sub: `sub-${id}`, email: emails.get(id) ?? id, email_verified: true, name: `${id.split("@")[0]!.replace(/^\w/, (c) => c.toUpperCase())} Example` }),
    }),
    cookies: { keys: ["oidc-test-cookie-key"] },
    features: { devInteractions: { enabled: true } },
  });
  idp = provider.listen(port, "127.0.0.1");
  glimpse.store.setSso("acme", { issuer, clientId: "glimpse", clientSecret: CLIENT_SECRET, allowedDomains: ["acme.example"], requiredClaim: "", passwordsOff: true });
  agentBrowser = await launchAgent();
}, 120_000);

afterAll(async () => {
  for (const client of clients) client.close();
  await agentBrowser?.close();
  await new Promise((resolve) => idp?.close(resolve));
  await glimpse?.close();
});

/** Company sign-in on the console as `login`, through the provider's login and consent pages. */
async function companySignIn(page: Page, login: string) {
  await page.goto(`${glimpse.url}/console/`);
  await page.getByLabel("Team").fill("acme");
  await page.getByRole("button", { name: "Continue with company account" }).click();
  await page.locator("input[name=login]").fill(login);
  await page.locator("input[name=password]").fill("any password");
  await page.getByRole("button", { name: "Sign-in" }).click();
  await page.getByRole("button", { name: "Continue" }).click();
}

describe("company sign-in (OpenID Connect)", () => {
  it("creates an agent at first sign-in, with the provider's name, who joins a session; sign-out closes the agent's sockets", async () => {
    const page = await (await agentBrowser.browser.newContext()).newPage();
    await companySignIn(page, "ann@acme.example");
    await page.getByLabel("Session key").waitFor();
    await expect.poll(() => page.getByTestId("signed-in-as").textContent()).toBe("Ann Example");
    expect(glimpse.store.getAgentByUsername("ann@acme.example")).toMatchObject({ groupId: "acme", displayName: "Ann Example" });

    const { client: visitor, key } = await sharingVisitor(glimpse, "acme");
    clients.push(visitor);
    await page.getByLabel("Session key").fill(key);
    await page.getByRole("button", { name: "Join" }).click();
    expect(await visitor.next("guests", (m) => m.count === 1)).toMatchObject({ agents: ["ann@acme.example"] });

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("Username").waitFor();
    // Her socket is gone: the visitor is told nobody is watching any more.
    expect(await visitor.next("guests", (m) => m.count === 0)).toMatchObject({ count: 0 });
    expect(glimpse.app.hub.registry.viewers).toBe(0);

    // A second sign-in (the provider remembers her: straight back) is the same agent, not a new one.
    await page.getByLabel("Team").fill("acme");
    await page.getByRole("button", { name: "Continue with company account" }).click();
    await page.getByLabel("Session key").waitFor();
    expect(glimpse.store.countAgents()).toBe(1);
  });

  it("comes back to the console page the sign-in started from (a visitor's record)", async () => {
    const page = await (await agentBrowser.browser.newContext()).newPage();
    await page.goto(`${glimpse.url}/console/#/visitor/cust-9`);
    await page.getByLabel("Team").fill("acme");
    await page.getByRole("button", { name: "Continue with company account" }).click();
    await page.locator("input[name=login]").fill("dee@acme.example");
    await page.locator("input[name=password]").fill("any password");
    await page.getByRole("button", { name: "Sign-in" }).click();
    await page.getByRole("button", { name: "Continue" }).click();
    await page.getByTestId("signed-in-as").waitFor();
    expect(new URL(page.url()).hash).toBe("#/visitor/cust-9");
  });

  it("refuses someone outside the team's e-mail domain with the console's message, and creates no agent", async () => {
    const page = await (await agentBrowser.browser.newContext()).newPage();
    await companySignIn(page, "eve@elsewhere.example");
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("not allowed into this team");
    expect(glimpse.store.getAgentByUsername("eve@elsewhere.example")).toBeNull();
    expect(page.url()).toBe(`${glimpse.url}/console/`); // the reason is shown once, not kept in the address
  });

  it("says so for a team without company sign-in", async () => {
    const page = await (await agentBrowser.browser.newContext()).newPage();
    await page.goto(`${glimpse.url}/console/`);
    await page.getByLabel("Team").fill("nosuchteam");
    await page.getByRole("button", { name: "Continue with company account" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("not set up for that team");
  });

  it("keeps an agent whose address changes at the provider, and refuses another person who claims a linked address", async () => {
    const first = await (await agentBrowser.browser.newContext()).newPage();
    await companySignIn(first, "cy@acme.example");
    await first.getByLabel("Session key").waitFor();
    const agents = glimpse.store.countAgents();
    emails.set("cy@acme.example", "cy.renamed@acme.example"); // same person (subject), new address
    const renamed = await (await agentBrowser.browser.newContext()).newPage();
    await companySignIn(renamed, "cy@acme.example");
    await renamed.getByLabel("Session key").waitFor();
    expect(await renamed.getByTestId("signed-in-as").getAttribute("title")).toBe("cy@acme.example");
    expect(glimpse.store.countAgents()).toBe(agents);
    expect(glimpse.store.getAgentByUsername("cy.renamed@acme.example")).toBeNull();
    emails.set("impostor@acme.example", "cy@acme.example"); // another person given cy's old address
    const impostor = await (await agentBrowser.browser.newContext()).newPage();
    await companySignIn(impostor, "impostor@acme.example");
    await expect.poll(() => impostor.getByRole("alert").textContent()).toContain("not allowed into this team");
    expect(glimpse.store.countAgents()).toBe(agents);
  });

  it("refuses a callback that is not the browser's own flow (no flow cookie, or a forged one) with SSO_FAILED and no sign-in", async () => {
    for (const cookie of [undefined, `glimpse_sso=${Buffer.from(JSON.stringify({ group: "acme", state: "forged", nonce: "n", verifier: "v".repeat(43) })).toString("base64url")}`]) {
      const response = await fetch(`${glimpse.url}/api/sso/callback?code=stolen-code&state=other`, { redirect: "manual", headers: cookie ? { cookie } : {} });
      expect(response.status).toBe(302);
      expect(response.headers.get("location")).toBe("/console/?sso_error=SSO_FAILED");
      expect(response.headers.getSetCookie().some((c) => c.startsWith("glimpse_agent="))).toBe(false);
    }
  });

  it("refuses a password sign-in for a team whose passwords are off, even with the right password", async () => {
    await glimpse.addAgent("acme", "legacy", "legacy password 1");
    const response = await fetch(`${glimpse.url}/api/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "legacy", password: "legacy password 1" }) });
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ code: "PASSWORD_SIGN_IN_OFF" });
    expect(response.headers.get("set-cookie")).toBeNull();
  });
});
