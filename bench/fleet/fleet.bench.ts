// bench/fleet: a fleet of simulated agents against one `npm start` process on real PostgreSQL
// (the harness's embedded PostgreSQL 17 through the Neon driver and its WebSocket proxy). The
// server is bench/api/serve.ts (npm start's stack); the agents are bench/fleet/agents.ts, in a
// process of their own. N environments across TENANTS tenants, each with its own credential and
// a settings revision (baseline or restricted, deny or warn), are inserted directly (setting up
// 10,000 through the API would take longer than the run). Prints the server's CPU (cores), p50 /
// p99 per route, PostgreSQL connections, errors and the most agents one core would hold at this
// rate; the warm-up (every agent's first loop, the full desired state and its first audit report,
// spread over FLEET_WARMUP, the agents that had theirs looping on) is printed apart. The server's pool is DATABASE_POOL_SIZE (default here 20) connections.
// Run: npm run bench:fleet [-- --smoke]  (FLEET_AGENTS, FLEET_TENANTS, FLEET_INTERVAL, FLEET_SECONDS,
// FLEET_WARMUP; the load generator's FLEET_CHURN, FLEET_AUDIT_RESEND, FLEET_AUDIT, FLEET_CONNECTIONS)
import { execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Pool } from "@neondatabase/serverless";
import { generateCredential } from "../../src/app/credentials.ts";
import { ensureTenant } from "../../src/app/auth.ts";
import { openDatabase } from "../../src/db/client.ts";
import { agentCredentials, environments, settingsRevisions } from "../../src/db/schema.ts";
import { applyPreset, EnvironmentSettings } from "../../src/policies/index.ts";
import { startGoWsProxy } from "../../test/harness/go-wsproxy.ts";
import { acquirePostgres } from "../../test/harness/postgres.ts";
import { startServer } from "../api/api.bench.ts";

interface LoopStats {
  p50: number;
  p99: number;
  max: number;
  gc: { count: number; totalMs: number; maxMs: number };
  heapMiB?: number;
  rssMiB?: number;
  /** The load generator's own CPU in the measured window. */
  cpuSeconds?: number;
}

const smoke = process.argv.includes("--smoke");
const AGENTS = Number(process.env.FLEET_AGENTS ?? (smoke ? 300 : 10_000));
const TENANTS = Number(process.env.FLEET_TENANTS ?? (smoke ? 3 : 20));
const INTERVAL = Number(process.env.FLEET_INTERVAL ?? (smoke ? 5 : 30));
const SECONDS = Number(process.env.FLEET_SECONDS ?? (smoke ? 20 : 120));
// Every agent's first audit report opens all of its violations (~340): the warm-up spreads the
// fleet's first loops over this long so the database builds the history without a backlog.
const WARMUP = Number(process.env.FLEET_WARMUP ?? Math.max(INTERVAL, Math.ceil(AGENTS / 25)));
const POOL = process.env.DATABASE_POOL_SIZE ?? "20";

const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }));
const cpuSeconds = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
};
const tryCpu = (pid: number) => {
  try {
    return cpuSeconds(pid);
  } catch {
    return undefined; // exited
  }
};

const pg = await acquirePostgres();
const database = await pg.createDatabase();
const credentialsFile = join(tmpdir(), `gatehouse-fleet-${process.pid}.json`);
try {
  // The fleet, straight into the database (as the system for tenants, then each tenant's own rows).
  const db = await openDatabase({ url: database.url, wsProxy: pg.proxy });
  const documents = ["baseline", "restricted"].flatMap((preset) =>
    (["deny", "warn"] as const).map((enforcementAction) => EnvironmentSettings.parse({ ...applyPreset({}, preset as "baseline"), enforcementAction })),
  );
  const secrets: string[] = [];
  const t0 = performance.now();
  for (let t = 0; t < TENANTS; t++) {
    const tenantId = await ensureTenant(db, `fleet-${t}`);
    const count = Math.floor(AGENTS / TENANTS) + (t < AGENTS % TENANTS ? 1 : 0);
    for (let from = 0; from < count; from += 500) {
      const envs = Array.from({ length: Math.min(500, count - from) }, (_, i) => ({
        id: randomUUID(),
        tenantId,
        name: `cluster-${from + i}`,
        currentRevision: 1,
      }));
      const creds = envs.map(() => generateCredential("gha"));
      await db.withTenant(tenantId, async (tx) => {
        await tx.insert(environments).values(envs);
        await tx.insert(settingsRevisions).values(
          envs.map((e, i) => ({
            tenantId,
            environmentId: e.id,
            revision: 1,
            document: documents[(from + i) % documents.length],
            author: "bench",
            comment: "fleet",
          })),
        );
        await tx
          .insert(agentCredentials)
          .values(envs.map((e, i) => ({ tenantId, environmentId: e.id, prefix: creds[i]!.prefix, secretHash: creds[i]!.secretHash, createdBy: "bench" })));
      });
      secrets.push(...creds.map((c) => c.token));
    }
  }
  await db.close();
  writeFileSync(credentialsFile, JSON.stringify(secrets));
  console.log(
    `${AGENTS} agents in ${TENANTS} tenants set up in ${((performance.now() - t0) / 1000).toFixed(1)} s; first loops over ${WARMUP} s, then polling every ${INTERVAL} s ±20 % for ${SECONDS} s; server pool ${POOL} connections`,
  );

  // The server reaches PostgreSQL through the Go WebSocket proxy (test/tools/wsproxy), a process
  // of its own standing in for Neon's proxy, whose CPU is not the API's; FLEET_PROXY=node: the
  // harness's in-process Node one (in this process, beside the samplers).
  const goProxy = process.env.FLEET_PROXY === "node" ? null : await startGoWsProxy();
  const server = await startServer({
    DATABASE_URL: database.url,
    NEON_WS_PROXY: goProxy?.address ?? pg.proxy,
    DATABASE_POOL_SIZE: POOL,
    // e.g. FLEET_SERVER_NODE_OPTIONS="--cpu-prof --cpu-prof-dir=/tmp/prof" to see where its CPU went.
    ...(process.env.FLEET_SERVER_NODE_OPTIONS ? { NODE_OPTIONS: process.env.FLEET_SERVER_NODE_OPTIONS } : {}),
    // The ingest bulkhead's size (default a quarter of the pool), to compare.
    ...(process.env.AUDIT_INGEST_CONCURRENCY ? { AUDIT_INGEST_CONCURRENCY: process.env.AUDIT_INGEST_CONCURRENCY } : {}),
  });
  const admin = new Pool({ connectionString: database.url, max: 1 });
  try {
    // PostgreSQL's view of the server's connections (pg_stat_activity, this database, not ours).
    let maxConnections = 0;
    // The server's pool, sampled every 100 ms: connections in use and requests waiting for one.
    const poolSamples: { at: number; busy: number; waiting: number }[] = [];
    const poolSampler = setInterval(() => {
      if (!startedAt) return;
      fetch(`${server.base}/bench/pool`)
        .then((r) => r.json() as Promise<{ total: number; idle: number; waiting: number } | null>)
        .then(
          (p) => p && poolSamples.push({ at: performance.now(), busy: p.total - p.idle, waiting: p.waiting }),
          () => {},
        );
    }, 100);
    // What PostgreSQL's backends were doing, sampled every second in the measured window: active
    // ones by wait event and statement (its first words), and any (auto)vacuum running.
    const activity = new Map<string, number>();
    const checkpointing: number[] = [];
    let activitySamples = 0;
    const sampler = setInterval(() => {
      admin
        .query(
          `select a.state, coalesce(a.wait_event_type || ':' || a.wait_event, 'cpu') as wait, left(regexp_replace(a.query, '\\s+', ' ', 'g'), 48) as q, a.backend_type
           from pg_stat_activity a where (a.datname = current_database() or a.backend_type like 'autovacuum%' or a.backend_type = 'checkpointer') and a.pid <> pg_backend_pid()`,
        )
        .then(
          (r) => {
            const rows = r.rows as { state: string | null; wait: string; q: string; backend_type: string }[];
            maxConnections = Math.max(maxConnections, rows.filter((x) => x.backend_type === "client backend").length);
            if (!startedAt) return;
            activitySamples += 1;
            // The checkpointer writing (not waiting for its next checkpoint), for the timeline.
            if (rows.some((x) => x.backend_type === "checkpointer" && x.wait !== "Activity:CheckpointerMain")) checkpointing.push(performance.now());
            for (const x of rows) {
              if (x.backend_type === "checkpointer") continue;
              // Idle in a transaction: the server holds the connection between two statements.
              if (x.backend_type === "client backend" && x.state === "idle in transaction") x.wait = "idle in transaction";
              else if (x.backend_type === "client backend" && x.state !== "active") continue;
              const key = x.backend_type === "client backend" ? `${x.wait.padEnd(24)} ${x.q.trim()}` : `${x.backend_type}: ${x.q.trim()}`;
              activity.set(key, (activity.get(key) ?? 0) + 1);
            }
          },
          () => {},
        );
    }, 1000);
    // The measured window starts when the load generator says every agent has done its first loop.
    let cpuAtStart = 0;
    // Everything else on the machine's cores in the window: the load generator, this process (the
    // samplers; the Node proxy with FLEET_PROXY=node), the Go proxy, PostgreSQL's processes.
    const postgresPids = () =>
      readdirSync("/proc")
        .filter((d) => /^\d+$/.test(d))
        .filter((d) => {
          try {
            return readFileSync(`/proc/${d}/comm`, "utf8").trim() === "postgres";
          } catch {
            return false;
          }
        })
        .map(Number);
    const postgresCpu = () => new Map(postgresPids().map((pid) => [pid, tryCpu(pid) ?? 0]));
    const otherCpu = () => ({ bench: cpuSeconds(process.pid), proxy: goProxy ? (tryCpu(goProxy.pid) ?? 0) : 0, postgres: postgresCpu() });
    let othersAtStart: ReturnType<typeof otherCpu> = { bench: 0, proxy: 0, postgres: new Map() };
    let startedAt = 0;
    const warmupStarted = performance.now();
    const gen = spawn(process.execPath, ["bench/fleet/agents.ts", credentialsFile, server.base, String(INTERVAL), String(SECONDS), String(WARMUP)], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    let stdout = "";
    let settled = false;
    let settleSeconds = 0;
    gen.stdout!.on("data", (d: Buffer) => {
      stdout += d.toString();
      if (!settled && stdout.startsWith("warmed\n")) {
        settled = true;
        // The warm-up inserted every agent's first report (~2.5 million violations). The harness's
        // PostgreSQL runs without autovacuum (its test databases live for one file), so the
        // planner would judge the steady state's statements on statistics of empty tables and
        // scan pages no vacuum has marked visible: done here, as autovacuum and its analyze would
        // have done on a database that has been running.
        const t = performance.now();
        void admin
          .query("vacuum (analyze)")
          .then(() => {
            settleSeconds = (performance.now() - t) / 1000;
            gen.stdin!.end("go\n");
          })
          .catch((err) => {
            console.error(err);
            gen.kill();
          });
      }
      if (!startedAt && stdout.startsWith("warmed\nmeasuring\n")) {
        startedAt = performance.now();
        cpuAtStart = cpuSeconds(server.pid);
        othersAtStart = otherCpu();
        maxConnections = 0;
        void fetch(`${server.base}/bench/loop?reset`).then((r) => r.body?.cancel());
      }
    });
    const code = await new Promise<number | null>((r) => gen.once("exit", r));
    if (code !== 0) throw new Error(`the load generator exited with ${code}`);
    const measuredSeconds = (performance.now() - startedAt) / 1000;
    const cores = (cpuSeconds(server.pid) - cpuAtStart) / measuredSeconds;
    const othersAtEnd = otherCpu();
    const serverLoop = (await (await fetch(`${server.base}/bench/loop`)).json()) as LoopStats;
    clearInterval(sampler);
    clearInterval(poolSampler);
    // The load generator loops one interval more after the vacuum before it measures (agents.ts).
    const warmupSeconds = (startedAt - warmupStarted) / 1000 - settleSeconds - INTERVAL;
    stdout = stdout.slice("warmed\nmeasuring\n".length);
    const {
      loop: generatorLoop,
      timeline,
      ...result
    } = JSON.parse(stdout) as {
      loop: LoopStats;
      timeline: ({ requests: number; over50: number; maxMs: number; failed: number } | null)[];
    } & Record<"warmup" | "measured", Record<string, { count: number; p50: number; p99: number; max: number; statuses: Record<string, number> }>>;
    let errors = 0;
    let worstP99 = 0;
    for (const phase of ["warmup", "measured"] as const) {
      console.log(
        phase === "warmup"
          ? `warm-up (every agent's first loop, those that had one looping on; ${warmupSeconds.toFixed(0)} s; then vacuum and analyze under that load, ${settleSeconds.toFixed(0)} s, and ${INTERVAL} s to settle):`
          : `measured (${measuredSeconds.toFixed(0)} s after the warm-up):`,
      );
      for (const [route, r] of Object.entries(result[phase])) {
        const bad = Object.entries(r.statuses)
          .filter(([s]) => !/^(200|202|204|304)$/.test(s))
          .reduce((n, [, c]) => n + c, 0);
        if (phase === "measured") {
          errors += bad;
          worstP99 = Math.max(worstP99, r.p99);
        }
        console.log(
          `  ${route.padEnd(14)} ${String(r.count).padStart(7)} requests (${(r.count / (phase === "warmup" ? warmupSeconds + settleSeconds + INTERVAL : measuredSeconds)).toFixed(0)}/s)   p50 ${r.p50} ms   p99 ${r.p99} ms   max ${r.max} ms   ${JSON.stringify(r.statuses)}`,
        );
      }
    }
    const pool = (await (await fetch(`${server.base}/bench/pool`)).json()) as { total: number } | null;
    console.log(
      `server CPU ${cores.toFixed(3)} cores (measured window); PostgreSQL connections at most ${maxConnections} (pool now ${pool?.total ?? "-"}); errors ${errors}`,
    );
    const share = (k: "bench" | "proxy") => ((othersAtEnd[k] - othersAtStart[k]) / measuredSeconds).toFixed(2);
    let postgresSeconds = 0;
    for (const [pid, end] of othersAtEnd.postgres) postgresSeconds += end - (othersAtStart.postgres.get(pid) ?? 0);
    console.log(
      `other CPU in the window (cores): load generator ${(generatorLoop.cpuSeconds! / measuredSeconds).toFixed(2)}, PostgreSQL ${(postgresSeconds / measuredSeconds).toFixed(2)} (its processes at the end), ${goProxy ? `Go proxy ${share("proxy")}, ` : ""}bench process ${share("bench")}${goProxy ? "" : " (with the Node proxy)"}`,
    );
    // Where a queue was: the server's thread (its event-loop delay, its GC) or the load generator's own.
    for (const [who, l] of [
      ["server", serverLoop],
      ["load generator", generatorLoop],
    ] as const) {
      console.log(
        `${who} event-loop delay p50 ${l.p50} ms, p99 ${l.p99} ms, max ${l.max} ms; GC ${l.gc.count} pauses, ${l.gc.totalMs} ms in all, longest ${l.gc.maxMs} ms (measured window)`,
      );
    }
    const q = (xs: number[], p: number) => xs.sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? 0;
    const busy = poolSamples.map((x) => x.busy);
    const waiting = poolSamples.map((x) => x.waiting);
    console.log(
      `server pool (${POOL}), every 100 ms: in use p50 ${q(busy, 0.5)}, p99 ${q(busy, 0.99)}; requests waiting for a connection p50 ${q(waiting, 0.5)}, p99 ${q(waiting, 0.99)}, max ${q(waiting, 1)}`,
    );
    console.log("timeline, 10 s buckets (all routes; the server pool's most waiting requests in each; PostgreSQL's checkpoints):");
    for (const [i, b] of timeline.entries()) {
      const inBucket = poolSamples.filter((x) => x.at >= startedAt + i * 10_000 && x.at < startedAt + (i + 1) * 10_000);
      const most = Math.max(0, ...inBucket.map((x) => x.waiting));
      const checkpoint = checkpointing.filter((at) => at >= startedAt + i * 10_000 && at < startedAt + (i + 1) * 10_000).length;
      console.log(
        `  ${String(i * 10).padStart(4)} s  ${String(b?.requests ?? 0).padStart(6)} requests, ${String(b?.over50 ?? 0).padStart(5)} over 50 ms, max ${b?.maxMs ?? 0} ms, ${b?.failed ?? 0} failed; pool waiting up to ${most}${checkpoint ? `; checkpointer writing in ${checkpoint} of its 1 s samples` : ""}`,
      );
    }
    console.log(`PostgreSQL backends at work, mean per 1 s sample of the measured window (${activitySamples} samples):`);
    for (const [key, n] of [...activity].sort((x, y) => y[1] - x[1]).slice(0, 12))
      console.log(`  ${(n / Math.max(1, activitySamples)).toFixed(2).padStart(6)}  ${key}`);
    // With Prefer: respond-async the 202 comes before the diff: whether the diffs kept up.
    const client = await admin.connect();
    await client.query("begin");
    await client.query("select set_config('app.system', 'on', true)"); // past the tables' row-level security
    const backlog = (
      await client.query(
        `select count(*) filter (where ingested_at is null)::int as unfinished, count(*)::int as reports,
                coalesce(extract(epoch from max(now() - received_at) filter (where ingested_at is null)), 0)::float as oldest
         from audit_reports`,
      )
    ).rows[0] as { unfinished: number; reports: number; oldest: number };
    await client.query("commit");
    client.release();
    console.log(
      `audit reports applied after their 202: ${backlog.reports - backlog.unfinished} of ${backlog.reports} environments' latest finished at the end, ${backlog.unfinished} unfinished (oldest received ${backlog.oldest.toFixed(1)} s before)`,
    );
    console.log(`server memory at the end: heap in use ${serverLoop.heapMiB} MiB, RSS ${serverLoop.rssMiB} MiB`);
    console.log(`most agents per core at a ${INTERVAL} s interval: ${(AGENTS / cores).toFixed(0)}`);
    console.log(
      `targets: < 1 core ${cores < 1 ? "met" : "NOT met"}; p99 ≤ 50 ms ${worstP99 <= 50 ? "met" : `NOT met (${worstP99} ms)`}; 0 errors ${errors === 0 ? "met" : "NOT met"}`,
    );
  } finally {
    server.stop();
    await admin.end();
    await goProxy?.close();
    await new Promise((r) => setTimeout(r, 500));
  }
} finally {
  rmSync(credentialsFile, { force: true });
  await database.drop();
  await pg.release();
}
