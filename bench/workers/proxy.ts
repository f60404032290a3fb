// bench:workers' WebSocket proxy in either form — the Go one (test/tools/wsproxy, a process of its
// own, the default) or the test suites' Node one (in the bench's process, BENCH_PROXY=node) — behind
// one interface: its counters and its CPU seconds so far.
import { readFileSync } from "node:fs";
import { startGoWsProxy } from "../../test/harness/go-wsproxy.ts";
import { startWsProxy } from "../../test/harness/wsproxy.ts";

const CLK_TCK = 100; // Linux's USER_HZ
/** A process's CPU seconds so far (user + system), from /proc. */
export const cpuSeconds = (pid: number | undefined) => {
  if (!pid) return Number.NaN;
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
};

/** The WebSocket proxy in either form: its counters and its CPU seconds so far. */
export interface Proxy {
  name: string;
  address: string;
  stats(): Promise<{ connections: number; clientMessages: number }>;
  cpuSeconds(): number;
  close(): Promise<void>;
}

export async function startProxy(kind: "go" | "node"): Promise<Proxy> {
  if (kind === "node") {
    const p = await startWsProxy();
    return {
      name: "Node ws, in the bench's process",
      address: p.address,
      stats: async () => ({ connections: p.connections(), clientMessages: p.clientMessages() }),
      // This whole process: the proxy and the bench's own bookkeeping (autocannon is a process of its own).
      cpuSeconds: () => {
        const u = process.cpuUsage();
        return (u.user + u.system) / 1e6;
      },
      close: p.close,
    };
  }
  const p = await startGoWsProxy();
  return { name: "Go, test/tools/wsproxy", address: p.address, stats: p.stats, cpuSeconds: () => cpuSeconds(p.pid), close: p.close };
}
