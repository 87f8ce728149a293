/** The usual e2e world: the real server with the demo group and agents, the visitor's Chromium with
 * the built extension pointed at it, and (optionally) a second Chromium for agents. */
import type { ServerConfig } from "../../server/config";
import { configureExtension, launchAgent, launchVisitor, type VisitorBrowser } from "./chromium";
import { startServer, type TestServer } from "./server";

export const AGENT_PASSWORD = "agent password 1";

export interface World {
  server: TestServer;
  visitor: VisitorBrowser;
  agent: Awaited<ReturnType<typeof launchAgent>> | null;
}

export async function startWorld(options: { agents?: string[]; agentBrowser?: boolean; config?: Partial<ServerConfig> } = {}): Promise<World> {
  const server = await startServer(options.config);
  server.addGroup("demo");
  for (const name of options.agents ?? ["alice"]) await server.addAgent("demo", name, AGENT_PASSWORD);
  const visitor = await launchVisitor();
  await configureExtension(visitor, { serverUrl: server.url, groupId: "demo", sites: [`${server.url}/demo/*`] });
  const agent = options.agentBrowser === false ? null : await launchAgent();
  return { server, visitor, agent };
}

export async function stopWorld(world: Partial<World> | undefined): Promise<void> {
  await world?.visitor?.close();
  await world?.agent?.close();
  await world?.server?.close();
}
