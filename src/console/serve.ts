// The console's static files on Node (npm start): / is index.html, /console/<file> the console's
// own modules and stylesheet, /console/vendor/<file> the browser builds of preact, htm and Scalar
// straight from the installed packages (vendor.json), so nothing is fetched from the internet.
// Workers serve the same files through the assets binding (infra/console-assets.mjs copies them).
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { Context } from "hono";
import vendor from "./vendor.json" with { type: "json" };

const consoleDir = fileURLToPath(new URL("./", import.meta.url));
const modulesDir = fileURLToPath(new URL("../../node_modules/", import.meta.url));

/** Only plain file names with these extensions are served: no directories, no ../, no .ts. */
export const CONSOLE_FILE = /^[a-z0-9-]+\.(js|css|html)$/;
const TYPES: Record<string, string> = {
  js: "text/javascript; charset=utf-8",
  mjs: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  html: "text/html; charset=utf-8",
};
export const VENDOR_FILES: Record<string, string> = vendor;

async function file(c: Context, path: string, name: string, cache: string): Promise<Response> {
  let body: Buffer;
  try {
    body = await readFile(path);
  } catch {
    return c.notFound();
  }
  const ext = name.slice(name.lastIndexOf(".") + 1);
  return c.body(new Uint8Array(body), 200, { "content-type": TYPES[ext] ?? "application/octet-stream", "cache-control": cache });
}

export interface ConsoleAssets {
  index(c: Context): Response | Promise<Response>;
  asset(c: Context, name: string): Response | Promise<Response>;
  vendor(c: Context, name: string): Response | Promise<Response>;
}

/** Reads files per request (no I/O until one is asked for); vendor files are immutable per install. */
export const nodeConsoleAssets: ConsoleAssets = {
  index: (c) => file(c, `${consoleDir}index.html`, "index.html", "no-cache"),
  asset: (c, name) => (CONSOLE_FILE.test(name) ? file(c, consoleDir + name, name, "no-cache") : c.notFound()),
  vendor: (c, name) => {
    const rel = Object.hasOwn(VENDOR_FILES, name) ? VENDOR_FILES[name] : undefined;
    return rel ? file(c, modulesDir + rel, name, "public, max-age=3600") : c.notFound();
  },
};
