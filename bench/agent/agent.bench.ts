// bench/agent: the agent against real components (etcd + kube-apiserver + Gatekeeper, the API on
// PostgreSQL), every control enabled. Prints:
//   1. empty cluster → converged (one agent pass) vs Gatekeeper's own template compile time
//      (the same templates applied directly with kubectl, until every one reports created);
//   2. N no-change loops of the agent process as its image runs it (the same entry point and
//      NODE_OPTIONS): write requests to the API server (counted by a proxy in front of it; the
//      target is 0), reads per loop (target ≤ 3: the agent reads through watches), and the
//      agent's RSS after the first loop, every 100 loops and at the end, with its slope (target
//      ≤ 100 MiB, flat).
// Run: npm run bench:agent  (BENCH_LOOPS=1000 by default, ~17 min at 1 s; the tools build on first use)
// First: @hono/zod-openapi must extend zod before any schema is built (the app's routes need it).
import "@hono/zod-openapi";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildAgent } from "../../agent/build.ts";
import { AGENT_NODE_OPTIONS } from "../../src/install/agent-manifest.ts";
import { catalogue } from "../../src/policies/catalogue.ts";
import { EnvironmentSettings, renderEnvironment, toYaml } from "../../src/policies/index.ts";
import { startAgentTestbed } from "../../test/harness/agent-testbed.ts";
import { prepareTestDatabases } from "../../test/harness/backends.ts";
import { freePorts, sleep } from "../../test/harness/cluster-process.ts";
import { startCluster } from "../../test/harness/cluster.ts";

const LOOPS = Number(process.env.BENCH_LOOPS ?? 1000);
const settings = { controls: Object.fromEntries(catalogue.map((c) => [c.id, {}])) };
const ms = (t: number) => `${t.toFixed(0)} ms`;
const TEMPLATES = "constrainttemplates.templates.gatekeeper.sh";

await prepareTestDatabases();
const cluster = await startCluster({ auditIntervalSeconds: 60 });
console.log(`cluster up in ${ms(cluster.timings.totalMs)} (apiserver ready ${ms(cluster.timings.apiserverReadyMs)})`);
const bed = await startAgentTestbed(cluster, { tenant: "bench-agent", settings });

try {
  // 1a. Converge from empty with one agent pass (apply, wait for Gatekeeper, apply constraints).
  let t = performance.now();
  const first = await bed.pass();
  const converge = performance.now() - t;
  if (!first.ok) throw new Error(`first pass failed: ${first.error}`);
  const objects = first.results.filter((r) => r.result === "applied").length;

  // 1b. Gatekeeper alone: the same templates, under other names, applied directly by kubectl.
  const rendered = renderEnvironment(EnvironmentSettings.parse(settings), new Date()).objects.filter((o) => o.kind === "ConstraintTemplate");
  const copies = rendered.map((o) => {
    const c = structuredClone(o) as any;
    const kind = `Bench${c.spec.crd.spec.names.kind}`;
    c.metadata = { name: kind.toLowerCase() };
    c.spec.crd.spec.names.kind = kind;
    return c;
  });
  t = performance.now();
  await cluster.applyYaml(toYaml(copies));
  for (;;) {
    const list = await cluster.kubectlJson<{ items: { metadata: { name: string }; status?: { created?: boolean } }[] }>(["get", TEMPLATES]);
    const bench = list.items.filter((i) => i.metadata.name.startsWith("bench"));
    if (bench.length === copies.length && bench.every((i) => i.status?.created)) break;
    await sleep(100);
  }
  const compile = performance.now() - t;
  await cluster.kubectlOk(["delete", TEMPLATES, ...copies.map((c) => c.metadata.name)]);

  console.log(`\n== empty cluster → converged (${catalogue.length} controls, ${objects} objects)`);
  console.log(`agent, one pass:                     ${ms(converge)}`);
  console.log(`Gatekeeper alone, templates created: ${ms(compile)}   (kubectl apply → every status.created, polled every 100 ms)`);
  console.log(`agent overhead over Gatekeeper:      ${ms(converge - compile)}  (ratio ${(converge / compile).toFixed(2)})`);

  // 2. The agent process as its image runs it (agent/Dockerfile): agent/build.ts's JavaScript,
  // `node agent/main.js`, with the manifest's and the Helm chart's NODE_OPTIONS, polling every
  // second through the counting proxy. BENCH_AGENT_ENTRY=source runs agent/main.ts instead (Node
  // strips the types at run time) and AGENT_NODE_OPTIONS overrides the flags, for comparison.
  const source = process.env.BENCH_AGENT_ENTRY === "source";
  const nodeOptions = process.env.AGENT_NODE_OPTIONS ?? AGENT_NODE_OPTIONS;
  const dist = mkdtempSync(join(tmpdir(), "gatehouse-agent-"));
  buildAgent(dist);
  symlinkSync(fileURLToPath(new URL("../../node_modules", import.meta.url)), join(dist, "node_modules"));
  const entry = source ? fileURLToPath(new URL("../../agent/main.ts", import.meta.url)) : join(dist, "agent/main.js");
  const [port] = await freePorts(1);
  bed.proxy.reset();
  const child = spawn(process.execPath, [entry], {
    env: {
      PATH: process.env.PATH,
      GATEHOUSE_API_URL: bed.apiUrl,
      GATEHOUSE_TOKEN: bed.agentToken,
      GATEHOUSE_POLL_INTERVAL_SECONDS: "1",
      NODE_OPTIONS: nodeOptions,
      GATEHOUSE_LOG_LEVEL: "warn",
      KUBECONFIG: cluster.kubeconfig(bed.serviceAccountToken, bed.proxy.url),
      GATEHOUSE_HTTP_HOST: "127.0.0.1",
      GATEHOUSE_HTTP_PORT: String(port),
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const metric = (text: string, name: string) => Number(new RegExp(`^gatehouse_agent_${name} (\\S+)`, "m").exec(text)?.[1] ?? 0);
  const scrape = async () => {
    try {
      return await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    } catch {
      return "";
    }
  };
  const loops = async () => metric(await scrape(), 'sync_duration_seconds_count\\{result="success"\\}');
  const rss = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
  while ((await loops()) < 1) await sleep(200);
  const rssAfterFirst = rss();
  const started = performance.now();
  const samples: { loop: number; rss: number }[] = [{ loop: await loops(), rss: rssAfterFirst }];
  // /metrics polled every 10 s, as a Prometheus would scrape it (15–60 s): rendering it is garbage
  // in the agent's heap, and polled every second it was a third of what the agent allocated.
  for (let n = await loops(); n < LOOPS; n = await loops()) {
    if (n >= (samples.at(-1)?.loop ?? 0) + 100) samples.push({ loop: n, rss: rss() });
    await sleep(10_000);
  }
  const elapsed = performance.now() - started;
  const counts = bed.proxy.counts();
  const done = await loops();
  const rssAfter = rss();
  samples.push({ loop: done, rss: rssAfter });
  const text = await scrape();
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
  rmSync(dist, { recursive: true, force: true });

  // The slope: a least-squares line through the samples, per 1,000 loops, once warm (from loop 100
  // on) and over the second half (V8 grows its heap to a plateau, then holds it).
  const slopeFrom = (from: number) => {
    const warm = samples.filter((x) => x.loop >= from);
    return warm.length >= 2 ? leastSquaresSlope(warm.map((x) => [x.loop, x.rss])) * 1000 : Number.NaN;
  };
  const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;
  const rssValues = samples.map((x) => x.rss);
  console.log(`\n== ${done} no-change loops of the agent process (poll interval 1 s)`);
  console.log(
    `runs:                                node ${source ? "agent/main.ts (sources)" : "agent/main.js (agent/build.ts, as the image)"}, NODE_OPTIONS=${nodeOptions || "(none)"}`,
  );
  console.log(`write requests to the API server:    ${counts.writes} (${(counts.writes / done).toFixed(2)} per loop; target 0)`);
  console.log(`read requests:                       ${counts.reads} (${(counts.reads / done).toFixed(2)} per loop; target ≤ 3)`);
  console.log(`by method:                           ${JSON.stringify(counts.byMethod)}`);
  console.log(`agent RSS after the first loop:      ${rssAfterFirst.toFixed(1)} MiB   (target ≤ 100 MiB)`);
  console.log(`agent RSS after ${done} loops:         ${rssAfter.toFixed(1)} MiB   (target ≤ 100 MiB)`);
  console.log(
    `agent RSS slope:                     ${slopeFrom(100).toFixed(2)} MiB per 1,000 loops from loop 100, ${slopeFrom(done / 2).toFixed(2)} over the second half   (target: flat)`,
  );
  console.log(`agent RSS every 100 loops:           ${samples.map((x) => `${x.loop}: ${x.rss.toFixed(1)}`).join(", ")} MiB`);
  console.log(`agent RSS range over the loops:      ${Math.min(...rssValues).toFixed(1)}–${Math.max(...rssValues).toFixed(1)} MiB`);
  console.log(
    `agent memory after them:             JS heap ${mib(metric(text, "nodejs_heap_size_used_bytes"))} used of ${mib(metric(text, "nodejs_heap_size_total_bytes"))}, external ${mib(metric(text, "nodejs_external_memory_bytes"))} (the rest of RSS is code, V8 and Node themselves)`,
  );
  console.log(`wall time for the loops:             ${(elapsed / 1000).toFixed(1)} s`);
} finally {
  await bed.close();
  await cluster.stop();
}

function leastSquaresSlope(points: [number, number][]): number {
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const sxy = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return sxx === 0 ? 0 : sxy / sxx;
}
