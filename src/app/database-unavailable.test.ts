// A database out of connections is a 503 with Retry-After, never a 500: real PostgreSQL with the
// database's CONNECTION LIMIT below what the app's pool opens, so PostgreSQL itself refuses the
// extra connections (SQLSTATE 53300); and the app's own pool with none free within its wait.
// PostgreSQL only: PGlite is one connection, it has no limit.
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgentCredential } from "../../test/harness/agent-api.ts";
import { createTestApi, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { createEnvironment } from "../../test/harness/environments.ts";
import { acquirePostgres, type TestPostgres } from "../../test/harness/postgres.ts";
import { openDatabase } from "../db/client.ts";
import { AGENT_PATHS } from "../protocol/agent.ts";
import { PROBLEM_CONTENT_TYPE } from "./problem.ts";

describe.runIf(backends().some((b) => b.name === "postgres"))("the database out of connections (postgres)", () => {
  let pg: TestPostgres;
  let created: Awaited<ReturnType<TestPostgres["createDatabase"]>>;
  let api: TestApi;
  beforeAll(async () => {
    pg = await acquirePostgres();
    created = await pg.createDatabase();
    api = await createTestApi(() => openDatabase({ url: created.url, wsProxy: pg.proxy, poolSize: 8 }));
  });
  afterAll(async () => {
    await api?.close();
    await created?.drop();
    await pg?.release();
  });

  it("requests that need a connection PostgreSQL refuses → 503 problem with Retry-After; none is a 500", async () => {
    const env = await createEnvironment(api, "unavail", { name: "prod" });
    const { secret } = await createAgentCredential(api, "unavail", env.id);
    const name = created.name;
    // New connections beyond the one open are refused from now on (the owner may set this).
    await api.db.asSystem((tx) => tx.execute(sql.raw(`alter database "${name}" connection limit 1`)));
    try {
      const admin = await api.token("unavail", "admin");
      const responses = await Promise.all(
        Array.from({ length: 16 }, (_, i) =>
          i % 2 ? api.request("GET", AGENT_PATHS.desiredState, { token: secret }) : api.request("GET", `/v1/environments/${env.id}`, { token: admin }),
        ),
      );
      const statuses = responses.map((r) => r.status);
      expect(statuses).not.toContain(500);
      const refused = responses.filter((r) => r.status === 503);
      expect(refused.length).toBeGreaterThan(0);
      for (const r of refused) {
        expect(r.headers.get("retry-after")).toMatch(/^[1-9][0-9]*$/);
        expect(r.headers.get("content-type")).toContain(PROBLEM_CONTENT_TYPE);
        expect(((await r.json()) as { detail: string }).detail).toMatch(/out of connections/);
      }
      expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
    } finally {
      await api.db.asSystem((tx) => tx.execute(sql.raw(`alter database "${name}" connection limit -1`)));
    }
  });

  it("a request that waits DATABASE_POOL_WAIT_MS for a pooled connection → 503 with Retry-After, and the pool serves again after", async () => {
    const small = await createTestApi(() => openDatabase({ url: created.url, wsProxy: pg.proxy, poolSize: 1, poolWaitMs: 300 }));
    try {
      const env = await createEnvironment(small, "poolwait", { name: "prod" });
      const admin = await small.token("poolwait", "admin");
      // The pool's one connection, held by a transaction until `release`.
      let release!: () => void;
      const held = new Promise<void>((r) => {
        release = r;
      });
      let holding!: () => void;
      const started = new Promise<void>((r) => {
        holding = r;
      });
      const holder = small.db.asSystem(async (tx) => {
        await tx.execute(sql`select 1`);
        holding();
        await held;
      });
      await started;
      const waited = await small.request("GET", `/v1/environments/${env.id}`, { token: admin });
      release();
      await holder;
      expect(waited.status).toBe(503);
      expect(waited.headers.get("retry-after")).toMatch(/^[1-9][0-9]*$/);
      expect(waited.headers.get("content-type")).toContain(PROBLEM_CONTENT_TYPE);
      expect(((await waited.json()) as { detail: string }).detail).toMatch(/out of connections/);
      const after = await small.request("GET", `/v1/environments/${env.id}`, { token: admin });
      expect(after.status).toBe(200);
    } finally {
      await small.close();
    }
  });
});
