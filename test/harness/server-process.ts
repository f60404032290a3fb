// The API as a real child process for the suites that test what a deployment runs (`npm start`
// for the console's browser tests, `wrangler dev` for the Workers entry via wrangler-dev.ts): started with its
// output kept for the failure message, ready once /healthz answers (which needs the database
// too), stopped with SIGTERM and awaited, so the next suite never races its shutdown.
import { spawn, type ChildProcess } from "node:child_process";
import { freePorts } from "./cluster-process.ts";

export interface ServerProcess {
  child: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** SIGTERM, and wait until it has exited. */
  stop(): Promise<void>;
}

/** A free loopback port (bound, then released for the child to take). */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port!;
}

/**
 * Spawns `node <args>` and waits for `${base}${readyPath ?? "/healthz"}` to answer 2xx, polling every `pollMs` up to
 * `attempts` times; throws with its output when it exits first or never becomes ready.
 */
export async function startServerProcess(o: {
  what: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  base: string;
  attempts: number;
  pollMs: number;
  readyPath?: string;
}): Promise<ServerProcess> {
  const child = spawn(process.execPath, o.args, { cwd: o.cwd, env: o.env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  };
  for (let i = 0; ; i++) {
    const res = await fetch(`${o.base}${o.readyPath ?? "/healthz"}`).catch(() => undefined);
    if (res?.ok) break;
    if (i > o.attempts || child.exitCode !== null) {
      await stop();
      throw new Error(`${o.what} did not become ready:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, o.pollMs));
  }
  return { child, output: () => output, stop };
}
