// The console's browser-test harness: a real `npm start` (src/node.ts) on a free port against
// PGlite or the machine's PostgreSQL (through the Neon driver, as the API suites do), headless
// Chromium through playwright-core with every request that is not to 127.0.0.1 aborted (the
// console must need nothing from the internet), axe-core on a page, and screenshots into
// test-output/console/.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { expect } from "vitest";
import type { Role } from "../../src/app/env.ts";
import type { BackendName } from "../harness/backends.ts";
import { acquirePostgres } from "../harness/postgres.ts";
import { freePort, startServerProcess } from "../harness/server-process.ts";
import { devSecretToken } from "../harness/tokens.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));
export const SCREENSHOTS = join(root, "test-output", "console");
const SECRET = "console-browser-test-secret-0123456789";
const AXE = readFileSync(join(root, "node_modules/axe-core/axe.min.js"), "utf8");

export interface ConsoleServer {
  base: string;
  token(tenant: string, role: Role, sub?: string): Promise<string>;
  /** A JSON request to the API as that token. */
  api(method: string, path: string, token: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

/** `node src/node.ts` with the development key (DEV_JWT_SECRET), ready when /healthz answers. */
export async function startConsoleServer(backend: BackendName, extraEnv: Record<string, string> = {}): Promise<ConsoleServer> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    PORT: String(port),
    DEV_JWT_SECRET: SECRET,
    LOG_LEVEL: "warn",
    WEBHOOK_DISPATCH_INTERVAL_MS: "0",
  };
  delete env.JWKS_URL;
  Object.assign(env, extraEnv);
  let cleanup = async () => {};
  const dataDir = mkdtempSync(join(tmpdir(), "gatehouse-console-"));
  if (backend === "postgres") {
    const pg = await acquirePostgres();
    const db = await pg.createDatabase();
    Object.assign(env, { DATABASE_URL: db.url, NEON_WS_PROXY: pg.proxy });
    cleanup = async () => (await db.drop(), await pg.release());
  }
  env.GATEHOUSE_DATA_DIR = dataDir;
  // Up to 150 s (within the suites' 180 s beforeAll): on a loaded machine PGlite's start and
  // migrations alone have taken over a minute.
  const server = await startServerProcess({ what: "npm start", args: ["src/node.ts"], cwd: root, env, base, attempts: 600, pollMs: 250 }).catch(
    async (err: unknown) => {
      await cleanup();
      rmSync(dataDir, { recursive: true, force: true });
      throw err;
    },
  );
  return {
    base,
    token: (tenant, role, sub) => devSecretToken(SECRET, tenant, role, { sub }),
    api: (method, path, token, body, headers = {}) =>
      fetch(base + path, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    async close() {
      await server.stop();
      await cleanup();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser(): Promise<{ browser: Browser; close(): Promise<void> }> {
  // playwright gives every launch a fresh temporary profile (it refuses --user-data-dir here).
  const browser = await chromium.launch({
    executablePath: process.env.GATEHOUSE_CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return { browser, close: () => browser.close() };
}

/** A fresh page (its own context: nothing shared between sign-ins) with outside network blocked. */
export async function openPage(browser: Browser, width = 1280): Promise<{ page: Page; blocked: string[] }> {
  const context = await browser.newContext({ viewport: { width, height: 900 } });
  const page = await context.newPage();
  const blocked: string[] = [];
  await page.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === "127.0.0.1" || url.protocol === "blob:" || url.protocol === "data:") return route.continue();
    blocked.push(url.href);
    return route.abort();
  });
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  return { page, blocked };
}

/** axe-core on the page as it is now: no serious or critical violation. */
export async function expectAccessible(page: Page, name: string): Promise<void> {
  await page.addScriptTag({ content: AXE });
  const result = (await page.evaluate(async () => (globalThis as unknown as { axe: { run(): Promise<unknown> } }).axe.run())) as {
    violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[];
  };
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(
    bad.map(
      (v) =>
        `${name}: ${v.id} (${v.impact}) ${v.help} at ${v.nodes
          .slice(0, 3)
          .map((n) => n.target.join(" "))
          .join(", ")}`,
    ),
  ).toEqual([]);
}

/** The whole page, or (fullPage false) what a 1280×900 window shows. */
export async function screenshot(page: Page, name: string, fullPage = true): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage });
}

/** The development sign-in form, as a person fills it in. */
export async function signIn(page: Page, base: string, tenant: string, role: Role, sub = `${role}@${tenant}`): Promise<void> {
  await page.goto(base);
  await page.getByLabel("Tenant").fill(tenant);
  await page.getByLabel(/Your name/).fill(sub);
  await page.getByLabel("Role").selectOption(role);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
}

/** What the in-cluster agent does, through the agent protocol with a credential an admin made. */
export async function consoleAgent(server: ConsoleServer, adminToken: string, environmentId: string) {
  const res = await server.api("POST", `/v1/environments/${environmentId}/agent-credentials`, adminToken, {});
  expect(res.status).toBe(201);
  const { secret } = (await res.json()) as { secret: string };
  const call = (method: string, path: string, body?: unknown) =>
    fetch(server.base + path, {
      method,
      headers: { authorization: `Bearer ${secret}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  return {
    secret,
    async post(path: string, body: unknown): Promise<void> {
      const r = await call("POST", path, body);
      expect(r.status, await r.clone().text()).toBeLessThan(300);
    },
    /** The desired state's objects, as the agent fetches them. */
    async objects(): Promise<{ kind: string; apiVersion: string; metadata: { name: string; labels: Record<string, string> } }[]> {
      return ((await (await call("GET", "/agent/v1/desired-state")).json()) as { objects: never[] }).objects;
    },
  };
}
