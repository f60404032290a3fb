// olderThanCursor on both databases: the one keyset condition of the api-keys, agent-credentials,
// webhook and delivery lists (by created_at, in drizzle queries) and of the violation and denial
// lists (by another column, in their own SQL, which names the table). Timestamps a microsecond apart
// and equal ones (ties broken by id) must each come once, in order, across pages, which a key read
// back through a JS Date (milliseconds) would not do; and a cursor row of another tenant matches nothing.
import { and, desc, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backends } from "../../test/harness/backends.ts";
import { ensureTenant } from "../app/auth.ts";
import type { Database } from "../db/client.ts";
import { apiKeys } from "../db/schema.ts";
import { olderThanCursor, type KeysetOrder } from "./cursor.ts";

// Two rows share the middle instant; all four fall within one millisecond.
const INSTANTS = ["2026-01-01T00:00:00.000001Z", "2026-01-01T00:00:00.000002Z", "2026-01-01T00:00:00.000002Z", "2026-01-01T00:00:00.000003Z"];

describe.each(backends())("olderThanCursor ($name)", (backend) => {
  let db: Database;
  let tenant: string;
  let other: string;
  let otherKey: string;
  beforeAll(async () => {
    db = await backend.open();
    tenant = await ensureTenant(db, "cursor-a");
    other = await ensureTenant(db, "cursor-b");
    await db.withTenant(tenant, (tx) =>
      tx.insert(apiKeys).values(
        INSTANTS.map((at, i) => ({
          tenantId: tenant,
          name: `k${i}`,
          role: "viewer" as const,
          prefix: `cursora${i}`,
          secretHash: "x",
          createdBy: "test",
          createdAt: sql`${at}::timestamptz`,
          // The other sort column runs the other way: k0 the latest, k1 and k2 tied.
          lastUsedAt: sql`${INSTANTS[INSTANTS.length - 1 - i]}::timestamptz`,
        })),
      ),
    );
    const [k] = await db.withTenant(other, (tx) =>
      tx
        .insert(apiKeys)
        .values({ tenantId: other, name: "b", role: "viewer", prefix: "cursorb", secretHash: "x", createdBy: "test", lastUsedAt: sql`now()` })
        .returning(),
    );
    otherKey = k!.id;
  });
  afterAll(() => backend.cleanup());

  type Row = { id: string; name: string };
  type Page = (after: { id: string } | undefined, limit: number, scope?: string) => Promise<Row[]>;

  /** One page of the tenant's keys after `after`, newest first, as a drizzle list query writes it. */
  const byCreated: Page = (after, limit, scope = tenant) =>
    db.withTenant(tenant, (tx) =>
      tx
        .select({ id: apiKeys.id, name: apiKeys.name })
        .from(apiKeys)
        .where(and(eq(apiKeys.tenantId, tenant), after ? olderThanCursor(apiKeys, after, scope) : undefined))
        .orderBy(desc(apiKeys.createdAt), desc(apiKeys.id))
        .limit(limit),
    );

  /** The same by last_used_at, in drizzle and in SQL naming the table `k` (as the violation and denial lists do). */
  const byLastUsed =
    (as?: string): Page =>
    async (after, limit, scope = tenant) => {
      const order: KeysetOrder = { sortBy: apiKeys.lastUsedAt, ...(as === undefined ? {} : { as }) };
      const cond = after ? olderThanCursor(apiKeys, after, scope, order) : sql`true`;
      if (as === undefined) {
        return db.withTenant(tenant, (tx) =>
          tx
            .select({ id: apiKeys.id, name: apiKeys.name })
            .from(apiKeys)
            .where(and(eq(apiKeys.tenantId, tenant), cond))
            .orderBy(desc(apiKeys.lastUsedAt), desc(apiKeys.id))
            .limit(limit),
        );
      }
      const { rows } = await db.withTenant(tenant, (tx) =>
        tx.execute<Row>(
          sql`select k.id, k.name from api_keys k where k.tenant_id = ${tenant}::uuid and ${cond} order by k.last_used_at desc, k.id desc limit ${limit}`,
        ),
      );
      return rows;
    };

  /** Every row, one page of one at a time. */
  async function walk(page: Page): Promise<string[]> {
    const seen: string[] = [];
    let after: { id: string } | undefined;
    for (let i = 0; i < 10; i++) {
      const [row] = await page(after, 1);
      if (!row) break;
      seen.push(row.id);
      after = { id: row.id };
    }
    return seen;
  }

  it("pages of one visit every row once, in (created_at, id) descending order", async () => {
    const all = await byCreated(undefined, 10);
    expect([all[0]!.name, all[3]!.name]).toEqual(["k3", "k0"]);
    // The tie at the middle instant is broken by id, descending (uuid order is its hex order).
    expect(all[1]!.id > all[2]!.id).toBe(true);
    expect(await walk(byCreated)).toEqual(all.map((r) => r.id));
  });

  it.each([
    ["a drizzle query", undefined],
    ["SQL naming the table", "k"],
  ])("pages of one by another sort column visit every row once, in its order (%s)", async (_, as) => {
    const page = byLastUsed(as);
    const all = await page(undefined, 10);
    expect([all[0]!.name, all[3]!.name]).toEqual(["k0", "k3"]);
    expect(all[1]!.id > all[2]!.id).toBe(true);
    expect(await walk(page)).toEqual(all.map((r) => r.id));
  });

  it.each([
    ["created_at", byCreated],
    ["last_used_at, drizzle", byLastUsed()],
    ["last_used_at, SQL", byLastUsed("k")],
  ])("a cursor row of another tenant, or scoped to another tenant, matches nothing (%s)", async (_, page) => {
    expect(await page({ id: otherKey }, 10)).toEqual([]);
    const [newest] = await page(undefined, 1);
    expect(await page({ id: newest!.id }, 10, other)).toEqual([]);
  });
});
