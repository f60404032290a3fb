// bench/render: validate + render all controls for one environment, and for 10,000
// environments; prints µs per environment and peak memory. Run: npm run bench:render
import { performance } from "node:perf_hooks";
import { catalogue } from "../../src/policies/catalogue.ts";
import { applyPreset, EnvironmentSettings, renderEnvironment, type EnvironmentSettingsInput } from "../../src/policies/index.ts";

const NOW = new Date("2026-06-01T00:00:00Z");
let peakRss = 0;
let peakHeap = 0;
const sample = () => {
  const m = process.memoryUsage();
  peakRss = Math.max(peakRss, m.rss);
  peakHeap = Math.max(peakHeap, m.heapUsed);
};

/** Environment i: every control enabled, settings varied so nothing is trivially cached. */
function environment(i: number): EnvironmentSettingsInput {
  const base = applyPreset({}, i % 2 ? "restricted" : "baseline");
  const controls = { ...base.controls } as Record<string, unknown>;
  for (const c of catalogue) controls[c.id] ??= { enabled: true };
  controls.privilegedContainers = {
    enabled: true,
    enforcementAction: (["deny", "warn", "dryrun"] as const)[i % 3],
    exemptions: { namespaces: [{ pattern: `team-${i}-*`, reason: "bench" }], images: [{ pattern: `registry.example.com/t${i}/*` }] },
  };
  return { ...base, controls: controls as EnvironmentSettingsInput["controls"] };
}

function renderOne(i: number) {
  return renderEnvironment(EnvironmentSettings.parse(environment(i)), NOW).objects.length;
}

// Warm up the JIT, then time one environment many times.
for (let i = 0; i < 200; i++) renderOne(i);
const single: number[] = [];
for (let i = 0; i < 500; i++) {
  const t = performance.now();
  renderOne(i);
  single.push(performance.now() - t);
}
single.sort((a, b) => a - b);
const pct = (p: number) => single[Math.floor((single.length - 1) * p)]! * 1000;

(globalThis as { gc?: () => void }).gc?.();
sample();
const N = 10_000;
let objects = 0;
const t0 = performance.now();
for (let i = 0; i < N; i++) {
  objects += renderOne(i);
  if (i % 250 === 0) sample();
}
const total = performance.now() - t0;
sample();

const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MiB`;
console.log(`controls per environment: ${catalogue.length} (all enabled)`);
console.log(`one environment: p50 ${pct(0.5).toFixed(0)} µs, p99 ${pct(0.99).toFixed(0)} µs (validate + render)`);
console.log(`${N} environments: ${(total / 1000).toFixed(2)} s, ${((total * 1000) / N).toFixed(0)} µs per environment, ${objects} objects`);
console.log(`peak RSS ${mb(peakRss)}, peak heap ${mb(peakHeap)}`);
