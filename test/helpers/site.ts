/**
 * The visitor's site for the fidelity suite, apart from the Glimpse server: the pages in
 * test/fidelity/pages on one origin, and a "third party" (images, a font, a stylesheet) on
 * another. Images are drawn here with pngjs; the icon font is the one playwright-core ships.
 * The agent's browser is blocked from both origins: what it shows must come through Glimpse.
 */
import { build } from "esbuild";
import { createServer, type Server } from "node:http";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve, extname } from "node:path";
import { PNG } from "pngjs";

const PAGES = resolve("test/fidelity/pages");
/** An icon font from an installed package (playwright-core ships VS Code's codicons, MIT). */
function iconFont(): Buffer {
  const dir = resolve("node_modules/playwright-core/lib");
  const file = readdirSync(dir, { recursive: true, encoding: "utf8" }).find((name) => /codicon[^/]*\.ttf$/.test(name));
  if (!file) throw new Error("no codicon font under node_modules/playwright-core/lib: the fidelity site needs a web font");
  return readFileSync(join(dir, file));
}

export interface Site {
  url: string;
  thirdParty: string;
  /** Requests each origin served, by path. */
  served: string[];
  close(): Promise<void>;
}

const TYPES: Record<string, string> = { ".html": "text/html; charset=utf-8", ".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml", ".png": "image/png", ".ttf": "font/ttf" };

/** A picture with stripes and a gradient, so a wrong or missing image is many wrong pixels. */
function picture(width: number, height: number, hue: number): Buffer {
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const stripe = Math.floor((x + y) / 12) % 2;
      png.data[i] = (hue + x) % 256;
      png.data[i + 1] = stripe ? 200 : 60;
      png.data[i + 2] = (y * 255) / height;
      png.data[i + 3] = 255;
    }
  }
  return PNG.sync.write(png);
}

export async function startSite(): Promise<Site> {
  const bundle = await build({
    entryPoints: [join(PAGES, "css-in-js.ts")],
    bundle: true,
    minify: true,
    write: false,
    format: "iife",
    define: { "process.env.NODE_ENV": '"production"' },
    logLevel: "warning",
  });
  const generated: Record<string, Buffer> = {
    "/css-in-js.js": Buffer.from(bundle.outputFiles[0]!.contents),
    "/assets/photo.png": picture(300, 200, 0),
    "/assets/photo-2x.png": picture(600, 400, 90),
    "/assets/bg.png": picture(40, 40, 160),
    "/assets/bg2.png": picture(30, 30, 220),
    "/assets/poster.png": picture(320, 180, 40),
    "/assets/codicon.ttf": iconFont(),
  };
  const served: string[] = [];
  const servers: Server[] = [];
  const origins: string[] = [];
  const handler = (request: import("node:http").IncomingMessage, response: import("node:http").ServerResponse) => {
    const path = decodeURIComponent((request.url ?? "/").split("?")[0]!);
    served.push(`${request.headers.host}${path}`);
    const headers: Record<string, string> = { "cache-control": "no-store", "access-control-allow-origin": "*" };
    if (path === "/assets/huge.png") {
      // 50 MB: over the per-asset cap, so the agent sees a placeholder and a note.
      const size = 50 * 1024 * 1024;
      response.writeHead(200, { ...headers, "content-type": "image/png", "content-length": String(size) });
      const block = Buffer.alloc(1024 * 1024, 7);
      for (let i = 0; i < 50; i++) response.write(block);
      return response.end();
    }
    let body = generated[path];
    if (!body) {
      const file = join(PAGES, path);
      if (!file.startsWith(PAGES) || !existsSync(file) || extname(file) === "") {
        response.writeHead(404, headers);
        return response.end();
      }
      body = readFileSync(file);
      if ([".html", ".css"].includes(extname(file))) body = Buffer.from(body.toString("utf8").replaceAll("THIRD_PARTY", origins[1]!).replaceAll("FIRST_PARTY", origins[0]!));
    }
    // The third party's stylesheet comes without CORS, like most: the page can use it, scripts cannot read it.
    if (path === "/assets/third.css") delete headers["access-control-allow-origin"];
    response.writeHead(200, { ...headers, "content-type": TYPES[extname(path)] ?? "application/octet-stream" });
    response.end(body);
  };
  for (let i = 0; i < 2; i++) {
    const server = createServer(handler);
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    servers.push(server);
    const address = server.address();
    if (!address || typeof address === "string") throw new Error("no address");
    origins.push(`http://127.0.0.1:${address.port}`);
  }
  return {
    url: origins[0]!,
    thirdParty: origins[1]!,
    served,
    async close() {
      for (const server of servers) {
        server.closeAllConnections();
        await new Promise((done) => server.close(done));
      }
    },
  };
}
