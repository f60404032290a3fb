// npm run worker:build: bundle the Workers entry with `wrangler deploy --dry-run` and print the
// bundle's size, raw and gzipped (what Cloudflare's size limit counts).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const out = mkdtempSync(join(tmpdir(), "gatehouse-worker-"));
execFileSync(process.execPath, ["node_modules/wrangler/bin/wrangler.js", "deploy", "--dry-run", "--config", "infra/wrangler.toml", "--outdir", out], {
  stdio: ["ignore", "ignore", "inherit"],
  env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
});
let raw = 0;
let gz = 0;
for (const f of readdirSync(out)) {
  if (!/\.(m?js|wasm)$/.test(f)) continue;
  const bytes = readFileSync(join(out, f));
  raw += statSync(join(out, f)).size;
  gz += gzipSync(bytes, { level: 9 }).length;
}
console.log(`worker bundle: ${(raw / 1024).toFixed(0)} KiB, gzipped ${(gz / 1024).toFixed(0)} KiB (in ${out})`);
