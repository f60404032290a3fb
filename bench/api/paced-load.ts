// An open-loop load generator for bench/api: requests leave at evenly spaced instants (RATE per
// second over up to CONNECTIONS keep-alive connections), whatever the server does, and latency is
// counted from the instant a request was due — so a stall shows up in the figures instead of
// silently slowing the sender (coordinated omission). autocannon's --overallRate sends in bursts,
// which measures its own bursts. Prints one JSON line: { total, statuses, p50, p99, max } in ms.
// Usage: node bench/api/paced-load.ts URL RATE SECONDS CONNECTIONS [header=value ...]
import { Pool } from "undici";

const [url, rateArg, secondsArg, connectionsArg, ...headerArgs] = process.argv.slice(2);
if (!url || !rateArg || !secondsArg || !connectionsArg) throw new Error("usage: paced-load.ts URL RATE SECONDS CONNECTIONS [header=value ...]");
const rate = Number(rateArg);
const total = Math.round(rate * Number(secondsArg));
const headers = Object.fromEntries(headerArgs.map((h) => [h.slice(0, h.indexOf("=")), h.slice(h.indexOf("=") + 1)]));
const target = new URL(url);
const pool = new Pool(target.origin, { connections: Number(connectionsArg), pipelining: 1 });

// Open every connection first (and warm both ends up): a connection set up inside the measured
// window would put its handshake into the latencies.
const connections = Number(connectionsArg);
for (let round = 0; round < 20; round++) {
  await Promise.all(
    Array.from({ length: connections }, () => pool.request({ path: target.pathname + target.search, method: "GET", headers }).then((r) => r.body.dump())),
  );
}

const latencies: number[] = [];
const statuses: Record<string, number> = {};
const start = performance.now() + 100;
let sent = 0;
await new Promise<void>((done) => {
  let finished = 0;
  const tick = () => {
    // Send every request that is due by now; then sleep until the next one is.
    while (sent < total && start + (sent * 1000) / rate <= performance.now()) {
      const due = start + (sent * 1000) / rate;
      sent++;
      pool
        .request({ path: target.pathname + target.search, method: "GET", headers })
        .then(async (res) => {
          await res.body.dump();
          statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
        })
        .catch(() => (statuses.error = (statuses.error ?? 0) + 1))
        .finally(() => {
          latencies.push(performance.now() - due);
          if (++finished === total) done();
        });
    }
    if (sent < total) setTimeout(tick, Math.max(0, start + (sent * 1000) / rate - performance.now()));
  };
  setTimeout(tick, 100);
});
await pool.close();

latencies.sort((a, b) => a - b);
const at = (q: number) => Number(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!.toFixed(2));
console.log(JSON.stringify({ total, statuses, p50: at(0.5), p99: at(0.99), max: at(1) }));
