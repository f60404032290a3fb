// Transactions on the Neon driver's Pool that open in one round trip. drizzle's transaction()
// sends BEGIN and waits for it, then the transaction's setup (the tenant's set_config) is a
// second round trip; here both go as one simple-protocol query: "begin; <setup>". The setup has no
// parameters: client.ts builds it from a tenant id it has checked is a UUID. Every transaction on
// Node and on Workers costs one round trip less (bench:fleet: PostgreSQL's backends sat idle in a
// transaction after BEGIN and after the set_config, waiting for the next statement).
import type { Pool } from "@neondatabase/serverless";
import type { Db } from "./client.ts";

/** Run `fn` in a transaction opened with `setup`; commit, or roll back on any error. */
export type Begin = <T>(setup: string, fn: (tx: Db) => Promise<T>) => Promise<T>;

/** drizzle's own pieces (internal to drizzle, typed here once): what its transaction() builds a transaction from. */
interface DrizzleNeonInternals {
  dialect: unknown;
  session: { schema: unknown; options: unknown };
}

export async function neonBegin(pool: Pool, d: Db): Promise<Begin> {
  const { NeonSession, NeonTransaction } = await import("drizzle-orm/neon-serverless");
  const { dialect, session } = d as unknown as DrizzleNeonInternals;
  type Ctor = new (...args: unknown[]) => unknown;
  return async (setup, fn) => {
    const client = await pool.connect();
    // A connection whose rollback failed is in an unknown state: the pool must not hand it out again.
    let broken: Error | undefined;
    try {
      await client.query(`begin; ${setup}`);
      const s = new (NeonSession as unknown as Ctor)(client, dialect, session.schema, session.options);
      const tx = new (NeonTransaction as unknown as Ctor)(dialect, s, session.schema) as Db;
      const result = await fn(tx);
      await client.query("commit");
      return result;
    } catch (err) {
      // After a failed statement the transaction is aborted; after a failed commit it has ended
      // (a rollback then only warns). Either way this leaves the connection outside a transaction.
      await client.query("rollback").catch((e: Error) => (broken = e));
      throw err;
    } finally {
      client.release(broken);
    }
  };
}
