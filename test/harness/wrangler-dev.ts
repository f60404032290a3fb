// The Workers entry inside workerd, as `wrangler dev` runs it locally (offline, no account, no
// telemetry), for test/workers/ and bench/workers/: one place that knows how to start it, when it
// is ready and how to stop it. Variables are passed with --var (they stand in for the Worker's
// vars and secrets); infra/wrangler.toml is the configuration, as in production.
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { freePorts } from "./cluster-process.ts";
import { startServerProcess } from "./server-process.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

export interface WranglerDev {
  /** http://127.0.0.1:<port> */
  base: string;
  /** Everything wrangler and workerd printed so far. */
  output(): string;
  /** The workerd process serving the Worker (a descendant of wrangler), for its CPU time. */
  workerdPid(): number | undefined;
  stop(): Promise<void>;
}

function children(pid: number): number[] {
  const out: number[] = [];
  for (const task of readdirSync(`/proc/${pid}/task`, { withFileTypes: true })) {
    const list = readFileSync(`/proc/${pid}/task/${task.name}/children`, "utf8").trim();
    if (list) out.push(...list.split(" ").map(Number));
  }
  return out;
}

/** The first descendant of `pid` (breadth first) whose command is `name`. */
function descendantNamed(pid: number, name: string): number | undefined {
  const queue = [pid];
  while (queue.length) {
    const p = queue.shift()!;
    try {
      if (p !== pid && readFileSync(`/proc/${p}/comm`, "utf8").trim() === name) return p;
      queue.push(...children(p));
    } catch {
      // Exited meanwhile.
    }
  }
  return undefined;
}

/**
 * Start `wrangler dev` and wait until `readyPath` answers 2xx through the Worker (GET /healthz,
 * the default, also needs the database). `extraArgs` go to wrangler as they are.
 */
export async function startWranglerDev(
  vars: Record<string, string>,
  opts: { readyPath?: string; extraArgs?: string[]; timeoutMs?: number } = {},
): Promise<WranglerDev> {
  const [port, inspectorPort] = (await freePorts(2)) as [number, number];
  const base = `http://127.0.0.1:${port}`;
  const pollMs = 500;
  const dev = await startServerProcess({
    what: "wrangler dev",
    args: [
      "node_modules/wrangler/bin/wrangler.js",
      "dev",
      "--config",
      "infra/wrangler.toml",
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--inspector-port",
      String(inspectorPort),
      "--show-interactive-dev-session=false",
      ...(opts.extraArgs ?? []),
      ...Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
    ],
    cwd: root,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" },
    base,
    attempts: Math.ceil((opts.timeoutMs ?? 120_000) / pollMs),
    pollMs,
    readyPath: opts.readyPath,
  });
  return { base, output: dev.output, workerdPid: () => descendantNamed(dev.child.pid!, "workerd"), stop: dev.stop };
}
