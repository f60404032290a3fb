// Keyset pagination, one way for every list: opaque cursors (base64url JSON of the last row's
// sort key), read with one 400 for a cursor a client altered, invented or took from another list,
// tenant or environment (never a 500), a page cut from a query that fetched limit + 1 rows, and
// the one "after the cursor row" condition of the lists (drizzle queries or their own SQL).
import { sql, type SQL } from "drizzle-orm";
import type { PgColumn, PgTable } from "drizzle-orm/pg-core";
import { z } from "zod";
import { ProblemError } from "../app/problem.ts";

export function encodeCursor(key: unknown): string {
  return Buffer.from(JSON.stringify(key), "utf8").toString("base64url");
}

export function decodeCursor<T extends z.ZodType>(cursor: string, shape: T): z.output<T> | null {
  try {
    const parsed = shape.safeParse(JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export const PageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().min(1).max(512).optional(),
});

/** The one cursor error of every list. */
export const invalidCursor = () => new ProblemError(400, "The cursor is not valid.", { errors: [{ path: "cursor", message: "not a cursor from this list" }] });

/** The cursor's key; undefined without a cursor; invalidCursor when it does not decode to `shape`. */
export function readCursor<T extends z.ZodType>(cursor: string | undefined, shape: T): z.output<T> | undefined {
  if (cursor === undefined) return undefined;
  const key = decodeCursor(cursor, shape);
  if (key === null) throw invalidCursor();
  return key;
}

/** The first `limit` of `rows` (fetched with limit + 1: the extra row says another page exists), and the next page's cursor. */
export function keysetPage<R>(rows: R[], limit: number, keyOf: (last: R) => unknown): { items: R[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last !== undefined ? encodeCursor(keyOf(last)) : null };
}

/** A tenant-owned table listed newest first by (a timestamp, id). */
type KeysetTable = PgTable & { id: PgColumn; tenantId: PgColumn };

/**
 * How a list orders `table`: `orderBy(desc(sortBy), desc(id))` (sortBy a column of `table`;
 * created_at unless named), and `as`, the name the list's own SQL gives the table
 * (`from violations v`), when it gives one.
 */
export interface KeysetOrder {
  sortBy: PgColumn;
  as?: string;
}

/**
 * `table`'s rows older than the cursor row `after` (the tenant's), in the list's order:
 * (sort column, id) < the cursor row's, the row comparison the lists' (tenant_id, sort column
 * desc, id desc) indexes answer. The cursor row's key is read in SQL, not from a JS Date (which
 * would lose PostgreSQL's microseconds and skip or repeat rows). The caller answers invalidCursor
 * first when that row is not the tenant's.
 */
export function olderThanCursor(table: KeysetTable & { createdAt: PgColumn }, after: { id: string }, tenantId: string): SQL;
export function olderThanCursor(table: KeysetTable, after: { id: string }, tenantId: string, order: KeysetOrder): SQL;
export function olderThanCursor(table: KeysetTable & { createdAt?: PgColumn }, after: { id: string }, tenantId: string, order?: KeysetOrder): SQL {
  // The overloads: a sort column named, or the table's created_at.
  const sortBy = order?.sortBy ?? table.createdAt!;
  // The outer row's columns: drizzle's (qualified by the table's name), or under the list's own name for it.
  const outer = (c: PgColumn) => (order?.as === undefined ? sql`${c}` : sql`${sql.identifier(order.as)}.${sql.identifier(c.name)}`);
  // The subquery reads the same table under another name, so the outer columns stay the outer row's.
  const row = sql.identifier("cursor_row");
  const col = (c: PgColumn) => sql`${row}.${sql.identifier(c.name)}`;
  return sql`(${outer(sortBy)}, ${outer(table.id)}) < (select ${col(sortBy)}, ${col(table.id)} from ${table} ${row} where ${col(table.id)} = ${after.id} and ${col(table.tenantId)} = ${tenantId})`;
}
