// The poll's 304 path serves from each instance's cache (src/services/agent-state.ts): these
// tests run two app instances on one database, as two processes would, let instance B cache an
// agent's state, change it through instance A, and require B to answer the change — for every
// write that changes a desired state (settings revision, rename, draft create / delete), the
// clock (an exemption or a draft expiring), and the credential (revoke, rotate, environment
// delete). Each starts by requiring that B really answers from its cache (no statement), so a
// pass cannot come from the cache being off.
import { sql, type SQL } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgentCredential, statusReport } from "../../test/harness/agent-api.ts";
import { createTestApi, json, type TestApi } from "../../test/harness/api.ts";
import { backends, type BackendName } from "../../test/harness/backends.ts";
import { createEnvironment } from "../../test/harness/environments.ts";
import { openPgliteFromTemplate } from "../../test/harness/pglite.ts";
import { acquirePostgres } from "../../test/harness/postgres.ts";
import { openDatabase, type Database } from "../db/client.ts";
import { presets } from "../policies/index.ts";
import { AGENT_PATHS } from "../protocol/agent.ts";
import * as routes from "../../test/harness/routes.ts";

const URL = AGENT_PATHS.desiredState;
// Across processes a notification arrives a moment after the commit; a test waits for it (and
// fails if it never comes: without one, B would answer 304 for minutes).
const ARRIVES = { timeout: 15_000, interval: 20 };

/** Two Databases on one database: two pools on PostgreSQL; on PGlite (one connection) the same one. */
async function sharedDatabase(name: BackendName): Promise<{ a: Database; b: Database; cleanup(): Promise<void> }> {
  if (name === "pglite") {
    const db = await openPgliteFromTemplate();
    return { a: db, b: db, cleanup: () => db.close() };
  }
  const pg = await acquirePostgres();
  const created = await pg.createDatabase();
  const a = await openDatabase({ url: created.url, wsProxy: pg.proxy });
  const b = await openDatabase({ url: created.url, wsProxy: pg.proxy });
  return {
    a,
    b,
    async cleanup() {
      await a.close();
      await b.close();
      await created.drop();
      await pg.release();
    },
  };
}

describe.each(backends())("desired-state cache across two instances ($name)", ({ name }) => {
  let shared: Awaited<ReturnType<typeof sharedDatabase>>;
  let a: TestApi;
  let b: TestApi;
  let statements = 0; // statements instance B ran
  let clock = new Date();
  beforeAll(async () => {
    shared = await sharedDatabase(name);
    const counting: Database = {
      ...shared.b,
      statement: <R extends Record<string, unknown>>(q: SQL) => (statements++, shared.b.statement<R>(q)),
    };
    a = await createTestApi(async () => shared.a, { now: () => clock });
    b = await createTestApi(async () => counting, { now: () => clock });
  });
  afterAll(async () => {
    await shared?.cleanup();
  });

  const admin = (t: string) => {
    const at = Math.floor(clock.getTime() / 1000);
    return a.token(t, "admin", { sign: { iat: at, exp: at + 3600 } });
  };
  const poll = (token: string, etag?: string) => b.call(routes.agentDesiredState.route, URL, { token, headers: etag ? { "if-none-match": etag } : {} });

  /** An environment with a credential whose state B has cached: its ETag, once B answers 304 with no statement. */
  async function cached(t: string, body: Record<string, unknown> = {}) {
    const env = await createEnvironment(a, t, { name: "prod", settings: { controls: presets.baseline.controls }, ...body });
    const cred = await createAgentCredential(a, t, env.id);
    const etag = (await poll(cred.secret)).headers.get("etag")!;
    await expect
      .poll(async () => {
        const before = statements;
        const res = await poll(cred.secret, etag);
        return [res.status, statements - before];
      }, ARRIVES)
      .toEqual([304, 0]);
    return { env, cred, etag };
  }

  it("a new settings revision through A → B answers 200 with it", async () => {
    const t = "adc-rev";
    const { env, cred, etag } = await cached(t);
    const res = await a.request("PATCH", `/v1/environments/${env.id}/settings/controls/capabilities`, {
      token: await admin(t),
      body: { enforcementAction: "warn", options: { requiredDrop: ["ALL"] } },
    });
    expect(res.status).toBe(200);
    await expect.poll(async () => (await poll(cred.secret, etag)).status, ARRIVES).toBe(200);
    const body = await json(await poll(cred.secret));
    expect(body.revision).toBe(2);
    expect(JSON.stringify(body.objects).includes('"enforcementAction":"warn"')).toBe(true);
  });

  it("a rename through A → B answers 200 with the new name", async () => {
    const t = "adc-rename";
    const { env, cred, etag } = await cached(t);
    expect((await a.request("PATCH", `/v1/environments/${env.id}`, { token: await admin(t), body: { name: "renamed" } })).status).toBe(200);
    await expect.poll(async () => (await poll(cred.secret, etag)).status, ARRIVES).toBe(200);
    expect((await json(await poll(cred.secret))).environmentName).toBe("renamed");
  });

  it("a draft created through A adds its shadow constraints at B; deleted, they go", async () => {
    const t = "adc-draft";
    const { env, cred, etag } = await cached(t);
    const created = await a.call(routes.drafts.createDraftRoute, `/v1/environments/${env.id}/drafts`, {
      token: await admin(t),
      body: { preset: "restricted" },
    });
    expect(created.status).toBe(201);
    const draft = await json(created);
    await expect.poll(async () => (await poll(cred.secret, etag)).status, ARRIVES).toBe(200);
    const withDraft = await poll(cred.secret);
    expect(JSON.stringify((await json(withDraft)).objects).includes(`preview-${draft.id.slice(0, 8)}-1-`)).toBe(true);
    const etag2 = withDraft.headers.get("etag")!;
    expect((await a.request("DELETE", `/v1/environments/${env.id}/drafts/${draft.id}`, { token: await admin(t) })).status).toBe(204);
    await expect.poll(async () => (await poll(cred.secret, etag2)).status, ARRIVES).toBe(200);
    const res = await poll(cred.secret);
    expect(res.headers.get("etag")).toBe(etag);
    expect(JSON.stringify((await json(res)).objects).includes("preview-")).toBe(false);
  });

  it("the clock passing an exemption's expiry, then a draft's → B answers 200 without them, no write involved", async () => {
    const t = "adc-clock";
    const start = clock;
    try {
      const expiresAt = new Date(start.getTime() + 10 * 60_000).toISOString();
      const settings = { controls: { privilegedContainers: { exemptions: { namespaces: [{ pattern: "legacy-*", expiresAt }] } } } };
      const { env, cred, etag } = await cached(t, { settings });
      expect(JSON.stringify((await json(await poll(cred.secret))).objects).includes("legacy-*")).toBe(true);
      clock = new Date(start.getTime() + 11 * 60_000);
      const after = await poll(cred.secret, etag);
      expect(after.status).toBe(200);
      expect(JSON.stringify((await json(after)).objects).includes("legacy-*")).toBe(false);
      // A draft lives DRAFT_TTL_DAYS (7 by default): past that, its shadows drop out.
      const created = await a.request("POST", `/v1/environments/${env.id}/drafts`, { token: await admin(t), body: { preset: "restricted" } });
      expect(created.status).toBe(201);
      const withDraft = await (async () => {
        await expect.poll(async () => JSON.stringify((await json(await poll(cred.secret))).objects).includes("preview-"), ARRIVES).toBe(true);
        return poll(cred.secret);
      })();
      const draftEtag = withDraft.headers.get("etag")!;
      clock = new Date(clock.getTime() + 8 * 86_400_000);
      const expired = await poll(cred.secret, draftEtag);
      expect(expired.status).toBe(200);
      expect(JSON.stringify((await json(expired)).objects).includes("preview-")).toBe(false);
    } finally {
      clock = start;
    }
  });

  it("revoked through A → 401 at B", async () => {
    const t = "adc-revoke";
    const { env, cred } = await cached(t);
    const res = await a.request("DELETE", `/v1/environments/${env.id}/agent-credentials/${cred.id}`, { token: await admin(t) });
    expect(res.status).toBe(204);
    await expect.poll(async () => (await poll(cred.secret)).status, ARRIVES).toBe(401);
  });

  it("rotated through A → the old secret 401 at B, the new one 304 with the same ETag", async () => {
    const t = "adc-rotate";
    const { env, cred, etag } = await cached(t);
    const res = await a.call(routes.agentCredentials.rotate, `/v1/environments/${env.id}/agent-credentials/${cred.id}/rotate`, { token: await admin(t) });
    expect(res.status).toBe(200);
    const rotated = await json(res);
    await expect.poll(async () => (await poll(cred.secret)).status, ARRIVES).toBe(401);
    expect((await poll(rotated.secret, etag)).status).toBe(304);
  });

  it("the environment deleted through A → 401 at B", async () => {
    const t = "adc-delete";
    const { env, cred } = await cached(t);
    expect((await a.request("DELETE", `/v1/environments/${env.id}`, { token: await admin(t) })).status).toBe(204);
    await expect.poll(async () => (await poll(cred.secret)).status, ARRIVES).toBe(401);
  });

  it("a write that changes nothing of the desired state (the description) keeps B's ETag", async () => {
    const t = "adc-desc";
    const { env, cred, etag } = await cached(t);
    expect((await a.request("PATCH", `/v1/environments/${env.id}`, { token: await admin(t), body: { description: "notes" } })).status).toBe(200);
    expect((await poll(cred.secret, etag)).status).toBe(304);
  });

  it("writes nothing to agent_status for a repeated status report within one poll interval", async () => {
    const t = "adc-status";
    const { env, cred } = await cached(t);
    const report = statusReport({ appliedRevision: 1, desiredRevision: 1 });
    const lastSeen = async () =>
      (await a.db.asSystem((tx) => tx.execute(sql`select last_seen_at from agent_status where environment_id = ${env.id}`))).rows[0]?.last_seen_at;
    const post = (r: object) => b.request("POST", AGENT_PATHS.status, { token: cred.secret, body: r });
    const start = clock;
    try {
      expect((await post(report)).status).toBe(204);
      const first = String(await lastSeen());
      clock = new Date(start.getTime() + 29_000);
      // The agent's next loop: the same report, but a later lastSuccessfulSyncAt (a heartbeat).
      expect((await post({ ...report, lastSuccessfulSyncAt: clock.toISOString() })).status).toBe(204);
      expect(String(await lastSeen())).toBe(first);
      // A changed report is written at once; so is the same one an interval after the last write.
      expect((await post({ ...report, error: "apply failed" })).status).toBe(204);
      const changed = String(await lastSeen());
      expect(changed).not.toBe(first);
      clock = new Date(start.getTime() + 29_000 + 30_000);
      expect((await post({ ...report, error: "apply failed" })).status).toBe(204);
      expect(String(await lastSeen())).not.toBe(changed);
    } finally {
      clock = start;
    }
  });
});
