// bench/api: the agent's hot path — GET settings with If-None-Match (304) — against a bare Hono
// route on the same server, 64 concurrent connections, real PostgreSQL through the Neon driver.
// Prints requests/s, p50/p99 and the ratio. Run: npm run bench:api (PostgreSQL must be running).
//
// A third line loads a node:http server that answers 304 with no framework at all: the most this
// machine's loopback and the load generator let any Node server do, so the p99 target can be read
// against what is physically possible here. Runs alternate (REPEATS rounds) and medians are
// printed, because two shared cores make single runs swing by a third.
import { execFile, execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";
import { serve } from "@hono/node-server";
import { createApp } from "../../src/app/app.ts";
import { openDatabase } from "../../src/db/client.ts";
import { acquirePostgres } from "../../test/harness/postgres.ts";
import { signToken, testJwtConfig } from "../../test/harness/tokens.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
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
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

// A separate process, so that it never shares the app's event loop.
const rawSource = `require("node:http").createServer((q, s) => { s.statusCode = 304; s.end(); }).listen(0, "127.0.0.1", function () { console.log(this.address().port); });`;
const raw = execFile(process.execPath, ["-e", rawSource]);
const rawPort = await new Promise<string>((resolve) => raw.stdout!.once("data", (d: Buffer) => resolve(d.toString().trim())));

const token = await signToken({ sub: "bench@acme", tenant: "bench", role: "admin" }, { exp: Math.floor(Date.now() / 1000) + 3600 });
const auth = { authorization: `Bearer ${token}`, "content-type": "application/json" };
const env = (await (await fetch(`${base}/v1/environments`, { method: "POST", headers: auth, body: JSON.stringify({ name: "prod", preset: "restricted" }) })).json()) as { id: string };
const etag = (await fetch(`${base}/v1/environments/${env.id}/settings`, { headers: auth })).headers.get("etag")!;

interface Result { requests: { average: number; total: number }; latency: { p50: number; p99: number }; statusCodeStats: Record<string, { count: number }>; cpuUs: number }
// autocannon runs in its own process so the load generator does not share the server's event
// loop (and asynchronously: a blocking call would stall the server it measures).
const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }));
/** utime + stime of a process, from /proc (Linux). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // fields 14 and 15 of proc(5)
}

// cpuUs: CPU time of the process serving the URL (user + system, all threads) per request — what
// the route costs, apart from how the two cores were shared with the load generator.
async function load(url: string, headers: Record<string, string>, pid = process.pid): Promise<Result> {
  const before = cpuSeconds(pid);
  const args = ["node_modules/autocannon/autocannon.js", "-c", String(CONNECTIONS), "-d", String(SECONDS), "--json", ...Object.entries(headers).flatMap(([k, v]) => ["-H", `${k}=${v}`]), url];
  const { stdout } = await promisify(execFile)(process.execPath, args, { encoding: "utf8", maxBuffer: 64 << 20 });
  const r = JSON.parse(stdout) as Result;
  r.cpuUs = ((cpuSeconds(pid) - before) * 1e6) / r.requests.total;
  const codes = Object.keys(r.statusCodeStats);
  if (codes.length !== 1 || codes[0] !== "304") throw new Error(`${url}: expected only 304s, got ${JSON.stringify(r.statusCodeStats)}`);
  return r;
}

/** The same URL at a fixed request rate, from bench/api/paced-load.ts (open loop). */
async function paced(url: string, headers: Record<string, string>, rate: number, pid = process.pid): Promise<Result> {
  const before = cpuSeconds(pid);
  const args = ["bench/api/paced-load.ts", url, String(rate), String(SECONDS), String(CONNECTIONS), ...Object.entries(headers).map(([k, v]) => `${k}=${v}`)];
  const { stdout } = await promisify(execFile)(process.execPath, args, { encoding: "utf8" });
  const r = JSON.parse(stdout) as { total: number; statuses: Record<string, number>; p50: number; p99: number };
  if (Object.keys(r.statuses).join() !== "304") throw new Error(`${url}: expected only 304s, got ${JSON.stringify(r.statuses)}`);
  return {
    requests: { average: r.total / SECONDS, total: r.total },
    latency: { p50: r.p50, p99: r.p99 },
    statusCodeStats: { 304: { count: r.total } },
    cpuUs: ((cpuSeconds(pid) - before) * 1e6) / r.total,
  };
}

const settingsUrl = `${base}/v1/environments/${env.id}/settings`;
const pollHeaders = { authorization: auth.authorization, "if-none-match": etag };
// Saturated (each connection sends its next request as soon as the answer arrives), a p99 is
// mostly queueing: 64 requests wait for the CPU. The last line holds the same 64 connections to a
// fixed 1,000 polls/s — 30,000 agents polling every 30 s — to show the latency an agent sees
// when the server is not overloaded.
const RATE = 1000;
const scenarios = {
  "node:http, no framework (304)": () => load(`http://127.0.0.1:${rawPort}/`, {}, raw.pid),
  "bare Hono route (304)": () => load(`${base}/bench/bare`, {}),
  "GET settings, If-None-Match (304)": () => load(settingsUrl, pollHeaders),
  [`node:http, paced at ${RATE} req/s`]: () => paced(`http://127.0.0.1:${rawPort}/`, {}, RATE, raw.pid),
  [`GET settings, paced at ${RATE} req/s`]: () => paced(settingsUrl, pollHeaders, RATE),
};
const results = new Map<string, Result[]>(Object.keys(scenarios).map((k) => [k, []]));
for (let i = 0; i < REPEATS; i++) for (const [name, run] of Object.entries(scenarios)) results.get(name)!.push(await run());

type S = ReturnType<typeof summary>;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const summary = (rs: Result[]) => ({
  rps: median(rs.map((r) => r.requests.average)),
  p50: median(rs.map((r) => r.latency.p50)),
  p99: median(rs.map((r) => r.latency.p99)),
  cpuUs: median(rs.map((r) => r.cpuUs)),
});
console.log(`${CONNECTIONS} connections, ${SECONDS} s per run, ${REPEATS} alternating runs each (medians; all runs in brackets), PostgreSQL 15 via the Neon driver`);
for (const [name, rs] of results) {
  const s = summary(rs);
  console.log(`${name.padEnd(34)} ${s.rps.toFixed(0).padStart(7)} req/s   p50 ${s.p50} ms   p99 ${s.p99} ms   server CPU ${s.cpuUs.toFixed(0)} µs/req   [${rs.map((r) => r.requests.average.toFixed(0)).join(", ")} req/s; p99 ${rs.map((r) => r.latency.p99).join(", ")} ms]`);
}
const [ceiling, bare, settings, rawPaced, steady] = [...results.values()].map(summary) as [S, S, S, S, S];
console.log(`ratio settings/bare: ${(settings.rps / bare.rps).toFixed(2)} (target >= 0.5); by server CPU per request: ${(bare.cpuUs / settings.cpuUs).toFixed(2)}`);
console.log(`settings p99: saturated ${settings.p99} ms (node:http alone ${ceiling.p99} ms); paced at ${RATE} req/s ${steady.p99} ms (node:http alone ${rawPaced.p99} ms); target <= 5 ms`);

raw.kill();
server.close();
await db.close();
await database.drop();
await pg.release();
