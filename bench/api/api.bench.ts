// bench/api: the agent's hot path — GET settings with If-None-Match (304) — against a bare Hono
// route on the same server, 64 concurrent connections, real PostgreSQL through the Neon driver.
// Prints requests/s, p50/p99 and the ratio. Run: npm run bench:api (PostgreSQL must be running).
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { serve } from "@hono/node-server";
import { createApp } from "../../src/app/app.ts";
import { openDatabase } from "../../src/db/client.ts";
import { acquirePostgres } from "../../test/harness/postgres.ts";
import { signToken, testJwtConfig } from "../../test/harness/tokens.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = 64;

const pg = await acquirePostgres();
const database = await pg.createDatabase();
const db = await openDatabase({ url: database.url, wsProxy: pg.proxy, poolSize: Number(process.env.DATABASE_POOL_SIZE) || 10 });
const app = createApp({
  db,
  config: { port: 0, dataDir: "", jwt: testJwtConfig(), bodyLimitBytes: 1 << 20, agent: { pollIntervalSeconds: 30, bodyLimitBytes: 16 << 20 }, logLevel: "silent" },
});
app.get("/bench/bare", (c) => c.body(null, 304)); // the same answer, without auth or database

const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" });
await new Promise((r) => server.once("listening", r));
const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

const token = await signToken({ sub: "bench@acme", tenant: "bench", role: "admin" }, { exp: Math.floor(Date.now() / 1000) + 3600 });
const auth = { authorization: `Bearer ${token}`, "content-type": "application/json" };
const env = (await (await fetch(`${base}/v1/environments`, { method: "POST", headers: auth, body: JSON.stringify({ name: "prod", preset: "restricted" }) })).json()) as { id: string };
const etag = (await fetch(`${base}/v1/environments/${env.id}/settings`, { headers: auth })).headers.get("etag")!;

interface Result { requests: { average: number }; latency: { p50: number; p99: number }; non2xx: number; errors: number; statusCodeStats: Record<string, { count: number }> }
// autocannon runs in its own process so the load generator does not share the server's event
// loop (and asynchronously: a blocking call would stall the server it measures).
async function load(url: string, headers: Record<string, string>): Promise<Result> {
  const args = ["node_modules/autocannon/autocannon.js", "-c", String(CONNECTIONS), "-d", String(SECONDS), "--json", ...Object.entries(headers).flatMap(([k, v]) => ["-H", `${k}=${v}`]), url];
  const { stdout } = await promisify(execFile)(process.execPath, args, { encoding: "utf8", maxBuffer: 64 << 20 });
  return JSON.parse(stdout) as Result;
}

const bare = await load(`${base}/bench/bare`, {});
const settings = await load(`${base}/v1/environments/${env.id}/settings`, { authorization: auth.authorization, "if-none-match": etag });
const line = (name: string, r: Result) =>
  `${name.padEnd(34)} ${r.requests.average.toFixed(0).padStart(7)} req/s   p50 ${r.latency.p50} ms   p99 ${r.latency.p99} ms   status ${JSON.stringify(Object.fromEntries(Object.entries(r.statusCodeStats).map(([k, v]) => [k, v.count])))}`;
console.log(`${CONNECTIONS} connections, ${SECONDS} s each, PostgreSQL 15 via the Neon driver`);
console.log(line("bare Hono route (304)", bare));
console.log(line("GET settings, If-None-Match (304)", settings));
console.log(`ratio settings/bare: ${(settings.requests.average / bare.requests.average).toFixed(2)} (target >= 0.5); settings p99 ${settings.latency.p99} ms (target <= 5 ms)`);

server.close();
await db.close();
await database.drop();
await pg.release();
