// Sign-in bookkeeping (issue 13, items 8 and 9): which token may create its tenant
// (TENANT_PROVISIONING), and the audit rows a first sign-in, a new member and a role change write.
import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, expectProblem, json, type ResponseBodyOf, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { otherKey } from "../../test/harness/tokens.ts";
import { memberships, tenants } from "../db/schema.ts";
import { createTenant } from "../services/tenants.ts";
import * as routes from "../../test/harness/routes.ts";

type Entry = { actor: string; action: string; targetType: string; targetId: string | null; before: unknown; after: unknown };

describe.each(backends())("tenant provisioning ($name)", (backend) => {
  let auto: TestApi;
  let closed: TestApi;
  let clock = new Date();
  beforeAll(async () => {
    auto = await createTestApi(backend, { now: () => clock });
    closed = await createTestApi(backend, { tenantProvisioning: "closed" });
  });
  afterAll(async () => {
    await auto?.close();
    await closed?.close();
  });

  const tenantRows = async (api: TestApi, slug: string) => await api.db.asSystem((tx) => tx.select().from(tenants).where(eq(tenants.slug, slug)));
  const log = async (api: TestApi, slug: string, query = ""): Promise<Entry[]> => {
    const res = await api.request("GET", `/v1/audit-log${query}`, { token: await api.token(slug, "admin", { sub: "auditor" }) });
    expect(res.status, await res.clone().text()).toBe(200);
    return (await json<ResponseBodyOf<typeof routes.auditLog.route>>(res)).items;
  };

  describe("auto (development)", () => {
    it("the first valid token creates its tenant, audited once with that token's subject, even when first requests race", async () => {
      const subs = ["ann", "ben", "cat", "dan", "eve"];
      const results = await Promise.all(subs.map(async (sub) => auto.request("GET", "/v1/tenant", { token: await auto.token("pv-race", "viewer", { sub }) })));
      for (const res of results) expect(res.status, await res.clone().text()).toBe(200);
      const [row, ...more] = await tenantRows(auto, "pv-race");
      expect(more).toEqual([]);
      const created = await log(auto, "pv-race", "?action=tenant.create");
      expect(created).toHaveLength(1);
      expect(created[0]).toMatchObject({
        targetType: "tenant",
        targetId: row!.id,
        before: null,
        after: { slug: "pv-race", name: "pv-race", provisioning: "auto" },
      });
      expect(subs).toContain(created[0]!.actor);
    });

    it("a new member and each role change are audited; the same role again, or a later touch, writes no row", async () => {
      clock = new Date();
      const as = async (role: "viewer" | "editor" | "admin") =>
        expect((await auto.request("GET", "/v1/tenant", { token: await auto.token("pv-members", role, { sub: "mia" }) })).status).toBe(200);
      await as("viewer");
      await as("viewer");
      await as("admin");
      clock = new Date(clock.getTime() + 90_000); // the once-a-minute last-seen touch is due
      await as("admin");
      await as("viewer");
      const rows = (await log(auto, "pv-members", "?action=member.*")).filter((e) => e.targetId === "mia").reverse();
      expect(rows).toEqual([
        expect.objectContaining({ action: "member.create", actor: "mia", targetType: "member", before: null, after: { subject: "mia", role: "viewer" } }),
        expect.objectContaining({
          action: "member.role_change",
          actor: "mia",
          before: { subject: "mia", role: "viewer" },
          after: { subject: "mia", role: "admin" },
        }),
        expect.objectContaining({
          action: "member.role_change",
          actor: "mia",
          before: { subject: "mia", role: "admin" },
          after: { subject: "mia", role: "viewer" },
        }),
      ]);
    });
  });

  describe("closed", () => {
    it("a valid token naming an unknown tenant is 403 problem+json, and creates nothing", async () => {
      const res = await closed.request("GET", "/v1/tenant", { token: await closed.token("pv-unknown", "admin") });
      const body = await expectProblem(res, 403);
      expect(body.detail).toMatch(/"pv-unknown".*tenant:create/);
      expect(await tenantRows(closed, "pv-unknown")).toEqual([]);
      const [n] = await closed.db.asSystem((tx) => tx.select({ n: count() }).from(memberships).where(eq(memberships.subject, "admin@pv-unknown")));
      expect(n?.n).toBe(0);
    });

    it("a forged token naming an unknown tenant is still 401: the credential is checked first", async () => {
      await expectProblem(await closed.request("GET", "/v1/tenant", { token: await closed.token("pv-unknown", "admin", { sign: { key: otherKey } }) }), 401);
    });

    it("a tenant the operator created signs in (no negative memory of the earlier 403), and its creation is audited", async () => {
      const token = await closed.token("pv-made", "admin", { sub: "owner" });
      await expectProblem(await closed.request("GET", "/v1/tenant", { token }), 403);
      const made = await createTenant(closed.db, "pv-made", { actor: "cli:operator", provisioning: "cli", name: "Made Corp" });
      expect(made.created).toBe(true);
      expect((await createTenant(closed.db, "pv-made", { actor: "cli:operator", provisioning: "cli" })).created).toBe(false);
      const body = await json(await closed.call(routes.tenant.route, "/v1/tenant", { token }));
      expect(body).toMatchObject({ id: made.id, slug: "pv-made", name: "Made Corp", role: "admin", members: [{ subject: "owner", role: "admin" }] });
      const created = await log(closed, "pv-made", "?action=tenant.create");
      expect(created).toEqual([
        expect.objectContaining({ actor: "cli:operator", targetId: made.id, after: { slug: "pv-made", name: "Made Corp", provisioning: "cli" } }),
      ]);
    });
  });
});
