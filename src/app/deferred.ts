// Work a request starts and the response does not wait for (an audit report sent with Prefer:
// respond-async is applied after its 202: src/services/audit-background.ts). On Node it runs in
// this process and shutdown awaits it; on Workers the runtime keeps it alive (ctx.waitUntil).
import type { Context } from "hono";
import type { Database } from "../db/client.ts";

export interface Deferred {
  /** A database that outlives the request (on Workers, the request's own Pool ends with its response). */
  db: Database;
  /** Keeps `work` going after the response. */
  run(c: Context, work: Promise<void>): void;
  /** Resolves once every task started so far has ended (shutdown; tests). */
  idle(): Promise<void>;
}

/** In this process, on `db`: what Node and the tests use. A task that throws is the task's to log; here it is only kept from being unhandled. */
export function inProcessDeferred(db: Database): Deferred {
  const running = new Set<Promise<void>>();
  return {
    db,
    run(_c, work) {
      const p: Promise<void> = work.catch(() => {}).finally(() => running.delete(p));
      running.add(p);
    },
    async idle() {
      while (running.size) await Promise.all(running);
    },
  };
}
