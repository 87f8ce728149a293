/**
 * The CRM widget in Debian's Chromium: a CRM page on another site (http://localhost:<port>, the
 * server being http://127.0.0.1:<port>) embeds `<glimpse-visitor>`, the agent signs in in the
 * console's popup, sees the visitor online with their page, asks them to share, and opens the live
 * view once they accept; a page of an origin the team does not allow gets no token, and a token
 * used from another origin opens no socket.
 */
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchAgent } from "../helpers/chromium";
import { freePort } from "../helpers/cluster";
import { Client, startServer, TEST_EXTENSION_ORIGIN, type TestServer } from "../helpers/server";

const PW = "correct horse battery";
let glimpse: TestServer;
let crm: Server;
let crmOrigin: string;
let otherOrigin: string;
let agentBrowser: Awaited<ReturnType<typeof launchAgent>>;
const clients: Client[] = [];
const track = (client: Client) => (clients.push(client), client);

beforeAll(async () => {
  glimpse = await startServer();
  glimpse.addGroup("acme");
  await glimpse.addAgent("acme", "alice", PW);
  // One page server, reached under two origins: localhost (allowed) and 127.0.0.1 (not).
  const port = await freePort();
  crmOrigin = `http://localhost:${port}`;
  otherOrigin = `http://127.0.0.1:${port}`;
  crm = createServer((request, response) => {
    // ?token=…: the CRM's backend got a widget token with its API token and writes it into the page.
    const token = new URL(request.url ?? "/", "http://x").searchParams.get("token")?.replace(/[^A-Za-z0-9_-]/g, "") ?? "";
    response.setHeader("content-type", "text/html");
    // A strict CSP, as CRMs have: the widget needs only the Glimpse server in script-src and connect-src.
    response.setHeader("content-security-policy", `default-src 'self'; script-src ${glimpse.url}; connect-src ${glimpse.wsUrl}; style-src 'self'`);
    response.end(`<!doctype html><title>CRM: customer cust-42</title><h1>Customer cust-42</h1>
<script src="${glimpse.url}/console/widget.js"></script>
<glimpse-visitor visitor-id="cust-42"${token ? ` token="${token}"` : ""}></glimpse-visitor>`);
  });
  await new Promise<void>((resolve) => crm.listen(port, "127.0.0.1", resolve));
  glimpse.store.setEmbedOrigins("acme", [crmOrigin]);
  agentBrowser = await launchAgent();
}, 120_000);

afterAll(async () => {
  for (const client of clients) client.close();
  await agentBrowser?.close();
  await new Promise((resolve) => crm?.close(resolve));
  await glimpse?.close();
});

async function presentVisitor() {
  const v = track(await Client.open(`${glimpse.wsUrl}/ws/visitor?role=presence`, { Origin: TEST_EXTENSION_ORIGIN }));
  v.send({ t: "hello", v: 1, groupId: "acme", client: "test", visitorId: "cust-42", role: "presence" });
  await v.next("welcome");
  v.send({ t: "presence", url: "https://shop.example/checkout", title: "Checkout", visible: true });
  return v;
}

describe("the CRM widget", () => {
  it("shows the visitor online on a CRM page of an allowed origin, asks them to share, and opens the live view", async () => {
    const v = await presentVisitor();
    const page = await agentBrowser.context.newPage();
    await page.goto(`${crmOrigin}/record/cust-42`);
    const signInPopup = page.waitForEvent("popup");
    await page.getByRole("button", { name: "Sign in to Glimpse" }).click();
    const popup = await signInPopup;
    await popup.getByLabel("Username").fill("alice");
    await popup.getByLabel("Password").fill(PW);
    await popup.getByRole("button", { name: "Sign in" }).click();
    await popup.waitForEvent("close"); // handed the token over and closed

    await expect.poll(() => page.locator("glimpse-visitor").getByText("Online").isVisible()).toBe(true);
    expect(await page.locator("glimpse-visitor").getByText("Checkout").isVisible()).toBe(true);
    await page.getByRole("button", { name: "Start screen share" }).click();
    const request = await v.next<{ t: string; id: string; agent: string }>("shareRequest");
    expect(request.agent).toBe("alice");
    v.send({ t: "requestAnswer", id: request.id, status: "displayed" });
    await expect.poll(() => page.locator("glimpse-visitor").getByText("The visitor sees the request.").isVisible()).toBe(true);
    v.send({ t: "requestAnswer", id: request.id, status: "accepted" });
    const { ticket } = await v.next<{ t: string; ticket: string }>("requestAccepted");
    const s = track(await Client.open(`${glimpse.wsUrl}/ws/visitor`, { Origin: TEST_EXTENSION_ORIGIN }));
    s.send({ t: "hello", v: 1, groupId: "acme", client: "test", role: "session", visitorId: "cust-42", ticket });
    await s.next("welcome");
    s.send({ t: "startSession", keyType: "visitor", site: "https://shop.example" });
    await s.next("sessionStarted");

    const livePopup = page.waitForEvent("popup");
    await page.getByRole("button", { name: "Open live view" }).click();
    const live = await livePopup;
    expect(live.url()).toBe(`${glimpse.url}/console/#/visitor/cust-42/live`);
    // The console in its own window (the agent's sign-in from the popup) joins the visitor's session.
    expect(await s.next("guests", (m) => m.count === 1 && (m.agents as string[]).includes("alice"), 30_000)).toBeTruthy();
    await live.getByTestId("agents").waitFor();
    await live.close();
    await page.close();
  });

  it("gives no token to a page of an origin the team does not allow, and says why in the widget", async () => {
    const page = await agentBrowser.context.newPage(); // signed in to the console already (first test)
    await page.goto(`${otherOrigin}/record/cust-42`);
    const popup = page.waitForEvent("popup");
    await page.getByRole("button", { name: "Sign in to Glimpse" }).click();
    const shown = await popup;
    await expect.poll(() => page.locator("glimpse-visitor").getByText("may not use the Glimpse widget").isVisible(), { timeout: 15_000 }).toBe(true);
    expect(await shown.getByRole("alert").textContent()).toContain("may not use the Glimpse widget");
    await page.close();
  });

  it("takes a token the CRM's backend made with its API token, with no sign-in popup", async () => {
    const alice = glimpse.store.getAgentByUsername("alice")!;
    glimpse.store.createApiToken(alice.id, "glm_crm-backend-token-0123456789", "crm", Date.now());
    const made = await fetch(`${glimpse.url}/api/widget-tokens`, {
      method: "POST",
      headers: { authorization: "Bearer glm_crm-backend-token-0123456789", "content-type": "application/json" },
      body: JSON.stringify({ origin: crmOrigin }),
    });
    expect(made.status).toBe(200);
    const { token } = (await made.json()) as { token: string };
    const v = await presentVisitor();
    const page = await (await agentBrowser.browser.newContext()).newPage(); // no console sign-in in this browser
    await page.goto(`${crmOrigin}/record/cust-42?token=${token}`);
    await expect.poll(() => page.locator("glimpse-visitor").getByText("Online").isVisible()).toBe(true);
    expect(await page.getByRole("button", { name: "Start screen share" }).isVisible()).toBe(true);
    v.close();
    await page.close();
  });

  it("opens no socket for a widget token used from another origin than it was made for", async () => {
    const cookie = await glimpse.signIn("alice", PW);
    const made = await fetch(`${glimpse.url}/api/widget-tokens`, { method: "POST", headers: { cookie, origin: glimpse.url, "content-type": "application/json" }, body: JSON.stringify({ origin: crmOrigin }) });
    expect(made.status).toBe(200);
    const { token } = (await made.json()) as { token: string };
    const elsewhere = track(await Client.open(`${glimpse.wsUrl}/ws/agent`, { Origin: otherOrigin }, { protocols: [`glimpse-widget.${token}`] }));
    expect(await elsewhere.next("error")).toMatchObject({ code: "NOT_AUTHORIZED" });
    expect((await elsewhere.closed).code).toBe(4401);
    const right = track(await Client.open(`${glimpse.wsUrl}/ws/agent`, { Origin: crmOrigin }, { protocols: [`glimpse-widget.${token}`] }));
    right.send({ t: "hello", v: 1 });
    expect(await right.next("welcome")).toMatchObject({ agent: { username: "alice", groupId: "acme" } });
    expect(right.socket.protocol).toBe(`glimpse-widget.${token}`);
    // Taking the origin off the team's list stops it at the next check.
    glimpse.store.setEmbedOrigins("acme", []);
    right.send({ t: "join", key: "123456" });
    expect(await right.next("error", (m) => m.code === "NOT_AUTHORIZED")).toBeTruthy();
    glimpse.store.setEmbedOrigins("acme", [crmOrigin]);
  });
});
