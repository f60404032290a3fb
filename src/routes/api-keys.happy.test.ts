// /v1/api-keys: create, list, revoke, rotate, and what each leaves in the audit log.
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, expectProblem, json, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { parseCredential } from "../app/credentials.ts";
import * as routes from "../../test/harness/routes.ts";

describe.each(backends())("/v1/api-keys ($name)", (backend) => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi(backend);
  });
  afterAll(() => api?.close());

  const admin = (tenant: string) => api.token(tenant, "admin", { sub: `alice@${tenant}` });
  const createKey = async (token: string, body: { name: string; role: string }) => {
    const res = await api.call(routes.apiKeys.create, "/v1/api-keys", { token, body });
    expect(res.status, await res.clone().text()).toBe(201);
    return json(res);
  };
  const auditFor = async (token: string, id: string) =>
    (await json(await api.call(routes.auditLog.route, `/v1/audit-log?targetType=api_key&targetId=${id}`, { token }))).items;

  it("creates a key: 201 with the secret once; the secret authenticates with the key's role", async () => {
    const token = await admin("ak-create");
    const res = await api.call(routes.apiKeys.create, "/v1/api-keys", { token, body: { name: "  CI deploys  ", role: "editor" } });
    expect(res.status).toBe(201);
    const key = await json(res);
    expect(key).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: "CI deploys", // trimmed
      role: "editor",
      prefix: expect.stringMatching(/^[0-9a-f]{16}$/),
      createdAt: expect.any(String),
      secret: expect.stringMatching(/^ghk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/),
    });
    expect(parseCredential(key.secret)?.prefix).toBe(key.prefix);
    const me = await json(await api.call(routes.tenant.route, "/v1/tenant", { token: key.secret }));
    expect(me).toMatchObject({ slug: "ak-create", role: "editor" });
  });

  it("lists keys without secrets, newest first, with who created them and when they were used", async () => {
    const token = await admin("ak-list");
    const a = await createKey(token, { name: "a", role: "viewer" });
    const b = await createKey(token, { name: "b", role: "admin" });
    await api.request("GET", "/v1/tenant", { token: a.secret });
    const res = await api.request("GET", "/v1/api-keys", { token });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain(parseCredential(a.secret)!.secret);
    expect(text).not.toContain(parseCredential(b.secret)!.secret);
    expect(text).not.toMatch(/secret|hash/i);
    const body = JSON.parse(text);
    expect(body.nextCursor).toBeNull();
    expect(body.items).toEqual([
      { id: b.id, name: "b", role: "admin", prefix: b.prefix, createdBy: "alice@ak-list", createdAt: b.createdAt, lastUsedAt: null, revokedAt: null },
      {
        id: a.id,
        name: "a",
        role: "viewer",
        prefix: a.prefix,
        createdBy: "alice@ak-list",
        createdAt: a.createdAt,
        lastUsedAt: expect.any(String),
        revokedAt: null,
      },
    ]);
  });

  it("pages through many keys with the cursor: each once, in order", async () => {
    const token = await admin("ak-pages");
    const made: string[] = [];
    for (let i = 0; i < 5; i++) made.unshift((await createKey(token, { name: `k${i}`, role: "viewer" })).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = cursor ? `&cursor=${cursor}` : "";
      const page = await json(await api.call(routes.apiKeys.list, `/v1/api-keys?limit=2${q}`, { token }));
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((k: { id: string }) => k.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(made);
  });

  it("revoking stops the key at once; a second revoke is a no-op 204 without a second audit entry", async () => {
    const token = await admin("ak-revoke");
    const key = await createKey(token, { name: "doomed", role: "admin" });
    expect((await api.request("GET", "/v1/tenant", { token: key.secret })).status).toBe(200);
    expect((await api.request("DELETE", `/v1/api-keys/${key.id}`, { token })).status).toBe(204);
    await expectProblem(await api.request("GET", "/v1/tenant", { token: key.secret }), 401);
    expect((await api.request("DELETE", `/v1/api-keys/${key.id}`, { token })).status).toBe(204);
    const listed = (await json(await api.call(routes.apiKeys.list, "/v1/api-keys", { token }))).items[0];
    expect(listed).toMatchObject({ id: key.id, revokedAt: expect.any(String) });
    const entries = await auditFor(token, key.id);
    expect(entries.map((e: { action: string }) => e.action)).toEqual(["api_key.revoke", "api_key.create"]);
    expect(entries[0]).toMatchObject({ actor: "alice@ak-revoke", before: { revokedAt: null }, after: { revokedAt: listed!.revokedAt } });
    expect(entries[0]!.changes).toEqual([{ path: "revokedAt", before: null, after: listed!.revokedAt }]);
  });

  it("rotating keeps id, prefix, name and role; the old secret stops at once, the new one works", async () => {
    const token = await admin("ak-rotate");
    const key = await createKey(token, { name: "rotating", role: "editor" });
    const res = await api.call(routes.apiKeys.rotate, `/v1/api-keys/${key.id}/rotate`, { token });
    expect(res.status).toBe(200);
    const rotated = await json(res);
    expect(rotated).toEqual({ ...key, secret: expect.stringMatching(/^ghk_/) });
    expect(rotated.secret).not.toBe(key.secret);
    await expectProblem(await api.request("GET", "/v1/tenant", { token: key.secret }), 401);
    expect((await api.request("GET", "/v1/tenant", { token: rotated.secret })).status).toBe(200);
    const [entry] = await auditFor(token, key.id);
    expect(entry).toMatchObject({ action: "api_key.rotate", after: { prefix: key.prefix, secretRotatedAt: expect.any(String) } });
  });

  it("audits every mutation with the actor, and never the secret (audit log, list, database)", async () => {
    const token = await admin("ak-audit");
    const key = await createKey(token, { name: "audited", role: "viewer" });
    const rotated = await json(await api.call(routes.apiKeys.rotate, `/v1/api-keys/${key.id}/rotate`, { token }));
    await api.request("DELETE", `/v1/api-keys/${key.id}`, { token });
    const res = await api.request("GET", "/v1/audit-log?action=api_key.*", { token });
    const text = await res.text();
    const { items } = JSON.parse(text);
    expect(items.map((e: { action: string }) => e.action)).toEqual(["api_key.revoke", "api_key.rotate", "api_key.create"]);
    expect(items[2]).toMatchObject({ actor: "alice@ak-audit", targetId: key.id, before: null, after: { name: "audited", role: "viewer", prefix: key.prefix } });
    const list = await (await api.request("GET", "/v1/api-keys", { token })).text();
    const tenantId = await api.tenantId("ak-audit");
    const rows = await api.db.withTenant(tenantId, (tx) => tx.execute(sql`select row_to_json(k)::text as j from api_keys k where tenant_id = ${tenantId}`));
    for (const secret of [key.secret, rotated.secret]) {
      const raw = parseCredential(secret)!.secret;
      expect(text).not.toContain(raw);
      expect(list).not.toContain(raw);
      expect(JSON.stringify(rows.rows)).not.toContain(raw); // only its sha256 is stored
    }
  });

  it("an API key can manage keys; its audit actor is apikey:<prefix>; it may grant its own role", async () => {
    const adminKey = await api.apiKey("ak-bykey", "admin");
    const made = await createKey(adminKey, { name: "made by a key", role: "admin" });
    const entries = await auditFor(await admin("ak-bykey"), made.id);
    expect(entries[0]!.actor).toBe(`apikey:${parseCredential(adminKey)!.prefix}`);
    const listed = (await json(await api.call(routes.apiKeys.list, "/v1/api-keys", { token: adminKey }))).items;
    expect(listed.find((k: { id: string }) => k.id === made.id)!.createdBy).toBe(`apikey:${parseCredential(adminKey)!.prefix}`);
  });
});
