// Named prepared statements for the audit ingest's large statements (see executePrepared), on
// the transactions client.ts marks as keeping them (the Node pool with DATABASE_PREPARED_STATEMENTS).
import type { SQL } from "drizzle-orm";
import { sha256Hex } from "../lib/sha256.ts";
import type { Db } from "./client.ts";

/** Transactions whose connection keeps named prepared statements (see executePrepared). */
export const preparing = new WeakSet<object>();

/** Drizzle's own path from a query to its driver (internal to drizzle, typed here once). */
interface DrizzleInternals {
  dialect: { sqlToQuery(q: SQL): { sql: string; params: unknown[] } };
  session: {
    prepareQuery(q: { sql: string; params: unknown[] }, fields: undefined, name: string, arrayMode: false): { execute(): Promise<unknown> };
  };
}

/**
 * tx.execute(query), as a named prepared statement where the transaction's connection keeps them
 * (the Node pool with DATABASE_PREPARED_STATEMENTS): named by a hash of its text, so each shape is
 * parsed once per connection, and after five executions PostgreSQL may keep a generic plan instead
 * of planning the statement again on every call. For the large statements sent on every audit
 * report, whose planning cost more than their execution. Elsewhere (PGlite, Workers) it is
 * tx.execute.
 */
export async function executePrepared<R extends Record<string, unknown>>(tx: Db, query: SQL): Promise<{ rows: R[] }> {
  if (!preparing.has(tx)) return tx.execute<R>(query);
  const { dialect, session } = tx as unknown as DrizzleInternals;
  const q = dialect.sqlToQuery(query);
  return (await session.prepareQuery(q, undefined, statementName(q.sql), false).execute()) as { rows: R[] };
}

/** executePrepared for a drizzle query builder (an insert with returning, say): its own `prepare`. */
export async function runPrepared<T>(
  tx: Db,
  query: PromiseLike<T> & { toSQL(): { sql: string }; prepare(name: string): { execute(): Promise<T> } },
): Promise<T> {
  if (!preparing.has(tx)) return query;
  return query.prepare(statementName(query.toSQL().sql)).execute();
}

/** A statement's name: a hash of its text, so one shape has one name on every connection. */
const statementName = (text: string) => `gh_${sha256Hex(text).slice(0, 40)}`;
