// The audit report's ingest in bounded chunks (audit-ingest.ts), on both databases, through the
// real route: another tenant's request is served between two chunks (on PGlite, one connection,
// that is only possible if the ingest holds nothing there); a crash mid-way loses nothing and
// applies nothing twice — the agent's retry of the same report resumes it and the end state and
// events are those of one ingest, with one digest, also when it died between a range's match and
// its openings; a newer report arriving mid-way wins and the older one's remaining chunks do
// nothing; the fingerprint ranges partition every fingerprint.
// Ordering comes from the ingest's afterChunk hook, never from timing; so does the proof that the
// event loop (other requests) gets its turn between two chunks.
import { createHash } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { constraintAudit, createAgentCredential, violation } from "../../test/harness/agent-api.ts";
import { createTestApi, json, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { createEnvironment } from "../../test/harness/environments.ts";
import type { AuditReport } from "../protocol/agent.ts";
import { AGENT_PATHS } from "../protocol/agent.ts";
import { fingerprintRanges, inRange, listedViolations } from "./violation-fingerprints.ts";
import { matchRange, storeReport } from "./violations.ts";
import { INGEST_RETRY_AFTER_SECONDS, ingestSlots } from "./audit-ingest.ts";
import * as routes from "../../test/harness/routes.ts";

const ago = (ms: number) => new Date(Date.now() - ms).toISOString();
const report = (collectedAt: string, ids: number[]): AuditReport => ({
  collectedAt,
  constraints: [{ ...constraintAudit({ auditTimestamp: ago(600_000) }, 0), totalViolations: ids.length, violations: ids.map((i) => violation(i)) }],
});
const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

describe("fingerprint ranges", () => {
  it("every fingerprint falls in exactly one of n ranges", () => {
    for (const n of [1, 2, 3, 7, 50, 251]) {
      const ranges = fingerprintRanges(n);
      for (let i = 0; i < 500; i++) {
        const fp = createHash("sha256").update(`${n}:${i}`).digest("hex");
        expect(ranges.filter((r) => inRange(fp, r))).toHaveLength(1);
      }
      for (const edge of ["0".repeat(64), "f".repeat(64), ...ranges.flatMap((r) => (r.lo ? [r.lo + "0".repeat(56)] : []))]) {
        expect(ranges.filter((r) => inRange(edge, r))).toHaveLength(1);
      }
    }
  });
});

describe.each(backends())("audit report ingest in chunks ($name)", (backend) => {
  let api: TestApi;
  beforeEach(async () => {
    // Chunks of 100: a 500-violation report takes 5 range transactions and a finishing one.
    api = await createTestApi(backend, { webhooks: { allowHttp: true, allowPrivate: true }, configure: (c) => (c.ingest = { chunkSize: 100 }) });
  });
  afterEach(() => api?.close());

  async function setup(tenant: string) {
    const env = await createEnvironment(api, tenant, { name: "prod" });
    const cred = await createAgentCredential(api, tenant, env.id);
    const token = await api.token(tenant, "admin");
    const hooks = await Promise.all(
      (["digest", "per-violation"] as const).map(async (deliveryMode) =>
        json(
          await api.call(routes.webhooks.create, "/v1/webhooks", {
            token,
            body: { url: "http://127.0.0.1:9/h", events: ["violation.opened", "violation.resolved"], deliveryMode },
          }),
        ),
      ),
    );
    const post = (r: AuditReport) => api.request("POST", AGENT_PATHS.auditReport, { token: cred.secret, body: r });
    return { env, hooks, post };
  }
  const state = (environmentId: string) =>
    api.db.asSystem(async (tx) => {
      const q = async (query: ReturnType<typeof sql>) => (await tx.execute<{ n: number }>(query)).rows[0]?.n ?? 0;
      return {
        open: await q(sql`select count(*)::int as n from violations where environment_id = ${environmentId}::uuid and state = 'open'`),
        events: await q(sql`select count(*)::int as n from violation_events where environment_id = ${environmentId}::uuid`),
        digests: await q(sql`select count(*)::int as n from webhook_deliveries d join webhook_endpoints e on e.id = d.endpoint_id
                             where e.delivery_mode = 'digest' and d.payload->'data'->'environment'->>'id' = ${environmentId}`),
        perViolation: await q(sql`select count(*)::int as n from webhook_deliveries d join webhook_endpoints e on e.id = d.endpoint_id
                                  where e.delivery_mode = 'per-violation' and d.payload->'data'->'environment'->>'id' = ${environmentId}`),
        ingested: await q(sql`select count(*)::int as n from audit_reports where environment_id = ${environmentId}::uuid and ingested_at is not null`),
      };
    });

  it("another tenant's request is served between two chunks, while the report is still being ingested", { timeout: 60_000 }, async () => {
    const s = await setup("ai-big");
    const other = await api.token("ai-other", "viewer");
    await api.tenantId("ai-other");
    const order: string[] = [];
    api.config.ingest = {
      chunkSize: 100,
      afterChunk: async (done, total) => {
        order.push(`chunk ${done}/${total}`);
        if (done !== 1) return;
        // The ingest waits here for the other tenant's request: on one connection it could not
        // complete if the ingest held the database.
        const res = await api.request("GET", "/v1/environments", { token: other });
        order.push(`other tenant ${res.status}`);
      },
    };
    const res = await s.post(report(ago(60_000), range(500)));
    order.push(`ingest ${res.status}`);
    expect(order.slice(0, 3)).toEqual(["chunk 1/6", "other tenant 200", "chunk 2/6"]);
    expect(order.at(-1)).toBe("ingest 204");
    expect(order).toHaveLength(6 + 2);
    expect(await state(s.env.id)).toEqual({ open: 500, events: 500, digests: 1, perViolation: 500, ingested: 1 });
  });

  it("ingests beyond AUDIT_INGEST_CONCURRENCY wait for a slot: with 1, a second report starts only after the first ends", { timeout: 60_000 }, async () => {
    const a = await setup("ai-slot-a");
    const b = await setup("ai-slot-b");
    const order: string[] = [];
    // 500 violations: 6 chunks; 200: 3. Unlimited, the two interleave at the first pause.
    api.config.ingest = { chunkSize: 100, concurrency: 1, afterChunk: (done, total) => void order.push(`${done}/${total}`) };
    const [ra, rb] = await Promise.all([a.post(report(ago(60_000), range(500))), b.post(report(ago(60_000), range(200)))]);
    expect([ra.status, rb.status]).toEqual([204, 204]);
    // Whichever got the slot first (the smaller body is read sooner), one ran whole, then the other.
    const six = ["1/6", "2/6", "3/6", "4/6", "5/6", "6/6"];
    const three = ["1/3", "2/3", "3/3"];
    expect([
      [...six, ...three],
      [...three, ...six],
    ]).toContainEqual(order);
    expect(await state(b.env.id)).toMatchObject({ open: 200, ingested: 1 });
    // And the check can fail: without the limit the same two run at once. Each holds after its
    // first chunk until the other has done one too (with the limit that would never happen).
    order.length = 0;
    let firsts = 0;
    let bothStarted!: () => void;
    const both = new Promise<void>((r) => (bothStarted = r));
    api.config.ingest = {
      chunkSize: 100,
      afterChunk: async (done, total) => {
        order.push(`${done}/${total}`);
        if (done !== 1) return;
        if (++firsts === 2) bothStarted();
        await both;
      },
    };
    await Promise.all([a.post(report(ago(30_000), range(500, 1000))), b.post(report(ago(30_000), range(200, 1000)))]);
    expect(order.slice(0, 2).sort()).toEqual(["1/3", "1/6"]);
    expect(order).toHaveLength(9);
  });

  it("beyond AUDIT_INGEST_QUEUE waiting, a report is refused 503 with Retry-After and taken when sent again", { timeout: 60_000 }, async () => {
    const [a, b, c] = [await setup("ai-queue-a"), await setup("ai-queue-b"), await setup("ai-queue-c")];
    // One slot, one place in the queue: a holds the slot (paused after its first chunk), b waits.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let running!: () => void;
    const started = new Promise<void>((r) => (running = r));
    api.config.ingest = {
      chunkSize: 100,
      concurrency: 1,
      queue: 1,
      afterChunk: async (done) => {
        if (done !== 1) return;
        running();
        await held;
      },
    };
    const ra = a.post(report(ago(60_000), range(200)));
    await started;
    const rb = b.post(report(ago(60_000), range(50)));
    // b is read, parsed and queued for the slot before c is refused.
    while (ingestSlots(api.db).waiting < 1) await new Promise((r) => setTimeout(r, 5));
    expect(ingestSlots(api.db)).toEqual({ running: 1, waiting: 1 });
    const refused = await c.post(report(ago(60_000), range(50)));
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe(String(INGEST_RETRY_AFTER_SECONDS));
    expect(refused.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(await state(c.env.id)).toMatchObject({ open: 0, ingested: 0 });
    release();
    expect([(await ra).status, (await rb).status]).toEqual([204, 204]);
    expect(ingestSlots(api.db)).toEqual({ running: 0, waiting: 0 });
    // Sent again, with the slot free, it is applied.
    expect((await c.post(report(ago(60_000), range(50)))).status).toBe(204);
    expect(await state(c.env.id)).toMatchObject({ open: 50, ingested: 1 });
  });

  it("the event loop gets its turn between chunks: a callback queued after one chunk runs before the next", { timeout: 60_000 }, async () => {
    // On PGlite a chain of transactions resolves in microtasks: without a pause between chunks no
    // request that arrives over a socket would even be read until the whole ingest ended.
    const s = await setup("ai-turn");
    const order: string[] = [];
    api.config.ingest = {
      chunkSize: 100,
      afterChunk: (done, total) => {
        order.push(`chunk ${done}/${total}`);
        if (done < total) setImmediate(() => order.push(`turn after ${done}`));
      },
    };
    expect((await s.post(report(ago(60_000), range(500)))).status).toBe(204);
    expect(order).toEqual([
      "chunk 1/6",
      "turn after 1",
      "chunk 2/6",
      "turn after 2",
      "chunk 3/6",
      "turn after 3",
      "chunk 4/6",
      "turn after 4",
      "chunk 5/6",
      "turn after 5",
      "chunk 6/6",
    ]);
  });

  it("a crash mid-way loses nothing: the retry of the same report resumes it, and every event exists once", { timeout: 60_000 }, async () => {
    const s = await setup("ai-crash");
    const first = report(ago(120_000), range(300));
    await s.post(first);
    const r = report(ago(60_000), range(400, 150)); // 0–149 resolve, 150–299 stay, 300–549 open
    api.config.ingest = {
      chunkSize: 100,
      afterChunk: (done) => {
        if (done === 2) throw new Error("the process died here");
      },
    };
    expect((await s.post(r)).status).toBe(500);
    const half = await state(s.env.id);
    // Some ranges applied, not all, and not finished: no digest for this report yet.
    expect(half.ingested).toBe(0);
    expect(half.digests).toBe(1);
    expect(half.events).toBeGreaterThan(300);
    expect(half.events).toBeLessThan(300 + 150 + 250);
    api.config.ingest = { chunkSize: 100 };
    expect((await s.post(r)).status).toBe(204);
    // 300 opened, then 150 resolved and 250 opened: as one ingest would have it.
    expect(await state(s.env.id)).toEqual({ open: 400, events: 700, digests: 2, perViolation: 700, ingested: 1 });
    // The same report once more: nothing.
    expect((await s.post(r)).status).toBe(204);
    expect(await state(s.env.id)).toEqual({ open: 400, events: 700, digests: 2, perViolation: 700, ingested: 1 });
  });

  it("openings cut short after their range's match (a crash between the two) are opened by the retry, once", { timeout: 60_000 }, async () => {
    const s = await setup("ai-cut");
    const tenantId = await api.tenantId("ai-cut");
    expect((await s.post(report(ago(120_000), range(300)))).status).toBe(204);
    const r = report(ago(60_000), range(400, 150)); // 0–149 resolve, 150–299 stay, 300–549 open
    // What a crashed attempt leaves after a range's match and before its openings: the report
    // stored unfinished, the range's resolutions applied, its fresh violations not opened.
    const ctx = { tenantId, environmentId: s.env.id, report: r, now: new Date() };
    const matched = await api.db.withTenant(tenantId, async (tx) => {
      await storeReport(tx, { ...ctx, receivedAt: ctx.now });
      return matchRange(tx, ctx, listedViolations(s.env.id, r));
    });
    expect([matched.resolved, matched.fresh.length]).toEqual([150, 250]);
    expect(await state(s.env.id)).toEqual({ open: 150, events: 450, digests: 1, perViolation: 450, ingested: 0 });
    // The agent's retry: the match finds nothing more to resolve and the 250 still not open.
    expect((await s.post(r)).status).toBe(204);
    expect(await state(s.env.id)).toEqual({ open: 400, events: 700, digests: 2, perViolation: 700, ingested: 1 });
  });

  it("a newer report arriving mid-way wins: the older one's remaining chunks change nothing", { timeout: 60_000 }, async () => {
    const s = await setup("ai-newer");
    const older = report(ago(120_000), range(500));
    const newer = report(ago(60_000), range(3, 1000));
    let newerStatus = 0;
    api.config.ingest = {
      chunkSize: 100,
      afterChunk: async (done) => {
        if (done === 1 && !newerStatus) newerStatus = (await s.post(newer)).status;
      },
    };
    expect((await s.post(older)).status).toBe(204);
    expect(newerStatus).toBe(204);
    const stored = await api.db.asSystem(
      async (tx) =>
        (
          await tx.execute<{ at: string }>(sql`
      select to_char(collected_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as at from audit_reports where environment_id = ${s.env.id}::uuid`)
        ).rows,
    );
    expect(stored).toEqual([{ at: newer.collectedAt }]);
    const open = await api.db.asSystem(async (tx) =>
      (
        await tx.execute<{ name: string }>(sql`
      select name from violations where environment_id = ${s.env.id}::uuid and state = 'open' order by name`)
      ).rows.map((r) => r.name),
    );
    expect(open).toEqual(["pod-1000", "pod-1001", "pod-1002"]);
    // One digest, the newer report's (it resolved what the older one's first chunk opened).
    const st = await state(s.env.id);
    expect([st.digests, st.ingested]).toEqual([1, 1]);
  });
});
