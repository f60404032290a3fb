// bench/fleet's load generator, in a process of its own: N simulated agents, each with its own
// credential, looping every INTERVAL seconds with ±20 % jitter as the real agent does
// (agent/reconcile.ts): GET the desired state with the last ETag, POST a status report, and POST
// an audit report when it changed or when the last one is AUDIT_RESEND seconds old (the agent's
// GATEHOUSE_AUDIT_RESEND_SECONDS, default 600). Status reports carry a fresh lastSuccessfulSyncAt
// every loop, like the agent's. Sizes follow the real agent: one result per desired object, the
// constraints of the desired state with 0–40 violations each (~340 a cluster), of which
// Gatekeeper lists at most 20 (its default --constraint-violations-limit; ~250 listed a cluster).
// A cluster's violations are its violating workloads' pods: 40 workloads, each in the lists of
// the constraints it breaks, its pod named after its current rollout. Churn is a rollout: with
// probability CHURN per loop one workload's pods are replaced (new names), so under each
// constraint that lists it one violation resolves and one opens — what a deploy does to a real
// audit. (Under a truncated list nothing resolves; what is listed has its sighting recorded.)
// Warm-up: every agent's first loop (the full desired state and its first audit report, which
// builds the history the steady state diffs against), spread over WARMUP seconds, each agent
// looping on after its first; then a line "warmed", and a wait for a line on stdin. Then, after one
// more INTERVAL of loops, printing a line "measuring", SECONDS of steady loops, each agent's last report dated at
// a random point of the resend period (a fleet that has been running for a while).
// Prints one JSON line when done: per route and phase, latencies and statuses.
// Usage: node bench/fleet/agents.ts CREDENTIALS.json BASE INTERVAL SECONDS [WARMUP]
import { readFileSync } from "node:fs";
import { monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
import { Pool } from "undici";

const [file, base, intervalArg, secondsArg, warmupArg] = process.argv.slice(2);
if (!file || !base || !intervalArg || !secondsArg) throw new Error("usage: agents.ts CREDENTIALS.json BASE INTERVAL SECONDS [WARMUP]");
const secrets = JSON.parse(readFileSync(file, "utf8")) as string[];
const INTERVAL_MS = Number(intervalArg) * 1000;
const SECONDS = Number(secondsArg);
const WARMUP_MS = Number(warmupArg ?? intervalArg) * 1000;
let END = Infinity;
let warming = true;
const CHURN = Number(process.env.FLEET_CHURN ?? 0.05);
const AUDIT_RESEND_MS = Number(process.env.FLEET_AUDIT_RESEND ?? 600) * 1000;
const AUDIT = process.env.FLEET_AUDIT !== "0"; // FLEET_AUDIT=0: polls and status only
const WORKLOADS = 40;
// Gatekeeper's --constraint-violations-limit, default 20: what a constraint's status lists.
const LISTED = 20;
// Each real agent has a connection of its own, so a request never waits here for another agent's
// to finish: enough connections that this pool is not where a queue forms (256 made a stall on the
// server snowball here: once requests took over ~0.4 s, every later one queued for a connection).
const pool = new Pool(base, {
  connections: Number(process.env.FLEET_CONNECTIONS ?? Math.min(secrets.length, 2000)),
  pipelining: 1,
  keepAliveTimeout: 120_000,
});

// Its own event-loop delay and GC pauses in the measured window, printed beside the server's: a
// stall here would count in every latency it measures.
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
const gc = { count: 0, totalMs: 0, maxMs: 0 };
new PerformanceObserver((list) => {
  if (warming) return;
  for (const e of list.getEntries()) {
    gc.count += 1;
    gc.totalMs = Math.round(gc.totalMs + e.duration);
    gc.maxMs = Math.max(gc.maxMs, Math.round(e.duration));
  }
}).observe({ entryTypes: ["gc"] });

type Route = "desired-state" | "status" | "audit-report";
const stats = {
  warmup: new Map<Route, { ms: number[]; statuses: Record<string, number> }>(),
  measured: new Map<Route, { ms: number[]; statuses: Record<string, number> }>(),
};
// The measured window in 10 s buckets (by when a request ended), all routes: whether a queue
// is a steady overload or a stall that the system does not recover from.
const BUCKET_MS = 10_000;
const timeline: { requests: number; over50: number; maxMs: number; failed: number }[] = [];
let measuredFrom = 0;
function record(route: Route, started: number, status: number | string) {
  const phase = warming ? stats.warmup : stats.measured;
  let s = phase.get(route);
  if (!s) phase.set(route, (s = { ms: [], statuses: {} }));
  const now = performance.now();
  const took = now - started;
  s.ms.push(took);
  s.statuses[status] = (s.statuses[status] ?? 0) + 1;
  if (warming || !measuredFrom) return;
  const b = (timeline[Math.floor((now - measuredFrom) / BUCKET_MS)] ??= { requests: 0, over50: 0, maxMs: 0, failed: 0 });
  b.requests += 1;
  if (took > 50) b.over50 += 1;
  b.maxMs = Math.max(b.maxMs, Math.round(took));
  if (!/^(200|202|204|304)$/.test(String(status))) b.failed += 1;
}

async function call(route: Route, method: "GET" | "POST", path: string, secret: string, headers: Record<string, string>, body?: unknown) {
  const started = performance.now();
  try {
    const res = await pool.request({
      path,
      method,
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
      headers: { authorization: `Bearer ${secret}`, ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = res.statusCode === 200 ? await res.body.text() : (await res.body.dump(), "");
    record(route, started, res.statusCode);
    return { status: res.statusCode, etag: res.headers.etag as string | undefined, text };
  } catch {
    record(route, started, "error");
    return { status: 0, etag: undefined, text: "" };
  }
}

interface Desired {
  revision: number;
  objects: { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; spec?: { enforcementAction?: string } }[];
}

/**
 * Under constraint i of agent `seed`, the workloads j < (seed·7 + i·13) mod 41 violate it; as in
 * Gatekeeper's status, at most LISTED of them are listed (the rest counted, the list `truncated`).
 */
function auditReport(desired: Desired, seed: number, rollouts: number[]) {
  const now = new Date().toISOString();
  const constraints = desired.objects
    .filter((o) => o.apiVersion.startsWith("constraints.gatekeeper.sh/"))
    .map((o, i) => {
      const n = (seed * 7 + i * 13) % (WORKLOADS + 1);
      const violations = Array.from({ length: Math.min(n, LISTED) }, (_, j) => {
        const pod = `web-${j}-${rollouts[j]!.toString(36)}`;
        return {
          group: "",
          version: "v1",
          kind: "Pod",
          namespace: `team-${j % 9}`,
          name: pod,
          message: `pod team-${j % 9}/${pod}: container "app" (containers[0], image nginx:1.27): ${o.metadata.name} finding ${j}; not allowed.`,
          enforcementAction: o.spec?.enforcementAction ?? "deny",
        };
      });
      return {
        kind: o.kind,
        name: o.metadata.name,
        control: o.metadata.labels?.["gatehouse.dev/control"] ?? o.metadata.name,
        enforcementAction: o.spec?.enforcementAction ?? "deny",
        auditTimestamp: now,
        totalViolations: n,
        truncated: n > LISTED,
        violations,
      };
    });
  return { collectedAt: now, constraints };
}

function statusReport(desired: Desired) {
  return {
    agentVersion: "0.1.0",
    kubernetesVersion: "v1.36.3",
    gatekeeper: { installed: true, version: "v3.23.0" },
    appliedRevision: desired.revision || null,
    desiredRevision: desired.revision || null,
    lastSuccessfulSyncAt: new Date().toISOString(),
    error: null,
    objects: desired.objects.map((o) => ({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, result: "unchanged" })),
    templates: desired.objects
      .filter((o) => o.kind === "ConstraintTemplate")
      .map((o) => ({ name: o.metadata.name, created: true, crdEstablished: true, errors: [] })),
  };
}

interface Agent {
  secret: string;
  etag?: string;
  desired?: Desired;
  seed: number;
  /** Each workload's current rollout (its pods' names). */
  rollouts: number[];
  /** When the last audit report was sent (performance.now()); null before the first. */
  sentAt: number | null;
  /** A rollout since the last audit report was sent. */
  changed: boolean;
}

async function loop(a: Agent) {
  const got = await call("desired-state", "GET", "/agent/v1/desired-state", a.secret, a.etag ? { "if-none-match": a.etag } : {});
  if (got.status === 200) {
    // Only what the reports are made of is kept: 10,000 whole desired states (templates with
    // their Rego) held ~2 GB here, and this process's GC pauses would count in every latency.
    const full = JSON.parse(got.text) as Desired;
    a.desired = {
      revision: full.revision,
      objects: full.objects.map((o) => ({
        apiVersion: o.apiVersion,
        kind: o.kind,
        metadata: { name: o.metadata.name, labels: { "gatehouse.dev/control": o.metadata.labels?.["gatehouse.dev/control"] ?? o.metadata.name } },
        spec: { enforcementAction: o.spec?.enforcementAction ?? "deny" },
      })),
    };
    a.etag = got.etag;
  }
  if (!a.desired) return;
  await call("status", "POST", "/agent/v1/status", a.secret, {}, statusReport(a.desired));
  if (!AUDIT) return;
  if (a.sentAt !== null && Math.random() < CHURN) {
    a.rollouts[Math.floor(Math.random() * WORKLOADS)]! += 1;
    a.changed = true;
  }
  if (a.sentAt === null || a.changed || performance.now() - a.sentAt >= AUDIT_RESEND_MS) {
    // As the agent (agent/api-client.ts): the 204 once applied. FLEET_AUDIT_ASYNC=1 sends Prefer:
    // respond-async (202 once stored, applied after the response), which the agent does not yet.
    const prefer: Record<string, string> = process.env.FLEET_AUDIT_ASYNC === "1" ? { prefer: "respond-async" } : {};
    const sent = await call("audit-report", "POST", "/agent/v1/audit-report", a.secret, prefer, auditReport(a.desired, a.seed, a.rollouts));
    // As the agent: what was not accepted is sent again on the next loop.
    if (sent.status === 202 || sent.status === 204) {
      a.sentAt = performance.now();
      a.changed = false;
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

// Each agent, as a real one: its first loop at a random point of the warm-up, then a loop every
// interval until the end. (Agents that did one loop and then waited for the warm-up to end came
// back after up to WARMUP seconds of silence, past the offline threshold: the measured window then
// began with every agent's return, a full status write each, and not with a steady state.)
let firstLoops = 0;
let allFirstLoops: () => void;
const warmedUp = new Promise<void>((r) => (allFirstLoops = r));
async function run(a: Agent) {
  await sleep(Math.random() * WARMUP_MS);
  let first = true;
  while (performance.now() < END) {
    const next = performance.now() + INTERVAL_MS * (0.8 + Math.random() * 0.4);
    await loop(a);
    if (first && ++firstLoops === agents.length) allFirstLoops();
    first = false;
    if (next >= END) break;
    await sleep(next - performance.now());
  }
}

const agents: Agent[] = secrets.map((secret, i) => ({ secret, seed: i, rollouts: Array(WORKLOADS).fill(0), sentAt: null, changed: false }));
// Warm-up: every agent's first loop (the full desired state, the first audit report), spread over
// WARMUP, the agents already looping keeping on.
const running = Promise.all(agents.map(run));
await warmedUp;
// The bench settles the database (what autovacuum would have done with the warm-up's rows; the
// agents keep looping) and says when to go on.
console.log("warmed");
await new Promise<void>((resolve) => process.stdin.once("data", () => resolve()));
process.stdin.pause();
// One interval more before measuring: the requests the database-wide vacuum held up were answered
// together at its end, and their agents' next loops came together too (the measured window's
// first bucket had the pool's longest queue). Autovacuum, which that vacuum stands in for, works
// table by table and throttled; its backlog is not the steady state.
await sleep(INTERVAL_MS);
warming = false;
// Steady state: the last reports were sent at random points of the resend period, not all in the warm-up.
for (const a of agents) if (a.sentAt !== null) a.sentAt = performance.now() - Math.random() * AUDIT_RESEND_MS;
loopDelay.enable();
const cpuAtStart = process.cpuUsage();
END = performance.now() + SECONDS * 1000;
measuredFrom = performance.now();
console.log("measuring");
await running;
await pool.close();
const summary = (m: typeof stats.measured) =>
  Object.fromEntries(
    [...m].map(([route, s]) => {
      const ms = s.ms.sort((a, b) => a - b);
      const at = (q: number) => Number((ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] ?? 0).toFixed(2));
      return [route, { count: ms.length, p50: at(0.5), p99: at(0.99), max: at(1), statuses: s.statuses }];
    }),
  );
// The histogram counts the sampling timer's own 10 ms: what is left is the delay.
const ms = (ns: number) => Math.max(0, Number((ns / 1e6 - 10).toFixed(1)));
const cpu = process.cpuUsage(cpuAtStart);
const loopStats = {
  p50: ms(loopDelay.percentile(50)),
  p99: ms(loopDelay.percentile(99)),
  max: ms(loopDelay.max),
  gc,
  cpuSeconds: (cpu.user + cpu.system) / 1e6,
};
console.log(
  JSON.stringify({ warmup: summary(stats.warmup), measured: summary(stats.measured), loop: loopStats, timeline: Array.from(timeline, (b) => b ?? null) }),
);
