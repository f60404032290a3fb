// bench/admission: `gator bench` of the PSS restricted preset over the corpus's pods, Rego and CEL
// side by side — per-review p50/p99 and reviews per second. gator's CEL engine skips templates
// without CEL, so the fair comparison is on the same controls: the restricted controls that have
// CEL, under each engine; the whole preset under Rego is printed for scale.
// Run: npm run bench:admission (BENCH_ITERATIONS, default 500, passes over the pods per engine).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { applyPreset, catalogue, EnvironmentSettings, renderEnvironment, toYaml } from "../../src/policies/index.ts";
import { corpus } from "../../src/policies/presets/corpus.ts";
import { toolPath } from "../../test/harness/tools.ts";

const NOW = new Date("2026-06-01T00:00:00Z");
const iterations = Number(process.env.BENCH_ITERATIONS ?? 500);
const pods = corpus.filter((e) => e.object.kind === "Pod").map((e) => ({ ...e.object, metadata: { ...(e.object.metadata as object), name: e.name } }));

interface Bench {
  engine: string;
  templateCount: number;
  totalReviews: number;
  latencies: { p50: string; p99: string; mean: string };
  reviewsPerSecond: number;
}

/** Go durations as gator prints them (`4.69ms`, `122.8µs`, `1.2s`) → ms. */
function ms(d: string): number {
  const m = /^([\d.]+)(ns|µs|us|ms|s)$/.exec(d);
  if (!m) throw new Error(`unexpected duration ${d}`);
  return Number(m[1]) * { ns: 1e-6, µs: 1e-3, us: 1e-3, ms: 1, s: 1000 }[m[2] as "ns"];
}

function bench(label: string, controls: Record<string, unknown>, engine: "rego" | "cel") {
  const settings = EnvironmentSettings.parse({ ...applyPreset({}, "restricted"), controls, enforcementPoint: "both" });
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-bench-admission-"));
  try {
    writeFileSync(join(dir, "policy.yaml"), toYaml(renderEnvironment(settings, NOW).objects));
    writeFileSync(join(dir, "pods.yaml"), toYaml(pods));
    const run = spawnSync(toolPath("gator"), ["bench", "-f", dir, `--engine=${engine}`, `-n=${iterations}`, "--warmup=20", "-o", "json"], {
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    });
    if (run.status !== 0) throw new Error(`gator bench exited ${run.status}: ${run.stderr}`);
    const [b] = JSON.parse(run.stdout.slice(run.stdout.indexOf("["))) as Bench[];
    return {
      label,
      engine,
      controls: b!.templateCount,
      reviews: b!.totalReviews,
      p50: ms(b!.latencies.p50),
      p99: ms(b!.latencies.p99),
      perSecond: b!.reviewsPerSecond,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const restricted = applyPreset({}, "restricted").controls!;
const withCel = Object.fromEntries(Object.entries(restricted).filter(([id]) => catalogue.find((c) => c.id === id)?.cel));
console.log(`gator bench, PSS restricted, ${pods.length} pods of the corpus × ${iterations} iterations, concurrency 1`);
console.log(`restricted controls with CEL: ${Object.keys(withCel).join(", ")}`);
const rows = [
  bench("restricted, controls with CEL", withCel, "rego"),
  bench("restricted, controls with CEL", withCel, "cel"),
  bench("restricted, every control", restricted, "rego"),
];
const pad = (s: string | number, n: number) => String(s).padEnd(n);
console.log(`${pad("policy", 32)}${pad("engine", 8)}${pad("controls", 10)}${pad("reviews", 9)}${pad("p50 ms", 9)}${pad("p99 ms", 9)}reviews/s`);
for (const r of rows) {
  console.log(
    `${pad(r.label, 32)}${pad(r.engine, 8)}${pad(r.controls, 10)}${pad(r.reviews, 9)}${pad(r.p50.toFixed(3), 9)}${pad(r.p99.toFixed(3), 9)}${r.perSecond.toFixed(0)}`,
  );
}
const [rego, cel] = rows;
console.log(
  `CEL vs Rego on the same controls: p50 ×${(cel!.p50 / rego!.p50).toFixed(2)}, p99 ×${(cel!.p99 / rego!.p99).toFixed(2)}, throughput ×${(cel!.perSecond / rego!.perSecond).toFixed(2)}`,
);
