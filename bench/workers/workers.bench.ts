// bench/workers: the agent's poll on Cloudflare Workers' runtime. workerd (`wrangler dev`, local,
// offline) runs the real Worker (src/worker.ts, infra/wrangler.toml) against PostgreSQL 17 (the
// harness's embedded server) through the Neon driver and a WebSocket→TCP proxy (by default the Go
// one of test/tools/wsproxy, a process of its own: the local stand-in for Neon's proxy, whose CPU
// in production is on Neon's machines, not the Worker's; BENCH_PROXY=node: the test suites' Node
// proxy in this process, for comparison), with PgBouncer in transaction mode between them — the
// local stand-in for Neon's pooled endpoint — and, for comparison, without it. The database is capped below the load (CONNECTION LIMIT 20 < 64).
// Two poolers are measured alternately: one asking for a cleartext password, which is what Neon's
// proxy asks WebSocket clients for, so the Worker keeps the driver's pipelined connect
// (NEON_PIPELINE_CONNECT=password: startup, password and query in one flight); and one asking for
// SCRAM, with the pipelining off (two more round trips and the client's proof per connection).
//
// autocannon (its own process, as in bench/api) saturates, at 8 and at 64 connections, the agent's
// real poll — GET /agent/v1/desired-state with a current If-None-Match (304) — and a route of the
// same Worker that touches no database (GET /console/config.json: the app's middleware, a small
// JSON body, no connection opened). Printed per run: req/s, p50/p99, statuses (503 apart from other
// 5xx), new database connections per request (the WebSocket proxy counts them: one WebSocket is one
// connection the Worker opened), transactions and statements per request (PgBouncer's SHOW STATS, or
// pg_stat_database without it) and the CPU per request of workerd, of the proxy and of PgBouncer.
// Targets (issue 17, item 1b):
//   poll ≥ 0.5 × the no-database route · ≤ 1 new connection per request · 0 errors at 64 connections
//   with the database capped below 64.
// Run: npm run bench:workers  (BENCH_SECONDS, default 5; BENCH_REPEATS, default 3;
// BENCH_PROXY=go|node, default go; needs pgbouncer: apt-get install -y pgbouncer)
import { execFile, spawnSync } from "node:child_process";
import { loadavg } from "node:os";
import { promisify } from "node:util";
import { Pool } from "@neondatabase/serverless";
import { acquirePostgres } from "../../test/harness/postgres.ts";
import { DEV_ISSUER } from "../../test/harness/tokens.ts";
import { startWranglerDev, type WranglerDev } from "../../test/harness/wrangler-dev.ts";
import { devToken, SECRET } from "../api/api.bench.ts";
import { type Bouncer, findPgbouncer, startPgbouncer } from "./pgbouncer.ts";
import { cpuSeconds, startProxy } from "./proxy.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const DB_CAP = 20; // the database's CONNECTION LIMIT: below the 64 connections of the load
// Server connections per PgBouncer: two poolers share the database, 2 × 10 = its cap, so neither
// waits for a backend the other holds idle (PgBouncer would retry only after server_login_retry).
const POOL = 10;
const PROXY = ((p) => {
  if (p !== "go" && p !== "node") throw new Error(`BENCH_PROXY must be go or node, not ${JSON.stringify(p)}`);
  return p;
})(process.env.BENCH_PROXY ?? "go");
// BENCH_PIN=1: workerd on CPU 0, everything else this bench starts (the WebSocket proxy,
// PostgreSQL, PgBouncer, autocannon) on CPU 1 — so the chain's CPU is not taken from workerd's
// core, as on Neon, where it runs on Neon's machines. Other work on the machine is not moved.
const PIN = process.env.BENCH_PIN === "1";
const pin = (pid: number | undefined, cpu: number) => {
  if (!PIN || !pid) return;
  const r = spawnSync("taskset", ["-a", "-p", "-c", String(cpu), String(pid)], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`taskset ${cpu} ${pid}: ${r.stderr || r.error}`);
};
const NO_DB = "/console/config.json";
const POLL = "/agent/v1/desired-state";

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(" ");

interface Chain {
  label: string;
  auth: "plain" | "scram-sha-256";
  bouncer: Bouncer;
  admin: Pool; // PgBouncer's admin console, for SHOW STATS
  dev?: WranglerDev;
}
interface Counters {
  connections: number;
  messages: number;
  xacts: number;
  queries: number;
}
interface Result {
  rps: number;
  p50: number;
  p99: number;
  total: number;
  ok: number;
  s503: number;
  s5xx: number;
  other: number;
  errors: number;
  perReq: Counters;
  cpuUs: number;
  /** The WebSocket proxy's CPU per request. */
  proxyCpuUs: number;
  bouncerCpuUs: number;
}

async function autocannon(url: string, connections: number, seconds: number, headers: Record<string, string>) {
  const args = ["node_modules/autocannon/autocannon.js", "-c", String(connections), "-d", String(seconds), "--json"];
  for (const [k, v] of Object.entries(headers)) args.push("-H", `${k}=${v}`);
  const { stdout } = await promisify(execFile)(process.execPath, [...args, url], { encoding: "utf8", maxBuffer: 64 << 20 });
  return JSON.parse(stdout) as {
    requests: { average: number; total: number; sent: number };
    latency: { p50: number; p99: number };
    statusCodeStats: Record<string, { count: number }>;
    errors: number;
    timeouts: number;
  };
}

async function main() {
  findPgbouncer(); // fails first, saying how to install it
  pin(process.pid, 1); // inherited by every process started from here on; workerd is moved to CPU 0
  const pg = await acquirePostgres();
  const database = await pg.createDatabase();
  const admin = new Pool({ connectionString: pg.urlFor("postgres"), max: 1 });
  admin.on("error", () => {});
  // The Worker's own proxy: its count is the connections the Worker opened, nobody else's.
  const wsProxy = await startProxy(PROXY);
  // Two poolers on the same database, measured alternately: cleartext password with the driver's
  // pipelined connect (what Neon's proxy asks WebSocket clients for), and SCRAM without it.
  const chains: Chain[] = [];
  for (const [label, auth] of [
    ["cleartext", "plain"],
    ["SCRAM", "scram-sha-256"],
  ] as const) {
    const bouncer = await startPgbouncer({ server: pg.server, poolSize: POOL, auth });
    const admin = new Pool({ connectionString: `postgres://gatehouse_test:gatehouse_test@127.0.0.1:${bouncer.port}/pgbouncer`, max: 1 });
    admin.on("error", () => {});
    chains.push({ label, auth, bouncer, admin });
  }
  const capTo = (n: number) => admin.query(`alter database "${database.name}" connection limit ${n}`);
  const pgStats = async () => {
    const r = await admin.query<{ sessions: string; xacts: string }>(
      "select sessions, xact_commit + xact_rollback as xacts from pg_stat_database where datname = $1",
      [database.name],
    );
    return { sessions: Number(r.rows[0]!.sessions), xacts: Number(r.rows[0]!.xacts) };
  };
  const bouncerStats = async (chain: Chain) => {
    const r = await chain.admin.query<{ database: string; total_xact_count: string; total_query_count: string }>("SHOW STATS");
    const row = r.rows.find((x) => x.database === database.name);
    return { xacts: Number(row?.total_xact_count ?? 0), queries: Number(row?.total_query_count ?? 0) };
  };
  const say = (s: string) => console.log(s);
  const vars = (url: string, pipelineConnect = false) => ({
    DATABASE_URL: url,
    NEON_WS_PROXY: wsProxy.address,
    ...(pipelineConnect ? { NEON_PIPELINE_CONNECT: "password" } : {}),
    DEV_JWT_SECRET: SECRET,
    JWT_ISSUER: DEV_ISSUER,
    LOG_LEVEL: "silent",
    // One credential stands in for a fleet (as in bench/api): its rate limit stays on, never refusing.
    AGENT_RATE_LIMIT_PER_SECOND: "100000",
    AGENT_RATE_LIMIT_BURST: "1000000",
  });
  let poll: Record<string, string> = {};

  async function measure(dev: WranglerDev, via: Chain | "direct", path: string, connections: number, seconds = SECONDS): Promise<Result> {
    const headers = path === POLL ? poll : {};
    const before = {
      proxy: await wsProxy.stats(),
      pg: await pgStats(),
      b: via === "direct" ? undefined : await bouncerStats(via),
      cpu: cpuSeconds(dev.workerdPid()),
      proxyCpu: wsProxy.cpuSeconds(),
      bouncer: via === "direct" ? 0 : cpuSeconds(via.bouncer.pid),
    };
    const r = await autocannon(`${dev.base}${path}`, connections, seconds, headers);
    // Connections are ended by ctx.waitUntil after each response, and a backend's statistics reach
    // pg_stat_database when it exits: give both a moment.
    await new Promise((res) => setTimeout(res, 1500));
    const after = {
      proxy: await wsProxy.stats(),
      pg: await pgStats(),
      b: via === "direct" ? undefined : await bouncerStats(via),
      cpu: cpuSeconds(dev.workerdPid()),
      proxyCpu: wsProxy.cpuSeconds(),
      bouncer: via === "direct" ? 0 : cpuSeconds(via.bouncer.pid),
    };
    const count = (pred: (code: number) => boolean) =>
      Object.entries(r.statusCodeStats)
        .filter(([code]) => pred(Number(code)))
        .reduce((n, [, v]) => n + v.count, 0);
    const total = r.requests.total;
    // Per request SENT: those still in flight when the run ended were served too (and counted by
    // the proxy and the database), only their answers were not awaited.
    const sent = r.requests.sent;
    const per = (n: number) => (sent ? n / sent : 0);
    return {
      rps: r.requests.average,
      p50: r.latency.p50,
      p99: r.latency.p99,
      total,
      ok: count((c) => c === (path === POLL ? 304 : 200)),
      s503: count((c) => c === 503),
      s5xx: count((c) => c >= 500 && c !== 503),
      other: count((c) => c < 500 && c !== (path === POLL ? 304 : 200)),
      errors: r.errors + r.timeouts,
      perReq: {
        connections: per(after.proxy.connections - before.proxy.connections),
        messages: per(after.proxy.clientMessages - before.proxy.clientMessages),
        xacts: per(after.b && before.b ? after.b.xacts - before.b.xacts : after.pg.xacts - before.pg.xacts),
        queries: after.b && before.b ? per(after.b.queries - before.b.queries) : Number.NaN,
      },
      cpuUs: ((after.cpu - before.cpu) * 1e6) / sent,
      proxyCpuUs: ((after.proxyCpu - before.proxyCpu) * 1e6) / sent,
      bouncerCpuUs: ((after.bouncer - before.bouncer) * 1e6) / sent,
    };
  }

  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const summary = (rs: Result[]): Result => {
    const m = (f: (r: Result) => number) => median(rs.map(f));
    const sum = (f: (r: Result) => number) => rs.reduce((n, r) => n + f(r), 0);
    return {
      rps: m((r) => r.rps),
      p50: m((r) => r.p50),
      p99: m((r) => r.p99),
      total: sum((r) => r.total),
      ok: sum((r) => r.ok),
      s503: sum((r) => r.s503),
      s5xx: sum((r) => r.s5xx),
      other: sum((r) => r.other),
      errors: sum((r) => r.errors),
      perReq: {
        connections: m((r) => r.perReq.connections),
        messages: m((r) => r.perReq.messages),
        xacts: m((r) => r.perReq.xacts),
        queries: m((r) => r.perReq.queries),
      },
      cpuUs: m((r) => r.cpuUs),
      proxyCpuUs: m((r) => r.proxyCpuUs),
      bouncerCpuUs: m((r) => r.bouncerCpuUs),
    };
  };
  const row = (name: string, rs: Result[]) => {
    const s = summary(rs);
    const q = Number.isNaN(s.perReq.queries) ? "" : `, ${s.perReq.queries.toFixed(2)} statements`;
    say(
      `  ${name.padEnd(40)} ${s.rps.toFixed(0).padStart(5)} req/s  p50 ${String(s.p50).padStart(4)} ms  p99 ${String(s.p99).padStart(5)} ms  ` +
        `ok ${s.ok}, 503 ${s.s503}, other 5xx ${s.s5xx}, other ${s.other}, socket errors ${s.errors}  ` +
        `per request: ${s.perReq.connections.toFixed(2)} new connections, ${s.perReq.messages.toFixed(1)} driver messages, ${s.perReq.xacts.toFixed(2)} transactions${q}, workerd CPU ${s.cpuUs.toFixed(0)} µs, WebSocket proxy ${s.proxyCpuUs.toFixed(0)} µs${s.bouncerCpuUs ? `, PgBouncer ${s.bouncerCpuUs.toFixed(0)} µs` : ""}  ` +
        `[${rs.map((r) => r.rps.toFixed(0)).join(", ")} req/s]`,
    );
    return s;
  };
  const met = (ok: boolean) => (ok ? "met" : "NOT met");

  try {
    await capTo(DB_CAP);
    const sessionsAtStart = (await pgStats()).sessions;
    // ── Through PgBouncer (transaction mode): the documented production setup. ──
    // One workerd per chain, on the same database; the cleartext one pipelines its connect.
    for (const chain of chains) {
      const url = database.url.replace(`@${pg.server.host}:${pg.server.port}/`, `@127.0.0.1:${chain.bouncer.port}/`);
      chain.dev = await startWranglerDev(vars(url, chain.auth === "plain"), { readyPath: NO_DB });
      pin(chain.dev.workerdPid(), 0);
    }
    const [primary, other] = chains as [Chain, Chain];
    try {
      const dev = primary.dev!;
      // Seeded as bench/api does: an environment with the restricted preset and one agent credential.
      const auth = { authorization: `Bearer ${await devToken("bench", "admin")}`, "content-type": "application/json" };
      const env = (await (
        await fetch(`${dev.base}/v1/environments`, { method: "POST", headers: auth, body: JSON.stringify({ name: "prod", preset: "restricted" }) })
      ).json()) as {
        id: string;
      };
      const cred = (await (await fetch(`${dev.base}/v1/environments/${env.id}/agent-credentials`, { method: "POST", headers: auth })).json()) as {
        secret: string;
      };
      const first = await fetch(`${dev.base}${POLL}`, { headers: { authorization: `Bearer ${cred.secret}` } });
      if (first.status !== 200) throw new Error(`desired-state: ${first.status} ${await first.text()}`);
      poll = { authorization: `Bearer ${cred.secret}`, "if-none-match": first.headers.get("etag")! };
      const check = await fetch(`${other.dev!.base}${POLL}`, { headers: poll });
      if (check.status !== 304) throw new Error(`desired-state via ${other.label}: ${check.status} ${await check.text()}`);

      say(
        `workerd (wrangler dev) → Neon driver → WebSocket proxy (${wsProxy.name}) → PgBouncer (transaction mode, ${POOL} server connections) → PostgreSQL 17 (database CONNECTION LIMIT ${DB_CAP}); ${SECONDS} s per run, ${REPEATS} alternating runs (medians; statuses summed)${PIN ? "; workerd pinned to CPU 0, the rest to CPU 1" : ""}; load average at start ${load()}`,
      );
      say(
        `  ${primary.label}: PgBouncer auth_type = ${primary.auth}, driver pipelineConnect = "password" (Neon's proxy asks WebSocket clients for a cleartext password) · ${other.label}: auth_type = ${other.auth}, pipelineConnect = false`,
      );
      for (const chain of chains) {
        await measure(chain.dev!, chain, NO_DB, 64, 2); // warm-up
        await measure(chain.dev!, chain, POLL, 64, 2);
      }
      const runs = new Map<string, Result[]>();
      for (let i = 0; i < REPEATS; i++) {
        for (const c of [8, 64]) {
          for (const [name, chain, path] of [
            [`no-database route ${NO_DB}, ${c} conn`, primary, NO_DB],
            [`agent poll 304, ${primary.label}, ${c} conn`, primary, POLL],
            [`agent poll 304, ${other.label}, ${c} conn`, other, POLL],
          ] as const) {
            runs.set(name, [...(runs.get(name) ?? []), await measure(chain.dev!, chain, path, c)]);
          }
        }
      }
      const s = new Map([...runs].map(([k, v]) => [k, row(k, v)]));
      for (const c of [8, 64]) {
        const bare = s.get(`no-database route ${NO_DB}, ${c} conn`)!;
        for (const chain of chains) {
          const p = s.get(`agent poll 304, ${chain.label}, ${c} conn`)!;
          const ratio = p.rps / bare.rps;
          say(
            `  ${c} connections, ${chain.label}: poll / no-database route throughput ${ratio.toFixed(2)}${chain === primary ? ` (target ≥ 0.5: ${met(ratio >= 0.5)})` : ""}; by workerd CPU per request ${(bare.cpuUs / p.cpuUs).toFixed(2)}`,
          );
        }
      }
      const p64 = s.get(`agent poll 304, ${primary.label}, 64 conn`)!;
      const p8 = s.get(`agent poll 304, ${primary.label}, 8 conn`)!;
      const conns = Math.max(p8.perReq.connections, p64.perReq.connections);
      say(`  new connections per poll ${conns.toFixed(2)} (target ≤ 1: ${met(conns <= 1)})`);
      say(
        `  errors at 64 connections, database capped at ${DB_CAP}: 500-class ${p64.s5xx}, 503 ${p64.s503}, socket errors ${p64.errors} of ${p64.total} (target 0: ${met(p64.s5xx + p64.s503 + p64.errors === 0)})`,
      );
      say(`  load average at the end ${load()}`);
    } finally {
      for (const chain of chains) await chain.dev?.stop();
    }
    for (const chain of chains) {
      await chain.admin.end();
      await chain.bouncer.stop();
    }
    await new Promise((r) => setTimeout(r, 1000));
    say(`  PostgreSQL backends started over all the PgBouncer runs: ${(await pgStats()).sessions - sessionsAtStart} (pg_stat_database.sessions)`);

    // ── Direct, no pooler: every request's connection is a PostgreSQL backend. ──
    const dev = await startWranglerDev(vars(database.url), { readyPath: NO_DB });
    pin(dev.workerdPid(), 0);
    try {
      say(
        "workerd → Neon driver → WebSocket proxy → PostgreSQL 17 directly (no pooler), for comparison (transactions from pg_stat_database: each new backend's start-up transaction included)",
      );
      await measure(dev, "direct", POLL, 8, 2); // warm-up
      const runs = new Map<string, Result[]>();
      for (let i = 0; i < REPEATS; i++) {
        for (const [name, path, c] of [
          [`no-database route, 8 conn`, NO_DB, 8],
          [`agent poll 304, 8 conn`, POLL, 8],
          [`agent poll 304, 64 conn, cap ${DB_CAP}`, POLL, 64],
        ] as const) {
          runs.set(name, [...(runs.get(name) ?? []), await measure(dev, "direct", path, c)]);
        }
      }
      // What a refused request carries: 64 at once against the cap.
      const probe = await Promise.all(Array.from({ length: 64 }, () => fetch(`${dev.base}${POLL}`, { headers: poll })));
      const refused = probe.filter((r) => r.status === 503);
      await Promise.all(probe.map((r) => r.body?.cancel()));
      await capTo(-1);
      for (let i = 0; i < REPEATS; i++) {
        const name = "agent poll 304, 64 conn, no cap";
        runs.set(name, [...(runs.get(name) ?? []), await measure(dev, "direct", POLL, 64)]);
      }
      const s = new Map([...runs].map(([k, v]) => [k, row(k, v)]));
      const [p, bare] = [s.get("agent poll 304, 8 conn")!, s.get("no-database route, 8 conn")!];
      say(
        `  8 connections: poll / no-database route throughput ${(p.rps / bare.rps).toFixed(2)}, by workerd CPU per request ${(bare.cpuUs / p.cpuUs).toFixed(2)} (no target without the pooler)`,
      );
      say(
        `  64 connections against the cap: 503s in a burst of 64 ${refused.length}, with Retry-After ${refused.filter((r) => r.headers.get("retry-after")).length} (every 503 must carry it: ${met(refused.every((r) => r.headers.get("retry-after")))})`,
      );
    } finally {
      await dev.stop();
    }
  } finally {
    await admin.end().catch(() => {});
    for (const chain of chains) {
      await chain.admin.end().catch(() => {});
      await chain.bouncer.stop().catch(() => {});
    }
    await wsProxy.close();
    await database.drop();
    await pg.release();
  }
}

if (import.meta.main) await main();
