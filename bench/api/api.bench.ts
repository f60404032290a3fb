// bench/api: the agent's hot path — GET /agent/v1/desired-state with a current If-None-Match
// (304) — against a bare Hono route in the same server and a node:http server with no framework,
// on both stores: the default embedded PGlite (as `npm start` runs it) and PostgreSQL through the
// Neon driver (the harness's embedded PostgreSQL 17 behind its WebSocket proxy). The server is
// bench/api/serve.ts in a process of its own; the load generators run in processes of their own.
// Prints requests/s, p50/p99, server CPU per request, and the two targets:
//   poll ≥ 0.5 × the bare Hono route's throughput; paced at 1,000 req/s, poll p99 ≤ 2 × node:http's.
// Runs alternate (REPEATS rounds) and medians are printed: two shared cores swing single runs.
// Run: npm run bench:api  (BENCH_SECONDS, BENCH_REPEATS, BENCH_STORES=pglite,postgres)
import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { acquirePostgres } from "../../test/harness/postgres.ts";
import { DEV_ISSUER, devSecretToken } from "../../test/harness/tokens.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const STORES = (process.env.BENCH_STORES ?? "pglite,postgres").split(",");
const CONNECTIONS = 64;
const RATE = 1000;
/** The DEV_JWT_SECRET devToken signs with (bench/workers passes it to workerd). */
export const SECRET = "bench-api-secret-0123456789abcdef0123";

const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }));
/** utime + stime of a process, from /proc (Linux). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // fields 14 and 15 of proc(5)
}

/** A child process that prints its port on its first line of stdout. */
async function listening(child: ChildProcess): Promise<string> {
  let err = "";
  child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`server exited (${code}): ${err.slice(-2000)}`)));
    child.stdout!.once("data", (d: Buffer) => resolve(d.toString().trim().split("\n")[0]!));
  });
}

export async function startServer(env: Record<string, string>): Promise<{ base: string; pid: number; stop(): void }> {
  const child = spawn(process.execPath, ["bench/api/serve.ts"], {
    env: {
      PATH: process.env.PATH ?? "",
      LOG_LEVEL: "silent",
      DEV_JWT_SECRET: SECRET,
      JWT_ISSUER: DEV_ISSUER,
      WEBHOOK_DISPATCH_INTERVAL_MS: "0",
      // One credential stands in for a fleet here: its rate limit stays on (its cost is counted)
      // but high enough never to refuse.
      AGENT_RATE_LIMIT_PER_SECOND: "100000",
      AGENT_RATE_LIMIT_BURST: "1000000",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const port = await listening(child);
  return { base: `http://127.0.0.1:${port}`, pid: child.pid!, stop: () => void child.kill("SIGTERM") };
}

export const devToken = (tenant: string, role: string) => devSecretToken(SECRET, tenant, role, { ttlSeconds: 2 * 3600 });

interface Result {
  rps: number;
  p50: number;
  p99: number;
  cpuUs: number;
}

// autocannon, saturated: each connection sends its next request as soon as the answer arrives.
async function load(url: string, headers: Record<string, string>, pid: number): Promise<Result> {
  const before = cpuSeconds(pid);
  const args = [
    "node_modules/autocannon/autocannon.js",
    "-c",
    String(CONNECTIONS),
    "-d",
    String(SECONDS),
    "--json",
    ...Object.entries(headers).flatMap(([k, v]) => ["-H", `${k}=${v}`]),
    url,
  ];
  const { stdout } = await promisify(execFile)(process.execPath, args, { encoding: "utf8", maxBuffer: 64 << 20 });
  const r = JSON.parse(stdout) as {
    requests: { average: number; total: number };
    latency: { p50: number; p99: number };
    statusCodeStats: Record<string, unknown>;
    errors: number;
  };
  if (Object.keys(r.statusCodeStats).join() !== "304" || r.errors)
    throw new Error(`${url}: expected only 304s, got ${JSON.stringify(r.statusCodeStats)}, ${r.errors} errors`);
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, cpuUs: ((cpuSeconds(pid) - before) * 1e6) / r.requests.total };
}

// Open loop at a fixed rate (bench/api/paced-load.ts): the latency an agent sees when the server is not overloaded.
async function paced(url: string, headers: Record<string, string>, pid: number): Promise<Result> {
  const before = cpuSeconds(pid);
  const args = ["bench/api/paced-load.ts", url, String(RATE), String(SECONDS), String(CONNECTIONS), ...Object.entries(headers).map(([k, v]) => `${k}=${v}`)];
  const { stdout } = await promisify(execFile)(process.execPath, args, { encoding: "utf8" });
  const r = JSON.parse(stdout) as { total: number; statuses: Record<string, number>; p50: number; p99: number };
  if (Object.keys(r.statuses).join() !== "304") throw new Error(`${url}: expected only 304s, got ${JSON.stringify(r.statuses)}`);
  return { rps: r.total / SECONDS, p50: r.p50, p99: r.p99, cpuUs: ((cpuSeconds(pid) - before) * 1e6) / r.total };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main() {
  // node:http with no framework, in a process of its own: the most any Node server does here.
  const raw = spawn(
    process.execPath,
    [
      "-e",
      `require("node:http").createServer((q, s) => { s.statusCode = 304; s.end(); }).listen(0, "127.0.0.1", function () { console.log(this.address().port); });`,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const rawUrl = `http://127.0.0.1:${await listening(raw)}/`;
  const pg = STORES.includes("postgres") ? await acquirePostgres() : undefined;
  const lines: string[] = [];
  try {
    for (const store of STORES) {
      const dataDir = mkdtempSync(join(tmpdir(), "gatehouse-bench-api-"));
      const database = store === "postgres" ? await pg!.createDatabase() : undefined;
      const server = await startServer(database ? { DATABASE_URL: database.url, NEON_WS_PROXY: pg!.proxy } : { GATEHOUSE_DATA_DIR: dataDir });
      try {
        const admin = { authorization: `Bearer ${await devToken("bench", "admin")}`, "content-type": "application/json" };
        const env = (await (
          await fetch(`${server.base}/v1/environments`, { method: "POST", headers: admin, body: JSON.stringify({ name: "prod", preset: "restricted" }) })
        ).json()) as { id: string };
        const cred = (await (await fetch(`${server.base}/v1/environments/${env.id}/agent-credentials`, { method: "POST", headers: admin })).json()) as {
          secret: string;
        };
        const pollUrl = `${server.base}/agent/v1/desired-state`;
        const first = await fetch(pollUrl, { headers: { authorization: `Bearer ${cred.secret}` } });
        if (first.status !== 200) throw new Error(`desired-state: ${first.status} ${await first.text()}`);
        const poll = { authorization: `Bearer ${cred.secret}`, "if-none-match": first.headers.get("etag")! };
        const scenarios: Record<string, () => Promise<Result>> = {
          "node:http, no framework (304)": () => load(rawUrl, {}, raw.pid!),
          "bare Hono route (304)": () => load(`${server.base}/bench/bare`, {}, server.pid),
          "agent poll, If-None-Match (304)": () => load(pollUrl, poll, server.pid),
          [`node:http, paced at ${RATE} req/s`]: () => paced(rawUrl, {}, raw.pid!),
          [`agent poll, paced at ${RATE} req/s`]: () => paced(pollUrl, poll, server.pid),
        };
        const results = new Map<string, Result[]>(Object.keys(scenarios).map((k) => [k, []]));
        for (let i = 0; i < REPEATS; i++) for (const [name, run] of Object.entries(scenarios)) results.get(name)!.push(await run());
        lines.push(
          `store ${store === "postgres" ? "PostgreSQL 17 through the Neon driver" : "embedded PGlite (the npm start default)"}: ${CONNECTIONS} connections, ${SECONDS} s per run, ${REPEATS} alternating runs (medians; all runs in brackets)`,
        );
        const s = new Map<string, Result>();
        for (const [name, rs] of results) {
          const m = {
            rps: median(rs.map((r) => r.rps)),
            p50: median(rs.map((r) => r.p50)),
            p99: median(rs.map((r) => r.p99)),
            cpuUs: median(rs.map((r) => r.cpuUs)),
          };
          s.set(name, m);
          lines.push(
            `  ${name.padEnd(34)} ${m.rps.toFixed(0).padStart(7)} req/s   p50 ${m.p50} ms   p99 ${m.p99} ms   server CPU ${m.cpuUs.toFixed(0)} µs/req   [${rs.map((r) => r.rps.toFixed(0)).join(", ")} req/s; p99 ${rs.map((r) => r.p99).join(", ")} ms]`,
          );
        }
        const [ceiling, bare, pollR, rawPaced, steady] = [...s.values()] as [Result, Result, Result, Result, Result];
        const ratio = pollR.rps / bare.rps;
        lines.push(
          `  poll/bare throughput ${ratio.toFixed(2)} (target ≥ 0.5: ${ratio >= 0.5 ? "met" : "NOT met"}); by server CPU per request ${(bare.cpuUs / pollR.cpuUs).toFixed(2)}; node:http saturated ${ceiling.rps.toFixed(0)} req/s`,
        );
        lines.push(
          `  paced at ${RATE} req/s: poll p99 ${steady.p99} ms, node:http ${rawPaced.p99} ms (target ≤ 2 × = ${(2 * rawPaced.p99).toFixed(2)} ms: ${steady.p99 <= 2 * rawPaced.p99 ? "met" : "NOT met"})`,
        );
        console.log(lines.slice(-8).join("\n"));
      } finally {
        server.stop();
        await new Promise((r) => setTimeout(r, 500));
        await database?.drop();
        rmSync(dataDir, { recursive: true, force: true });
      }
    }
  } finally {
    raw.kill();
    await pg?.release();
  }
}

if (import.meta.main) await main();
