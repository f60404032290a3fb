// bench/agent: the agent against real components (etcd + kube-apiserver + Gatekeeper, the API on
// PostgreSQL), every control enabled. Prints:
//   1. empty cluster → converged (one agent pass) vs Gatekeeper's own template compile time
//      (the same templates applied directly with kubectl, until every one reports created);
//   2. N no-change loops of the agent process as its image runs it (the same entry point and
//      NODE_OPTIONS): write requests to the API server (counted by a proxy in front of it; the
//      target is 0), reads per loop (target ≤ 3: the agent reads through watches), and the
//      agent's RSS, sampled at every /metrics scrape (10 s) and printed every ~100 loops with the
//      JS old space and the count of full GCs: target ≤ 100 MiB and flat, i.e. a least-squares
//      slope from loop 100 on of at most 1 MiB per 1,000 loops (FLAT_FROM, FLAT_SLOPE).
// Run: npm run bench:agent  (BENCH_LOOPS=1000 by default, ~18 min at 1 s; the tools build on first
// use). BENCH_AGENT_VARIANTS and BENCH_HEAP_SNAPSHOT_LOOPS compare flags and look for growth (below).
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
// "Flat": a least-squares line through every RSS sample from loop 100 on (the first loops load
// code and fill the informers) rises by at most 1 MiB per 1,000 loops.
const FLAT_FROM = 100;
const FLAT_SLOPE = 1;
type Sample = { loop: number; rss: number; cpu: number; old: number; heap: number; majors: number };
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
  // strips the types at run time). BENCH_AGENT_VARIANTS ("|" between NODE_OPTIONS strings) runs
  // one agent per variant side by side against the same cluster, for comparing flags under the
  // same load (the proxy's counts are then over all of them). A variant with
  // --heapsnapshot-signal=SIGUSR2 is sent SIGUSR2 at the loops in BENCH_HEAP_SNAPSHOT_LOOPS
  // (e.g. "100,800"): the snapshots (each a full GC first) are kept and their directory printed.
  // A variant starting "argv:" passes its flags on node's command line instead: the V8 flags Node
  // refuses in NODE_OPTIONS (--optimize-for-size, --single-threaded-gc), for comparison only.
  const source = process.env.BENCH_AGENT_ENTRY === "source";
  const variants = (process.env.BENCH_AGENT_VARIANTS ?? AGENT_NODE_OPTIONS).split("|").map((v) => v.trim());
  const snapshotLoops = (process.env.BENCH_HEAP_SNAPSHOT_LOOPS ?? "").split(",").filter(Boolean).map(Number);
  const dist = mkdtempSync(join(tmpdir(), "gatehouse-agent-"));
  buildAgent(dist);
  symlinkSync(fileURLToPath(new URL("../../node_modules", import.meta.url)), join(dist, "node_modules"));
  const entry = source ? fileURLToPath(new URL("../../agent/main.ts", import.meta.url)) : join(dist, "agent/main.js");
  const ports = await freePorts(variants.length);
  const snapshotDir = snapshotLoops.length ? mkdtempSync(join(tmpdir(), "gatehouse-agent-heap-")) : undefined;
  bed.proxy.reset();
  const agents = variants.map((nodeOptions, i) => {
    const port = ports[i];
    const argv = nodeOptions.startsWith("argv:") ? nodeOptions.slice(5).trim().split(/\s+/) : [];
    const child = spawn(process.execPath, [...argv, entry], {
      cwd: snapshotDir ?? dist,
      env: {
        PATH: process.env.PATH,
        GATEHOUSE_API_URL: bed.apiUrl,
        GATEHOUSE_TOKEN: bed.agentToken,
        GATEHOUSE_POLL_INTERVAL_SECONDS: "1",
        NODE_OPTIONS: argv.length ? "" : nodeOptions,
        GATEHOUSE_LOG_LEVEL: "warn",
        KUBECONFIG: cluster.kubeconfig(bed.serviceAccountToken, bed.proxy.url),
        GATEHOUSE_HTTP_HOST: "127.0.0.1",
        GATEHOUSE_HTTP_PORT: String(port),
      },
      stdio: ["ignore", "inherit", "inherit"],
    });
    const samples: Sample[] = [];
    return { nodeOptions, port, child, samples, snapshots: [...snapshotLoops], first: 0, last: "", cpuFirst: 0 };
  });
  type Agent = (typeof agents)[number];
  const metric = (text: string, name: string) => Number(new RegExp(`^gatehouse_agent_${name} (\\S+)`, "m").exec(text)?.[1] ?? 0);
  const scrape = async (a: Agent) => {
    try {
      return await (await fetch(`http://127.0.0.1:${a.port}/metrics`)).text();
    } catch {
      return "";
    }
  };
  const loopsOf = (text: string) => metric(text, 'sync_duration_seconds_count\\{result="success"\\}');
  // utime + stime in clock ticks (100 per second on Linux), fields 14 and 15 after the command.
  const proc = (a: Agent, file: string) => {
    try {
      return readFileSync(`/proc/${a.child.pid}/${file}`, "utf8");
    } catch {
      return ""; // the agent exited (a variant's out-of-memory crash, say): its report says so
    }
  };
  const cpuSeconds = (a: Agent) => {
    const fields = proc(a, "stat")
      .replace(/^.*\) /, "")
      .split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
  };
  const rss = (a: Agent) => Number(/VmRSS:\s+(\d+) kB/.exec(proc(a, "status"))?.[1] ?? 0) / 1024;
  const sample = async (a: Agent) => {
    const text = await scrape(a);
    const previous = a.samples.at(-1);
    if (!text && previous) return previous; // exited (or not answering): no sample
    a.last = text || a.last;
    const s: Sample = {
      loop: loopsOf(text),
      rss: rss(a),
      cpu: cpuSeconds(a),
      old: metric(text, 'nodejs_heap_space_size_used_bytes\\{space="old"\\}') / 1048576,
      heap: metric(text, "nodejs_heap_size_used_bytes") / 1048576,
      majors: metric(text, 'nodejs_gc_duration_seconds_count\\{kind="major"\\}'),
    };
    a.samples.push(s);
    if (a.snapshots.length && s.loop >= (a.snapshots[0] ?? Number.POSITIVE_INFINITY) && /--heapsnapshot-signal=SIGUSR2/.test(a.nodeOptions)) {
      a.snapshots.shift();
      a.child.kill("SIGUSR2");
    }
    return s;
  };
  for (const a of agents) {
    for (;;) {
      const text = await scrape(a);
      if (loopsOf(text) >= 1) break;
      await sleep(200);
    }
    a.first = rss(a);
    a.cpuFirst = cpuSeconds(a);
  }
  const started = performance.now();
  // /metrics scraped every 10 s, as a Prometheus would (15–60 s): rendering it is garbage in the
  // agent's heap, and scraped every second it was a third of what the agent allocated. Every
  // scrape is a sample (RSS, and the JS heap and its old space from the agent's own metrics).
  for (;;) {
    const now = await Promise.all(agents.map(sample));
    if (now.every((s, i) => s.loop >= LOOPS || agents[i]?.child.exitCode !== null)) break;
    await sleep(10_000);
  }
  const elapsed = performance.now() - started;
  const counts = bed.proxy.counts();
  for (const a of agents) a.child.kill("SIGTERM");
  await Promise.all(agents.map((a) => (a.child.exitCode === null ? new Promise((r) => a.child.once("exit", r)) : undefined)));
  rmSync(dist, { recursive: true, force: true });

  const total = agents.reduce((n, a) => n + (a.samples.at(-1)?.loop ?? 0), 0);
  console.log(`\n== ${LOOPS} no-change loops of the agent process (poll interval 1 s), ${agents.length} side by side`);
  console.log(`runs:                                node ${source ? "agent/main.ts (sources)" : "agent/main.js (agent/build.ts, as the image)"}`);
  console.log(`write requests to the API server:    ${counts.writes} (${(counts.writes / total).toFixed(2)} per loop; target 0)`);
  console.log(`read requests:                       ${counts.reads} (${(counts.reads / total).toFixed(2)} per loop; target ≤ 3)`);
  console.log(`by method:                           ${JSON.stringify(counts.byMethod)}`);
  console.log(`wall time for the loops:             ${(elapsed / 1000).toFixed(1)} s`);
  for (const a of agents) report(a.nodeOptions, a.first, a.cpuFirst, a.samples, a.last);
  if (snapshotDir) console.log(`\nheap snapshots (loops ${snapshotLoops.join(", ")}): ${snapshotDir}`);

  function report(nodeOptions: string, first: number, cpuFirst: number, samples: Sample[], text: string) {
    const done = samples.at(-1)?.loop ?? 0;
    const warm = samples.filter((x) => x.loop >= FLAT_FROM);
    const slope = warm.length >= 2 ? leastSquaresSlope(warm.map((x) => [x.loop, x.rss])) * 1000 : Number.NaN;
    const oldSlope = warm.length >= 2 ? leastSquaresSlope(warm.map((x) => [x.loop, x.old])) * 1000 : Number.NaN;
    const rssValues = samples.map((x) => x.rss);
    const max = Math.max(first, ...rssValues);
    const every100 = samples.filter((x, i) => i === 0 || i === samples.length - 1 || Math.floor(x.loop / 100) > Math.floor((samples[i - 1]?.loop ?? 0) / 100));
    const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;
    const verdict = (ok: boolean) => (ok ? "met" : "NOT met");
    console.log(`\n-- NODE_OPTIONS=${nodeOptions || "(none)"}, ${done} loops${done < LOOPS ? " (EXITED before the end)" : ""}`);
    console.log(`agent RSS after the first loop:      ${first.toFixed(1)} MiB`);
    const cpu = ((samples.at(-1)?.cpu ?? cpuFirst) - cpuFirst) / Math.max(1, done - (samples[0]?.loop ?? 0));
    console.log(`agent CPU per loop after the first:  ${(cpu * 1000).toFixed(1)} ms (user + system)`);
    console.log(`agent RSS, highest sample:           ${max.toFixed(1)} MiB   (target ≤ 100 MiB: ${verdict(max <= 100)})`);
    console.log(
      `agent RSS slope:                     ${slope.toFixed(2)} MiB per 1,000 loops, least squares over every sample from loop ${FLAT_FROM} on   (target flat: ≤ ${FLAT_SLOPE} MiB per 1,000 loops: ${verdict(Math.abs(slope) <= FLAT_SLOPE)})`,
    );
    console.log(
      `full (major) GCs:                    ${(samples.at(-1)?.majors ?? 0) - (warm[0]?.majors ?? 0)} from loop ${FLAT_FROM} on, ${samples.at(-1)?.majors ?? 0} in all`,
    );
    console.log(
      `JS old space, slope:                 ${oldSlope.toFixed(2)} MiB per 1,000 loops over the same samples (what V8 grows towards its next full GC)`,
    );
    console.log(
      `agent RSS range from loop ${FLAT_FROM}:        ${Math.min(...warm.map((x) => x.rss)).toFixed(1)}–${Math.max(...warm.map((x) => x.rss)).toFixed(1)} MiB`,
    );
    console.log(`every ~100 loops (loop: RSS / old space MiB): ${every100.map((x) => `${x.loop}: ${x.rss.toFixed(1)}/${x.old.toFixed(1)}`).join(", ")}`);
    console.log(
      `agent memory after them:             JS heap ${mib(metric(text, "nodejs_heap_size_used_bytes"))} used of ${mib(metric(text, "nodejs_heap_size_total_bytes"))}, external ${mib(metric(text, "nodejs_external_memory_bytes"))} (the rest of RSS is code, V8 and Node themselves)`,
    );
  }
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
