// GET /v1/audit-log: bad credentials → 401, viewer and editor → 403 (the log holds documents and
// key names), and one tenant never reads another's entries, whatever the filters or cursor.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, expectProblem, json, type ResponseBodyOf, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { auditRows } from "../../test/harness/fixtures.ts";
import { badCredentials } from "../../test/harness/tokens.ts";
import { hasRole } from "../app/auth.ts";
import { ROLES } from "../app/env.ts";
import { encodeCursor } from "../lib/cursor.ts";
import * as routes from "../../test/harness/routes.ts";

const METHOD = "GET";
const PATH = "/v1/audit-log";
const MIN_ROLE = "admin";

const bad = await badCredentials("al-sec");

describe.each(backends())(`${METHOD} ${PATH} security ($name)`, (backend) => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi(backend);
    await api.request(METHOD, PATH, { token: await api.token("al-sec", "admin") });
  });
  afterAll(() => api?.close());

  it.each(bad)("401 for $name", async ({ headers, detail, invalidToken }) => {
    const res = await api.request(METHOD, PATH, { headers });
    expect((await expectProblem(res, 401)).detail).toMatch(detail);
    expect((res.headers.get("www-authenticate") ?? "").includes('error="invalid_token"')).toBe(invalidToken);
  });

  it("401 for a revoked API key, 200 for a live one", async () => {
    await expectProblem(await api.request(METHOD, PATH, { token: await api.apiKey("al-sec", "admin", { revoked: true }) }), 401);
    expect((await api.request(METHOD, PATH, { token: await api.apiKey("al-sec", "admin") })).status).toBe(200);
  });

  it.each(ROLES)(`role %s: ${MIN_ROLE} or above → allowed, below → 403 (user and API key)`, async (role) => {
    for (const token of [await api.token("al-sec", role), await api.apiKey("al-sec", role)]) {
      const res = await api.request(METHOD, PATH, { token });
      if (hasRole({ role } as never, MIN_ROLE)) expect(res.status).toBe(200);
      else await expectProblem(res, 403);
    }
  });

  it("another tenant never sees this tenant's entries: not listed, not by target id, not through a cursor", async () => {
    const owner = await api.token("acme-al", "admin");
    const keys = [];
    for (const name of ["one", "two", "three"]) {
      keys.push(await json(await api.call(routes.apiKeys.create, "/v1/api-keys", { token: owner, body: { name, role: "viewer" } })));
    }
    const before = await auditRows(api, "acme-al");
    expect(before).toHaveLength(3);
    const ownerPage = await json<ResponseBodyOf<typeof routes.auditLog.route>>(await api.request(METHOD, `${PATH}?limit=1`, { token: owner }));

    const other = await api.token("other-al", "admin");
    await api.request("POST", "/v1/api-keys", { token: other, body: { name: "theirs", role: "viewer" } });
    const queries = [
      "",
      `?targetId=${keys[0]!.id}`,
      "?action=api_key.*&actor=admin@acme-al",
      `?cursor=${ownerPage.nextCursor}`,
      `?cursor=${encodeCursor({ id: Number.MAX_SAFE_INTEGER })}`,
    ];
    for (const q of queries) {
      const text = await (await api.request(METHOD, `${PATH}${q}`, { token: other })).text();
      for (const k of keys) expect(text, q).not.toContain(k.id);
      expect(text).not.toContain("acme-al");
      for (const e of JSON.parse(text).items) expect(e.actor).toBe("admin@other-al");
    }
    // Reading is read-only: the owner's log is exactly as it was.
    expect(await auditRows(api, "acme-al")).toEqual(before);
  });

  it("viewers cannot reach the log through an API key they hold either", async () => {
    const viewerKey = await api.apiKey("al-sec-v", "viewer");
    await expectProblem(await api.request(METHOD, `${PATH}?action=*`, { token: viewerKey }), 403);
  });
});
