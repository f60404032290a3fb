// PgBouncer in transaction mode in front of the bench's PostgreSQL: the local stand-in for Neon's
// pooled endpoint (which is PgBouncer in transaction mode). The system's pgbouncer binary is used
// (Debian: apt-get install -y pgbouncer); its ini, auth file, log and pid live in a temp dir.
//
// Client authentication, either:
// - "plain" (auth_type = plain): PgBouncer asks for the cleartext password, as Neon's proxy asks
//   WebSocket clients (inside TLS there), so the Neon driver's pipelineConnect = "password" sends
//   startup, password and first query in one flight. The auth file holds the password in clear
//   (a throwaway test role's); PgBouncer logs in to PostgreSQL with it (SCRAM, once per server
//   connection, which the pool keeps).
// - "scram-sha-256": SCRAM against the test role's own verifier (the harness's one-iteration one),
//   two more round trips per connection; PgBouncer logs in to PostgreSQL with the client's SCRAM
//   keys (SCRAM pass-through).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePorts } from "../../test/harness/cluster-process.ts";
import { cheapScramVerifier, PASSWORD, ROLE } from "../../test/harness/postgres.ts";

export interface Bouncer {
  host: string;
  port: number;
  /** The pgbouncer process (one process, one thread: its CPU is all of PgBouncer's). */
  pid: number | undefined;
  stop(): Promise<void>;
}

const INSTALL =
  "pgbouncer was not found on PATH (nor in /usr/sbin). Install it: `sudo apt-get install -y pgbouncer` (Debian/Ubuntu), `brew install pgbouncer` (macOS).";

/** The pgbouncer binary, or an error saying how to install it. */
export function findPgbouncer(): string {
  for (const candidate of ["pgbouncer", "/usr/sbin/pgbouncer", "/usr/local/bin/pgbouncer"]) {
    const r = spawnSync(candidate, ["--version"], { encoding: "utf8" });
    if (r.status === 0) return candidate;
  }
  throw new Error(INSTALL);
}

export interface BouncerOptions {
  /** The PostgreSQL server it pools (every database on it, by the same name). */
  server: { host: string; port: number };
  /** Server connections per database (default_pool_size = max_db_connections). */
  poolSize: number;
  /** How clients authenticate (see the header). */
  auth: "plain" | "scram-sha-256";
}

export async function startPgbouncer(opts: BouncerOptions): Promise<Bouncer> {
  const bin = findPgbouncer();
  const [port] = (await freePorts(1)) as [number];
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-pgbouncer-"));
  writeFileSync(join(dir, "userlist.txt"), `"${ROLE}" "${opts.auth === "plain" ? PASSWORD : cheapScramVerifier(PASSWORD)}"\n`);
  writeFileSync(
    join(dir, "pgbouncer.ini"),
    [
      "[databases]",
      // Every database on the server, under its own name.
      `* = host=${opts.server.host} port=${opts.server.port}`,
      "[pgbouncer]",
      "listen_addr = 127.0.0.1",
      `listen_port = ${port}`,
      "unix_socket_dir =",
      `auth_type = ${opts.auth}`,
      `auth_file = ${join(dir, "userlist.txt")}`,
      // Neon's pooled endpoint: a server connection is a client's for one transaction only.
      "pool_mode = transaction",
      `default_pool_size = ${opts.poolSize}`,
      `max_db_connections = ${opts.poolSize}`,
      "max_client_conn = 2000",
      // Clients beyond the pool queue (Neon's pooler does the same) rather than being refused.
      "query_wait_timeout = 60",
      `admin_users = ${ROLE}`,
      `stats_users = ${ROLE}`,
      // The pg driver sends these at startup; PgBouncer refuses parameters it does not track.
      "ignore_startup_parameters = extra_float_digits,options",
      `logfile = ${join(dir, "pgbouncer.log")}`,
      `pidfile = ${join(dir, "pgbouncer.pid")}`,
      "log_connections = 0",
      "log_disconnections = 0",
      "",
    ].join("\n"),
  );
  // PgBouncer refuses to run as root: as root it drops to the postgres OS user (as the embedded
  // PostgreSQL does), which must be able to write its log and pid file.
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    const pw = readFileSync("/etc/passwd", "utf8")
      .split("\n")
      .find((l) => l.startsWith("postgres:"))
      ?.split(":");
    if (!pw) throw new Error("running as root: pgbouncer needs a `postgres` OS user to run as (useradd --system postgres)");
    for (const f of ["", "userlist.txt", "pgbouncer.ini"]) chownSync(join(dir, f), Number(pw[2]), Number(pw[3]));
  }
  const child: ChildProcess = spawn(bin, [...(asRoot ? ["-u", "postgres"] : []), join(dir, "pgbouncer.ini")], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (d) => (output += d));
  child.stderr!.on("data", (d) => (output += d));
  const log = () => output + readFileSync(join(dir, "pgbouncer.log"), "utf8").toString();
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGINT"); // safe shutdown: waits for running transactions (none by now)
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // Listening once a TCP connection is accepted.
  for (let i = 0; ; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host: "127.0.0.1", port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on("error", () => resolve(false));
    });
    if (ok) break;
    if (i > 100 || child.exitCode !== null) {
      const text = (() => {
        try {
          return log();
        } catch {
          return output;
        }
      })();
      await stop();
      throw new Error(`pgbouncer did not start:\n${text}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { host: "127.0.0.1", port, pid: child.pid, stop };
}
