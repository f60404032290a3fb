// bench/agent: the agent against real components (etcd + kube-apiserver + Gatekeeper, the API on
// PostgreSQL), every control enabled. Prints:
//   1. empty cluster → converged (one agent pass) vs Gatekeeper's own template compile time
//      (the same templates applied directly with kubectl, until every one reports created);
//   2. N no-change loops of the real agent process: write requests to the API server (counted by
//      a proxy in front of it; the target is 0), reads per loop (target ≤ 3: the agent reads
//      through watches), and the agent's RSS sampled every 100 loops (target ≤ 100 MiB, flat).
// Run: npm run bench:agent  (BENCH_LOOPS=1000 by default, ~17 min at 1 s; the tools build on first use)
// First: @hono/zod-openapi must extend zod before any schema is built (the app's routes need it).
import "@hono/zod-openapi";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
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

  // 2. The real agent process polling every second, through the counting proxy.
  const [port] = await freePorts(1);
  bed.proxy.reset();
  const child = spawn(process.execPath, [fileURLToPath(new URL("../../agent/main.ts", import.meta.url))], {
    env: {
      PATH: process.env.PATH,
      GATEHOUSE_API_URL: bed.apiUrl,
      GATEHOUSE_TOKEN: bed.agentToken,
      GATEHOUSE_POLL_INTERVAL_SECONDS: "1",
      // As in infra/agent.yaml: a bounded heap keeps RSS well under the container's memory limit.
      NODE_OPTIONS: process.env.AGENT_NODE_OPTIONS ?? "--max-old-space-size=64 --max-semi-space-size=1",
      GATEHOUSE_LOG_LEVEL: "warn",
      KUBECONFIG: cluster.kubeconfig(bed.serviceAccountToken, bed.proxy.url),
      GATEHOUSE_HTTP_HOST: "127.0.0.1",
      GATEHOUSE_HTTP_PORT: String(port),
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const heapMiB = async () => {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    return Number(/gatehouse_agent_nodejs_heap_size_used_bytes (\d+)/.exec(text)?.[1] ?? 0) / 1048576;
  };
  const loops = async () => {
    try {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return Number(/gatehouse_agent_sync_duration_seconds_count\{result="success"\} (\d+)/.exec(text)?.[1] ?? 0);
    } catch {
      return 0;
    }
  };
  const rss = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
  while ((await loops()) < 1) await sleep(200);
  const rssAfterFirst = rss();
  const started = performance.now();
  const samples: { loop: number; rss: number }[] = [{ loop: await loops(), rss: rssAfterFirst }];
  for (let n = await loops(); n < LOOPS; n = await loops()) {
    if (n >= (samples.at(-1)?.loop ?? 0) + 100) samples.push({ loop: n, rss: rss() });
    await sleep(500);
  }
  const elapsed = performance.now() - started;
  const counts = bed.proxy.counts();
  const done = await loops();
  const rssAfter = rss();
  const heapAfter = await heapMiB();
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));

  console.log(`\n== ${done} no-change loops of the agent process (poll interval 1 s)`);
  console.log(`write requests to the API server:    ${counts.writes}   (target 0)`);
  console.log(`read requests:                       ${counts.reads} (${(counts.reads / done).toFixed(2)} per loop; target ≤ 3)`);
  console.log(`by method:                           ${JSON.stringify(counts.byMethod)}`);
  console.log(`agent RSS after the first loop:      ${rssAfterFirst.toFixed(1)} MiB`);
  console.log(`agent RSS after ${done} loops:          ${rssAfter.toFixed(1)} MiB   (target ≤ 100 MiB and flat)`);
  const rssValues = [...samples.map((x) => x.rss), rssAfter];
  console.log(`agent RSS every 100 loops:           ${samples.map((x) => `${x.loop}: ${x.rss.toFixed(1)}`).join(", ")} MiB`);
  console.log(`agent RSS range over the loops:      ${Math.min(...rssValues).toFixed(1)}–${Math.max(...rssValues).toFixed(1)} MiB`);
  console.log(`agent JS heap in use after them:     ${heapAfter.toFixed(1)} MiB (the rest of RSS is code and V8's spare heap)`);
  console.log(`wall time for the loops:             ${(elapsed / 1000).toFixed(1)} s`);
} finally {
  await bed.close();
  await cluster.stop();
}
