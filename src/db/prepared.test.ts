// Named prepared statements (client.ts executePrepared) on real PostgreSQL through the Neon driver:
// with them on, the audit ingest's statements are prepared once per connection and PostgreSQL
// settles on generic plans (the planning they save is the point), each statement text under its
// own name (the fingerprint ranges' variants do not collide), and the history they write is the
// history written without them. With them off (Workers' setting) nothing is prepared.
import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { constraintAudit, violation } from "../../test/harness/agent-api.ts";
import { acquirePostgres, type TestPostgres } from "../../test/harness/postgres.ts";
import { ensureTenant } from "../app/auth.ts";
import type { AuditReport } from "../protocol/agent.ts";
import { ingestInChunks } from "../services/audit-ingest.ts";
import { type Database, openDatabase } from "./client.ts";
import { environments } from "./schema.ts";

const REPORTS = 12;
const report = (k: number): AuditReport => {
  const collectedAt = new Date(Date.UTC(2026, 0, 1, 0, k)).toISOString();
  // 60 listed, a rolling tenth of them new in each report: opens and resolves every time.
  const ids = Array.from({ length: 60 }, (_, i) => (i < 6 ? 1000 + k * 6 + i : i));
  return {
    collectedAt,
    constraints: [{ ...constraintAudit({ auditTimestamp: collectedAt }, 0), totalViolations: ids.length, violations: ids.map((i) => violation(i)) }],
  };
};

interface Opened {
  db: Database;
  tenantId: string;
  envId: string;
  drop(): Promise<void>;
}

let pg: TestPostgres;
beforeAll(async () => {
  pg = await acquirePostgres();
});
afterAll(() => pg?.release());

async function open(preparedStatements: boolean): Promise<Opened> {
  const created = await pg.createDatabase();
  // One connection, so every statement below shares the session whose statements are inspected.
  const db = await openDatabase({ url: created.url, wsProxy: pg.proxy, poolSize: 1, preparedStatements });
  const tenantId = await ensureTenant(db, "prepared");
  const envId = randomUUID();
  await db.withTenant(tenantId, (tx) => tx.insert(environments).values({ id: envId, tenantId, name: "prod", currentRevision: 0 }));
  return {
    db,
    tenantId,
    envId,
    drop: async () => {
      await db.close();
      await created.drop();
    },
  };
}

async function ingestAll(o: Opened) {
  const outcomes = [];
  for (let k = 0; k < REPORTS; k++) {
    const r = report(k);
    // Chunks of 20: every report takes several fingerprint ranges, first, middle and last.
    outcomes.push(
      await ingestInChunks(
        o.db,
        { tenantId: o.tenantId, environmentId: o.envId, report: r, shadows: [], receivedAt: new Date(r.collectedAt), linkBase: "" },
        { chunkSize: 20 },
      ),
    );
  }
  const history = await o.db.withTenant(o.tenantId, async (tx) => {
    const { rows } = await tx.execute<{ fingerprint: string; state: string; occurrences: number }>(
      sql`select fingerprint, state, occurrences from violations where environment_id = ${o.envId}::uuid order by fingerprint`,
    );
    const events = await tx.execute<{ n: number }>(sql`select count(*)::int as n from violation_events where environment_id = ${o.envId}::uuid`);
    return { rows, events: events.rows[0]!.n };
  });
  const statements = await o.db.withTenant(o.tenantId, async (tx) => {
    const { rows } = await tx.execute<{ name: string; statement: string; generic_plans: number; custom_plans: number }>(
      sql`select name, statement, generic_plans::int, custom_plans::int from pg_prepared_statements where name like 'gh\\_%'`,
    );
    return rows;
  });
  return { outcomes, history, statements };
}

describe("named prepared statements (PostgreSQL through the Neon driver)", () => {
  let on: Awaited<ReturnType<typeof ingestAll>>;
  let off: Awaited<ReturnType<typeof ingestAll>>;
  beforeAll(async () => {
    for (const [prepared, set] of [
      [true, (r: typeof on) => (on = r)],
      [false, (r: typeof off) => (off = r)],
    ] as const) {
      const o = await open(prepared);
      try {
        set(await ingestAll(o));
      } finally {
        await o.drop();
      }
    }
  }, 120_000);

  it("with them on, the ingest's statements are prepared once and then run on generic plans", () => {
    const diff = on.statements.filter((s) => s.statement.includes("full join cur c on c.fingerprint = i.fp"));
    // The ranges' bounds make different texts (open below, open above, both), each its own name.
    expect(diff.length).toBeGreaterThanOrEqual(2);
    expect(new Set(on.statements.map((s) => s.name)).size).toBe(on.statements.length);
    const executions = diff.reduce((n, s) => n + s.generic_plans + s.custom_plans, 0);
    expect(executions).toBeGreaterThan(REPORTS * 2);
    // Planned only for the first few executions: after them PostgreSQL keeps the generic plan.
    expect(diff.reduce((n, s) => n + s.generic_plans, 0)).toBeGreaterThan(diff.reduce((n, s) => n + s.custom_plans, 0));
    for (const part of ["insert into violations as v", "update audit_reports set ingested_at", "for update"]) {
      expect(
        on.statements.some((s) => s.statement.includes(part)),
        part,
      ).toBe(true);
    }
    expect(on.statements.some((s) => s.statement.includes('insert into "audit_reports"'))).toBe(true);
  });

  it("with them off, nothing is prepared", () => {
    expect(off.statements).toEqual([]);
  });

  it("the history and the outcomes are the same either way", () => {
    expect(on.history.rows.length).toBeGreaterThan(60);
    expect(on.history.rows.filter((r) => r.state === "open")).toHaveLength(60);
    // Fingerprints hash the environment's id, so rows compare by state and occurrences.
    const shape = (h: typeof on.history) => ({ events: h.events, rows: h.rows.map((r) => [r.state, r.occurrences]).sort() });
    expect(shape(on.history)).toEqual(shape(off.history));
    expect(on.outcomes).toEqual(off.outcomes);
  });
});
