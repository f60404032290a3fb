// GET /v1/audit-log refusals: every query rule with its path; a bad cursor is a 400, never a 500.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, expectProblem, json, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { encodeCursor } from "../lib/cursor.ts";
import * as routes from "../../test/harness/routes.ts";

describe.each(backends())("GET /v1/audit-log errors ($name)", (backend) => {
  let api: TestApi;
  let token: string;
  beforeAll(async () => {
    api = await createTestApi(backend);
    token = await api.token("al-errors", "admin");
    // Something in the log, so a cursor mistaken for a real one would return rows.
    for (const name of ["a", "b", "c"]) await api.request("POST", "/v1/api-keys", { token, body: { name, role: "viewer" } });
  });
  afterAll(() => api?.close());

  const refused = async (query: string, path: string) => {
    const problem = await expectProblem(await api.request("GET", `/v1/audit-log?${query}`, { token }), 400);
    expect(
      problem.errors?.map((e) => e.path),
      JSON.stringify(problem),
    ).toContain(path);
    return problem;
  };

  it("since after until → 400 at until", async () => {
    const p = await refused("since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z", "until");
    expect(p.errors?.find((e) => e.path === "until")?.message).toMatch(/since/);
    // Compared as instants, not strings: 01:00+02:00 is 23:00Z the day before, so before 00:30Z;
    // and 00:30+02:00 (22:30Z) is before 00:00Z although its text sorts after it.
    await refused("since=2026-01-01T00:30:00Z&until=2026-01-01T01:00:00%2B02:00", "until");
    expect((await api.request("GET", "/v1/audit-log?since=2026-01-01T00:30:00%2B02:00&until=2026-01-01T00:00:00Z", { token })).status).toBe(200);
  });

  it.each([
    ["since=yesterday", "since"],
    ["since=2026-01-01", "since"],
    ["since=2026-01-01T00:00:00", "since"], // no offset: ambiguous
    ["until=2026-13-01T00:00:00Z", "until"],
    ["until=", "until"],
  ])("?%s → 400 at %s", async (query, path) => {
    await refused(query, path);
  });

  it.each([
    ["action=", "action"],
    ["action=set*tings", "action"],
    ["action=**", "action"],
    [`action=${"a".repeat(101)}`, "action"],
    ["actor=", "actor"],
    ["targetType=", "targetType"],
    ["targetId=", "targetId"],
    ["limit=0", "limit"],
    ["limit=101", "limit"],
    ["limit=ten", "limit"],
    ["verbose=1", "(root)"],
  ])("?%s → 400 at %s", async (query, path) => {
    await refused(query, path);
  });

  it.each([
    ["garbage", "!!!not-base64!!!"],
    ["base64 of non-JSON", Buffer.from("{oops").toString("base64url")],
    ["an id that is a string", encodeCursor({ id: "1; drop table audit_log" })],
    ["a negative id", encodeCursor({ id: -5 })],
    ["a fractional id", encodeCursor({ id: 1.5 })],
    ["an extra field", encodeCursor({ id: 3, tenant: "x" })],
    ["an array", encodeCursor([3])],
    ["too long", "A".repeat(600)],
  ])("a cursor that is %s → 400 at cursor, never 500", async (_, cursor) => {
    await refused(`cursor=${encodeURIComponent(cursor)}`, "cursor");
  });

  it("a cursor past the oldest entry is simply an empty last page", async () => {
    const body = await json(await api.call(routes.auditLog.route, `/v1/audit-log?cursor=${encodeCursor({ id: 1 })}`, { token }));
    expect(body).toEqual({ items: [], nextCursor: null });
  });

  it.each(["POST", "PUT", "PATCH", "DELETE"])("%s is not a route (the log is append-only): 404", async (method) => {
    await expectProblem(await api.request(method, "/v1/audit-log", { token, body: {} }), 404);
    const body = await json(await api.call(routes.auditLog.route, "/v1/audit-log?action=api_key.*", { token }));
    expect(body.items).toHaveLength(3);
  });
});
