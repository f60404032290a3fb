// Process plumbing for the cluster harness (cluster.ts): free ports, long-running children with
// their output in log files, short commands, HTTP probes and polling.
//
// Children die with the test process: they are started through `setpriv --pdeathsig KILL` when
// the machine has it (the kernel kills them even if the test process is SIGKILLed), and an 'exit'
// handler SIGKILLs whatever is still registered. They are unref'd: a cluster nobody stopped does
// not keep the process alive.
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, openSync, readSync, fstatSync, writeSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import net from "node:net";

/** Distinct free loopback ports, picked by binding port 0 (all held open until every one is picked). */
export async function freePorts(count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = net.createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", resolve);
      });
      ports.push((server.address() as net.AddressInfo).port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}

const live = new Set<ChildProcess>();
const exitCleanups = new Set<() => void>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const child of live) {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }
    for (const cleanup of exitCleanups) {
      try {
        cleanup();
      } catch {
        // best effort
      }
    }
  });
}

/** Runs `fn` (synchronously) when the process exits, after every managed child got SIGKILL.
 * Returns a function that unregisters it. */
export function onProcessExit(fn: () => void): () => void {
  installExitHook();
  exitCleanups.add(fn);
  return () => exitCleanups.delete(fn);
}

const SETPRIV = "/usr/bin/setpriv";
const hasSetpriv = existsSync(SETPRIV);

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  /** Set once the process has exited. */
  exitInfo(): ExitInfo | undefined;
  readonly exited: Promise<ExitInfo>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
  stop(graceMs?: number): Promise<ExitInfo>;
}

/** Starts a long-running child whose stdout and stderr are appended to `logPath`. */
export function spawnManaged(
  name: string,
  command: string,
  args: readonly string[],
  opts: { logPath: string; env?: NodeJS.ProcessEnv; cwd?: string },
): ManagedProcess {
  installExitHook();
  const fd = openSync(opts.logPath, "a");
  writeSync(fd, `--- ${new Date().toISOString()} starting ${name}: ${command} ${args.join(" ")}\n`);
  const [cmd, argv] = hasSetpriv ? [SETPRIV, ["--pdeathsig", "KILL", "--", command, ...args]] : [command, [...args]];
  let child: ChildProcess;
  try {
    child = spawn(cmd, argv, {
      stdio: ["ignore", fd, fd],
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      detached: false,
    });
  } finally {
    closeSync(fd);
  }
  live.add(child);
  // A running cluster does not keep the test process alive; the exit hook kills it.
  child.unref();
  let info: ExitInfo | undefined;
  const exited = new Promise<ExitInfo>((resolve) => {
    const done = (code: number | null, signal: NodeJS.Signals | null) => {
      if (info) return;
      info = { code, signal };
      live.delete(child);
      resolve(info);
    };
    child.once("exit", done);
    // A spawn failure (ENOENT) emits 'error' and maybe no 'exit'.
    child.once("error", () => done(-1, null));
  });
  return {
    name,
    pid: child.pid ?? -1,
    logPath: opts.logPath,
    exitInfo: () => info,
    exited,
    async stop(graceMs = 15_000) {
      if (info) return info;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

function readEnd(path: string, bytes: number): string {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    const len = Math.min(size, bytes);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    return buf.toString("utf8");
  } finally {
    closeSync(fd);
  }
}

/**
 * The last `maxLines` lines of a log file, preceded by its last few error-looking lines when
 * those are not in the tail (e.g. a bad flag above a usage dump). Reads at most 256 KiB.
 */
export function tailFile(path: string, maxLines = 40): string {
  if (!existsSync(path)) return "(no log file)";
  const lines = readEnd(path, 256 * 1024).split("\n");
  const tail = lines.slice(-maxLines - 1);
  const before = lines.slice(0, -maxLines - 1);
  const notable = before.filter((l) => /"level":"(error|fatal|panic)"|\b(invalid|fatal|panic|error:|failed to|unable to)\b|^E\d{4} /i.test(l)).slice(-8);
  const head = notable.length > 0 ? `(error lines above the tail:)\n${notable.map((l) => l.slice(0, 600)).join("\n")}\n(tail:)\n` : "";
  return head + tail.join("\n");
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a short command asynchronously (never blocking the event loop, so in-process servers such
 * as the counting proxy keep serving it). Never throws for a non-zero exit; a command that runs
 * past `timeoutMs` is killed and reported with code -1.
 */
export function runCommand(
  command: string,
  args: readonly string[],
  opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(command, [...args], { env: opts.env ?? process.env, stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let note = "";
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => err.push(b));
    const timer = setTimeout(() => {
      note = `\n(killed after ${opts.timeoutMs ?? 120_000} ms)`;
      child.kill("SIGKILL");
    }, opts.timeoutMs ?? 120_000);
    child.once("error", (e) => {
      clearTimeout(timer);
      resolve({ code: -1, stdout: "", stderr: `${command}: ${e.message}` });
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({
        code: code ?? -1,
        stdout: Buffer.concat(out).toString("utf8"),
        stderr: Buffer.concat(err).toString("utf8") + note,
      });
    });
    child.stdin.on("error", () => {}); // the command may exit before reading its input
    child.stdin.end(opts.input ?? "");
  });
}

export async function runOk(command: string, args: readonly string[], opts: Parameters<typeof runCommand>[2] = {}): Promise<string> {
  const r = await runCommand(command, args, opts);
  if (r.code !== 0) {
    throw new Error(`${command} ${args.join(" ")} exited ${r.code}: ${r.stderr || r.stdout}`.slice(0, 8000));
  }
  return r.stdout;
}

export interface HttpResult {
  status: number;
  body: string;
}

/** One GET (http or https); rejects on connection errors and after `timeoutMs`. */
export function httpGet(url: string, opts: { ca?: string; token?: string; timeoutMs?: number; insecure?: boolean } = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const headers: Record<string, string> = {};
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    const callback = (res: http.IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    };
    const req =
      u.protocol === "https:"
        ? https.get(u, { headers, ca: opts.ca, rejectUnauthorized: !opts.insecure, agent: false }, callback)
        : http.get(u, { headers, agent: false }, callback);
    req.setTimeout(opts.timeoutMs ?? 5_000, () => req.destroy(new Error(`GET ${url}: timed out`)));
    req.on("error", reject);
  });
}

/** Whether a TLS server on host:port completes a handshake trusted by `ca`. */
export function tlsReachable(port: number, ca: string, timeoutMs = 2_000): Promise<boolean> {
  return new Promise((resolve) => {
    const req = https.get({ host: "127.0.0.1", port, path: "/", ca, agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => resolve(false));
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Polls `check` until it returns a value other than undefined/false. Fails early when one of
 * `watch` exits, and after `timeoutMs` with `what` and the last error seen.
 */
export async function waitUntil<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  opts: { timeoutMs: number; intervalMs?: number; watch?: readonly ManagedProcess[] },
): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let last = "";
  for (;;) {
    for (const p of opts.watch ?? []) {
      const info = p.exitInfo();
      if (info) throw new Error(`${p.name} exited (code ${info.code}, signal ${info.signal}) while waiting for ${what}`);
    }
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last})` : ""}`);
    await sleep(opts.intervalMs ?? 250);
  }
}
