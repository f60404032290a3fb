// GET /v1/audit-log: newest first, filters, cursor pages, and the before/after diff.
import { and, eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, json, type ResponseBodyOf, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { SIGN_IN_ACTIONS } from "../../test/harness/fixtures.ts";
import { auditLog } from "../db/schema.ts";
import { diff } from "../lib/json-diff.ts";
import { auditChanges } from "../services/audit-log.ts";
import * as routes from "../../test/harness/routes.ts";

type Seed = { actor: string; action: string; targetType: string; targetId: string | null; before?: unknown; after?: unknown; createdAt: string };

// Written straight to the table so actions of every kind (and their times) are under test control.
const SEED: Seed[] = [
  {
    actor: "alice",
    action: "environment.create",
    targetType: "environment",
    targetId: "env-1",
    after: { name: "prod", labels: {} },
    createdAt: "2026-01-01T10:00:00Z",
  },
  {
    actor: "alice",
    action: "settings.update",
    targetType: "environment",
    targetId: "env-1",
    before: { mode: "warn", n: 1 },
    after: { mode: "deny", n: 1 },
    createdAt: "2026-01-02T10:00:00Z",
  },
  {
    actor: "bob",
    action: "settings.rollback",
    targetType: "environment",
    targetId: "env-1",
    before: { mode: "deny" },
    after: { mode: "warn" },
    createdAt: "2026-01-03T10:00:00Z",
  },
  {
    actor: "apikey:0123456789abcdef",
    action: "api_key.create",
    targetType: "api_key",
    targetId: "key-1",
    after: { name: "ci", role: "editor" },
    createdAt: "2026-01-04T10:00:00Z",
  },
  { actor: "bob", action: "apiXkey.odd", targetType: "api_key", targetId: "key-2", createdAt: "2026-01-05T10:00:00Z" },
  { actor: "bob", action: "environment.delete", targetType: "environment", targetId: "env-2", before: { name: "old" }, createdAt: "2026-01-06T10:00:00Z" },
];

describe.each(backends())("GET /v1/audit-log ($name)", (backend) => {
  let api: TestApi;
  let token: string;
  beforeAll(async () => {
    api = await createTestApi(backend);
    token = await api.token("al-happy", "admin");
    const tenantId = await api.tenantId("al-happy");
    // This suite's log is exactly SEED: its caller signs in first, and the rows that sign-in
    // writes (tenant.create, member.create; tested in tenant.provisioning.test.ts) are cleared.
    expect((await api.request("GET", "/v1/tenant", { token })).status).toBe(200);
    await api.db.asSystem((tx) => tx.delete(auditLog).where(and(eq(auditLog.tenantId, tenantId), inArray(auditLog.action, SIGN_IN_ACTIONS))));
    await api.db.withTenant(tenantId, async (tx) => {
      for (const s of SEED)
        await tx.insert(auditLog).values({ tenantId, ...s, before: s.before ?? null, after: s.after ?? null, createdAt: new Date(s.createdAt) });
    });
  });
  afterAll(() => api?.close());

  const get = async (query = "") => {
    const res = await api.request("GET", `/v1/audit-log${query}`, { token });
    expect(res.status, await res.clone().text()).toBe(200);
    return json<ResponseBodyOf<typeof routes.auditLog.route>>(res);
  };
  const actions = (body: { items: { action: string }[] }) => body.items.map((e) => e.action);
  const newestFirst = (pick: (s: Seed) => boolean) =>
    SEED.filter(pick)
      .map((s) => s.action)
      .reverse();

  it("returns every entry newest first, with before, after and their changes", async () => {
    const body = await get();
    expect(body.nextCursor).toBeNull();
    expect(actions(body)).toEqual(newestFirst(() => true));
    const update = body.items.find((e: { action: string }) => e.action === "settings.update");
    expect(update).toEqual({
      id: expect.any(Number),
      actor: "alice",
      action: "settings.update",
      targetType: "environment",
      targetId: "env-1",
      before: { mode: "warn", n: 1 },
      after: { mode: "deny", n: 1 },
      changes: [{ path: "mode", before: "warn", after: "deny" }],
      createdAt: "2026-01-02T10:00:00.000Z",
    });
    const ids = body.items.map((e: { id: number }) => e.id);
    expect([...ids].sort((a, b) => b - a)).toEqual(ids);
  });

  it("a create lists each field as added, a delete each as removed, neither side nothing", async () => {
    const { items } = await get();
    const by = (a: string) => items.find((e: { action: string }) => e.action === a);
    expect(by("environment.create")!.changes).toEqual([
      { path: "labels", after: {} },
      { path: "name", after: "prod" },
    ]);
    expect(by("environment.delete")!.changes).toEqual([{ path: "name", before: "old" }]);
    expect(by("apiXkey.odd")).toMatchObject({ before: null, after: null, changes: [] });
    expect(auditChanges(null, 3)).toEqual([{ path: "(root)", after: 3 }]);
  });

  it("a settings row of the old derived shape (the diff stored at write time) reads as today's whole-document row", () => {
    const v1 = { enforcementAction: "warn", controls: { privilegedContainers: { enabled: true } } };
    const v2 = { enforcementAction: "deny", controls: {} };
    const today = auditChanges({ revision: 2, settings: v1 }, { revision: 3, settings: v2, rolledBackTo: 1 });
    const legacy = auditChanges({ revision: 2 }, { revision: 3, rolledBackTo: 1, changes: diff(v1, v2) });
    expect(legacy).toEqual(today);
    expect(today).toEqual([
      { path: "revision", before: 2, after: 3 },
      { path: "rolledBackTo", after: 1 },
      { path: "settings.controls.privilegedContainers", before: { enabled: true } },
      { path: "settings.enforcementAction", before: "warn", after: "deny" },
    ]);
    // Revision 0 had no document: the old row's diff was at the root.
    expect(auditChanges({ revision: 0 }, { revision: 1, draft: "d", changes: diff(null, v2) })).toEqual([
      { path: "draft", after: "d" },
      { path: "revision", before: 0, after: 1 },
      { path: "settings", before: null, after: v2 },
    ]);
  });

  it("filters by exact action, and by prefix with a trailing *", async () => {
    expect(actions(await get("?action=settings.update"))).toEqual(["settings.update"]);
    expect(actions(await get("?action=settings.*"))).toEqual(["settings.rollback", "settings.update"]);
    expect(actions(await get("?action=settings"))).toEqual([]); // exact: no such action
    expect(actions(await get("?action=*"))).toEqual(newestFirst(() => true));
    // "_" is literal, not a LIKE wildcard: apiXkey.odd does not match api_key.*.
    expect(actions(await get("?action=api_key.*"))).toEqual(["api_key.create"]);
  });

  it("filters by actor, target type and target id, combined with AND", async () => {
    expect(actions(await get("?actor=bob"))).toEqual(newestFirst((s) => s.actor === "bob"));
    expect(actions(await get("?actor=apikey:0123456789abcdef"))).toEqual(["api_key.create"]);
    expect(actions(await get("?targetType=api_key"))).toEqual(["apiXkey.odd", "api_key.create"]);
    expect(actions(await get("?targetId=env-1"))).toEqual(["settings.rollback", "settings.update", "environment.create"]);
    expect(actions(await get("?targetId=env-1&actor=alice&action=settings.*"))).toEqual(["settings.update"]);
    expect(actions(await get("?actor=nobody"))).toEqual([]);
  });

  it("filters by time: since inclusive, until exclusive, any UTC offset", async () => {
    expect(actions(await get("?since=2026-01-05T10:00:00Z"))).toEqual(["environment.delete", "apiXkey.odd"]);
    expect(actions(await get("?until=2026-01-02T10:00:00Z"))).toEqual(["environment.create"]);
    expect(actions(await get("?since=2026-01-02T10:00:00Z&until=2026-01-04T10:00:00Z"))).toEqual(["settings.rollback", "settings.update"]);
    // 12:00+02:00 is 10:00Z.
    expect(actions(await get("?since=2026-01-06T12:00:00%2B02:00"))).toEqual(["environment.delete"]);
    expect(actions(await get("?since=2026-01-03T10:00:00Z&until=2026-01-03T10:00:00Z"))).toEqual([]);
  });

  it("pages with the cursor, each entry once, and keeps the filters on every page", async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const body = await get(`?limit=2&targetType=environment${cursor ? `&cursor=${cursor}` : ""}`);
      seen.push(...actions(body));
      cursor = body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(seen).toEqual(newestFirst((s) => s.targetType === "environment"));
    expect(pages).toBe(2);
    const one = await get("?limit=1");
    expect(one.items).toHaveLength(1);
    expect(one.nextCursor).toEqual(expect.any(String));
  });

  it("shows what the API's own mutations recorded (an API key create), newest first", async () => {
    const created = await json(await api.call(routes.apiKeys.create, "/v1/api-keys", { token, body: { name: "fresh", role: "viewer" } }));
    const [first] = (await get("?limit=1")).items;
    expect(first).toMatchObject({ action: "api_key.create", actor: "admin@al-happy", targetId: created.id, before: null });
    expect(first!.changes.map((c: { path: string }) => c.path)).toEqual(["name", "prefix", "revokedAt", "role"]);
    expect(Date.parse(first!.createdAt)).toBeGreaterThan(Date.parse("2026-01-06T10:00:00Z"));
  });
});
