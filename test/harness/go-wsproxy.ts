// The Go WebSocket→TCP proxy (test/tools/wsproxy, built by build-tools.sh) as a child process:
// the same protocol as wsproxy.ts (Node's `ws`, in-process), at a fraction of its CPU. For
// bench:workers and bench:fleet, where the proxy stands in for Neon's, whose CPU in production
// is not on the API's machines: as a process of its own, its CPU is measured apart.
import { spawn } from "node:child_process";
import { toolPath } from "./tools.ts";

/** The proxy's counters (GET /stats), named as wsproxy.ts's accessors. */
export interface WsProxyStats {
  /** WebSocket connections accepted since start: one per database connection a client opened. */
  connections: number;
  /** Messages clients sent since start. */
  clientMessages: number;
  /** Connections open right now. */
  open: number;
  /** Upgrades refused because their address was not a loopback host:port. */
  refused: number;
}

export interface GoWsProxy {
  /** "127.0.0.1:<port>", the value for neonConfig.wsProxy / NEON_WS_PROXY. */
  address: string;
  /** The proxy process, for its CPU time in /proc. */
  pid: number;
  stats(): Promise<WsProxyStats>;
  /** SIGTERM, and wait until it has exited. */
  close(): Promise<void>;
}

export async function startGoWsProxy(): Promise<GoWsProxy> {
  // stdin stays a pipe: the proxy exits when it closes, so a crashed parent leaves no proxy behind.
  const child = spawn(toolPath("wsproxy"), ["-exit-on-stdin-eof"], { stdio: ["pipe", "pipe", "pipe"] });
  let output = "";
  child.stderr!.on("data", (d) => (output += d));
  const address = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d) => {
      out += d;
      const line = out.indexOf("\n");
      if (line >= 0) resolve(out.slice(0, line).trim()); // the first line: the address it listens on
    });
    child.once("error", reject);
    child.once("exit", (code, signal) => reject(new Error(`wsproxy exited (${code ?? signal}) before listening:\n${output}`)));
  });
  const stats = async (): Promise<WsProxyStats> => {
    const res = await fetch(`http://${address}/stats`);
    if (!res.ok) throw new Error(`wsproxy /stats: ${res.status} ${await res.text()}`);
    return (await res.json()) as WsProxyStats;
  };
  return {
    address,
    pid: child.pid!,
    stats,
    close: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
}
