// bench/audit, part 2: how long another tenant waits behind a 16 MB audit report, on the default
// store (PGlite: one connection, and its statements run on the API's own thread) and on
// PostgreSQL through the Neon driver (the harness's embedded PostgreSQL 17 behind its WebSocket
// proxy). Black box: `node src/node.ts` (what `npm start` runs) in its own process, on a fresh
// data directory or database; this process posts the report as an agent of one tenant while it
// sends requests of another tenant (GET /v1/environments) one after the other, PROBE_MS apart,
// and prints how long each took to answer, without and during the ingest. Two reports:
// a new environment's first (~51,000 violations opened) and the next with 10% churn.
// Target: the wait (max over the probes during the ingest) <= 100 ms.
// Run: npm run bench:ingest-wait (BENCH_STORES=pglite,postgres, BENCH_PER_CONSTRAINT, BENCH_PROBE_MS)
// Debugging a stall: BENCH_SERVER_STALLS=1 makes the server print every event-loop stall over
// 40 ms (a timer's lateness, with the time since it started), BENCH_SERVER_NODE_ARGS adds node
// flags to the server (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { acquirePostgres } from "../../test/harness/postgres.ts";
import { syntheticReport } from "./report.ts";

const PROBE_MS = Number(process.env.BENCH_PROBE_MS ?? 10);
const CONSTRAINTS = 17;
const PER_CONSTRAINT = Number(process.env.BENCH_PER_CONSTRAINT ?? 3000);
const STORES = (process.env.BENCH_STORES ?? "pglite,postgres").split(",");
const TARGET_MS = 100;
const SERVER_NODE_ARGS = (process.env.BENCH_SERVER_NODE_ARGS ?? "").split(" ").filter(Boolean);
// Preloaded into the server (a data: URL, so no file of the server's own): a 5 ms timer that says
// when it ran late; a late timer is a stall of everything on the event loop.
const STALL_LOGGER = `data:text/javascript,${encodeURIComponent(`
  const t0 = performance.now(); let last = t0;
  setInterval(() => { const now = performance.now(); const late = now - last - 5; last = now;
    if (late > 40) process.stderr.write("stall " + late.toFixed(0) + " ms, ending at " + ((now - t0) / 1000).toFixed(2) + " s\\n"); }, 5).unref();`)}`;

async function startServer(env: Record<string, string>): Promise<{ base: string; stop(): Promise<void> }> {
  const port = await new Promise<number>((res) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
  const stalls = process.env.BENCH_SERVER_STALLS ? ["--import", STALL_LOGGER] : [];
  const server = spawn(process.execPath, [...SERVER_NODE_ARGS, ...stalls, "src/node.ts"], {
    env: {
      ...process.env,
      PORT: String(port),
      LOG_LEVEL: "warn",
      RATE_LIMIT_PER_SECOND: "0",
      AGENT_RATE_LIMIT_PER_SECOND: "0",
      WEBHOOK_DISPATCH_INTERVAL_MS: "0",
      DATABASE_URL: "",
      ...env,
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const kill = () => server.kill("SIGKILL");
  process.on("exit", kill);
  let exited = false;
  server.on("exit", (code, signal) => {
    exited = true;
    if (code !== 0) console.error(`the server exited: ${code ?? signal}`);
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) break;
    } catch {
      if (i > 600 || exited) throw new Error("the server did not start");
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    async stop() {
      process.off("exit", kill);
      server.kill("SIGTERM");
      if (!exited) await new Promise((r) => server.once("exit", r));
    },
  };
}

async function run(storeName: string, base: string): Promise<void> {
  const call = async (method: string, path: string, token: string | undefined, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.status === 204 ? null : res.json();
  };
  const token = async (tenant: string) => ((await call("POST", "/dev/token", undefined, { tenant, role: "admin" })) as { token: string }).token;
  const agentTenant = await token("bench-agent");
  const env = (await call("POST", "/v1/environments", agentTenant, { name: "big" })) as { id: string };
  const cred = (await call("POST", `/v1/environments/${env.id}/agent-credentials`, agentTenant)) as { secret: string };
  // A digest endpoint: the report's events are queued as in production (one digest).
  await call("POST", "/v1/webhooks", agentTenant, { url: "https://hooks.example.com/gatehouse", events: ["violation.opened", "violation.resolved"] }).catch(
    () => {},
  );
  const other = await token("bench-other");
  await call("GET", "/v1/environments", other);

  /**
   * Probes of the other tenant until `until` settles, one at a time with PROBE_MS between (open-loop
   * pacing would measure this 2-core machine's own backlog): each one's time to answer, so a stall
   * of the server shows as one long wait.
   */
  async function probe(until: Promise<unknown>): Promise<number[]> {
    const waits: number[] = [];
    let done = false;
    void until.finally(() => (done = true)).catch(() => {});
    while (!done) {
      const sent = performance.now();
      await call("GET", "/v1/environments", other);
      waits.push(performance.now() - sent);
      await new Promise((r) => setTimeout(r, PROBE_MS));
    }
    return waits;
  }

  const idle = await probe(new Promise((r) => setTimeout(r, 3000)));
  console.log(`${storeName}: another tenant's GET /v1/environments, one at a time, ${PROBE_MS} ms apart`);
  console.log(`  idle:                          ${fmt(idle)}`);
  let t = Date.now() - 60_000;
  for (const [name, generation] of [
    ["first report", 0],
    ["10% churn", 1],
  ] as const) {
    const body = report(generation, new Date((t += 10_000)));
    if (process.env.BENCH_SERVER_STALLS) console.log(`  -- ${name}: posting`);
    const started = performance.now();
    const ingest = call("POST", "/agent/v1/audit-report", cred.secret, body);
    const waits = await probe(ingest);
    await ingest;
    const took = performance.now() - started;
    console.log(`  ${name} (${(body.length / 1e6).toFixed(1)} MB, ${CONSTRAINTS * PER_CONSTRAINT} violations), ingest ${(took / 1000).toFixed(1)} s:`);
    const max = Math.max(...waits);
    console.log(`    the other tenant waited      ${fmt(waits)}  (target max <= ${TARGET_MS} ms: ${max <= TARGET_MS ? "met" : "NOT met"})`);
  }
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const fmt = (xs: number[]) =>
  `p50 ${pct(xs, 0.5).toFixed(1)} ms, p99 ${pct(xs, 0.99).toFixed(1)} ms, max ${Math.max(...xs).toFixed(1)} ms (${xs.length} probes)`;

/** The first report (generation 0) and the next ones, each replacing every tenth Deployment. */
const report = (generation: number, collectedAt: Date) =>
  JSON.stringify(
    syntheticReport({ constraints: CONSTRAINTS, perConstraint: PER_CONSTRAINT, kind: "Deployment" }, generation, generation ? 10 : 0, collectedAt),
  );

const pg = STORES.includes("postgres") ? await acquirePostgres() : undefined;
try {
  for (const store of STORES) {
    const dataDir = mkdtempSync(join(tmpdir(), "gatehouse-ingest-wait-"));
    const database = store === "postgres" ? await pg!.createDatabase() : undefined;
    const server = await startServer(database ? { DATABASE_URL: database.url, NEON_WS_PROXY: pg!.proxy } : { GATEHOUSE_DATA_DIR: dataDir });
    try {
      await run(database ? "PostgreSQL 17 through the Neon driver" : "default store (PGlite)", server.base);
    } finally {
      await server.stop();
      await database?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  console.log(`target: the other tenant's wait (max) <= ${TARGET_MS} ms`);
} finally {
  await pg?.release();
}
