// /v1/webhooks refusals: the URL policy (https only, no private, loopback or link-local targets:
// SSRF), events, environment filters, delivery mode, format, control and enforcement-action
// filters, the rate limit and unknown fields, each a 400 naming the field; nothing
// written after any of them.
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, expectProblem, json, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import * as routes from "../../test/harness/routes.ts";

const T = "wh-errors";
const MISSING = "00000000-0000-4000-8000-000000000000";

describe.each(backends())("/v1/webhooks errors ($name)", (backend) => {
  let api: TestApi;
  let token: string;
  let tenantId: string;
  let existing: string;
  beforeAll(async () => {
    // The production policy: https to public addresses only.
    api = await createTestApi(backend);
    token = await api.token(T, "admin");
    tenantId = await api.tenantId(T);
    existing = (
      await json(await api.call(routes.webhooks.create, "/v1/webhooks", { token, body: { url: "https://93.184.215.14/hooks", events: ["violation.opened"] } }))
    ).id;
  });
  afterAll(() => api?.close());

  const counts = () =>
    api.db.withTenant(
      tenantId,
      async (tx) =>
        (
          await tx.execute(
            sql`select (select count(*)::int from webhook_endpoints) as e, (select count(*)::int from audit_log) as a, (select string_agg(url, ',') from webhook_endpoints) as urls`,
          )
        ).rows[0],
    );

  const ok = { events: ["violation.opened"] };
  it.each([
    ["http without WEBHOOK_ALLOW_HTTP", { ...ok, url: "http://93.184.215.14/x" }, "url", /https/],
    ["not a URL", { ...ok, url: "hooks.example.com" }, "url", /absolute URL/],
    ["ftp", { ...ok, url: "ftp://93.184.215.14/x" }, "url", /https/],
    ["loopback", { ...ok, url: "https://127.0.0.1/x" }, "url", /private/],
    ["loopback, decimal form", { ...ok, url: "https://2130706433/x" }, "url", /private/],
    ["loopback IPv6", { ...ok, url: "https://[::1]/x" }, "url", /private/],
    ["IPv4-mapped loopback", { ...ok, url: "https://[::ffff:127.0.0.1]/x" }, "url", /private/],
    ["private 10/8", { ...ok, url: "https://10.1.2.3/x" }, "url", /private/],
    ["private 172.16/12", { ...ok, url: "https://172.20.0.1/x" }, "url", /private/],
    ["private 192.168/16", { ...ok, url: "https://192.168.1.1/x" }, "url", /private/],
    ["link-local (cloud metadata)", { ...ok, url: "https://169.254.169.254/latest/meta-data" }, "url", /link-local/],
    ["IPv6 unique local", { ...ok, url: "https://[fd00::1]/x" }, "url", /private/],
    ["IPv6 link-local", { ...ok, url: "https://[fe80::1]/x" }, "url", /private/],
    ["localhost", { ...ok, url: "https://localhost/x" }, "url", /private/],
    ["credentials in the URL", { ...ok, url: "https://user:pw@93.184.215.14/x" }, "url", /credentials/],
    ["URL too long", { ...ok, url: `https://93.184.215.14/${"a".repeat(2048)}` }, "url", /2048/],
    ["no events", { url: "https://93.184.215.14/x", events: [] }, "events", /./],
    ["unknown event", { url: "https://93.184.215.14/x", events: ["violation.closed"] }, "events[0]", /./],
    ["repeated event", { url: "https://93.184.215.14/x", events: ["violation.opened", "violation.opened"] }, "events", /repeat/],
    ["environment id not a uuid", { ...ok, url: "https://93.184.215.14/x", environmentIds: ["prod"] }, "environmentIds[0]", /./],
    ["unknown environment", { ...ok, url: "https://93.184.215.14/x", environmentIds: [MISSING] }, "environmentIds[0]", /no environment/],
    ["empty environment list", { ...ok, url: "https://93.184.215.14/x", environmentIds: [] }, "environmentIds", /./],
    ["unknown field", { ...ok, url: "https://93.184.215.14/x", secret: "whsec_mine" }, "(root)", /secret/],
    ["missing url", { ...ok }, "url", /./],
    ["description with a control character", { ...ok, url: "https://93.184.215.14/x", description: "a\nb" }, "description", /control/],
    ["unknown delivery mode", { ...ok, url: "https://93.184.215.14/x", deliveryMode: "batch" }, "deliveryMode", /./],
    ["unknown format", { ...ok, url: "https://93.184.215.14/x", format: "teams" }, "format", /./],
    [
      "unknown control in the filter",
      { ...ok, url: "https://93.184.215.14/x", controls: ["privileged-containers", "no-such-control"] },
      "controls[1]",
      /not a Gatehouse control/,
    ],
    ["a control by its camelCase id", { ...ok, url: "https://93.184.215.14/x", controls: ["privilegedContainers"] }, "controls[0]", /slug/],
    ["repeated control", { ...ok, url: "https://93.184.215.14/x", controls: ["seccomp", "seccomp"] }, "controls", /repeat/],
    ["empty control filter", { ...ok, url: "https://93.184.215.14/x", controls: [] }, "controls", /./],
    ["unknown enforcement action", { ...ok, url: "https://93.184.215.14/x", enforcementActions: ["block"] }, "enforcementActions[0]", /./],
    ["rate limit 0", { ...ok, url: "https://93.184.215.14/x", rateLimitPerSecond: 0 }, "rateLimitPerSecond", /./],
    ["rate limit too high", { ...ok, url: "https://93.184.215.14/x", rateLimitPerSecond: 5000 }, "rateLimitPerSecond", /1000/],
    ["rate limit not a number", { ...ok, url: "https://93.184.215.14/x", rateLimitPerSecond: "1" }, "rateLimitPerSecond", /./],
  ])("POST with %s → 400 at %s; nothing written", async (_what, body, path, message) => {
    const before = await counts();
    const problem = await expectProblem(await api.request("POST", "/v1/webhooks", { token, body }), 400);
    const issue = problem.errors?.find((e) => e.path === path);
    expect(issue, JSON.stringify(problem.errors)).toBeDefined();
    expect(issue!.message).toMatch(message);
    expect(await counts()).toEqual(before);
  });

  it("the special-purpose addresses the issue 13 probe got accepted → 400 at create and at PATCH; nothing written", async () => {
    const before = await counts();
    for (const url of [
      "https://[::127.0.0.1]/",
      "https://[::169.254.169.254]/",
      "https://[::ffff:0:7f00:1]/",
      "https://[2002:7f00:1::]/",
      "https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",
      "https://[100::1]/",
      "https://[::2]/",
      "https://192.0.2.1/",
      "https://198.51.100.7/",
      "https://203.0.113.200/",
    ]) {
      for (const [method, path] of [
        ["POST", "/v1/webhooks"],
        ["PATCH", `/v1/webhooks/${existing}`],
      ] as const) {
        const problem = await expectProblem(await api.request(method, path, { token, body: method === "POST" ? { ...ok, url } : { url } }), 400);
        expect(problem.errors, `${method} ${url}`).toEqual([
          { path: "url", message: expect.stringMatching(/^must not point at a private, loopback, link-local or reserved address/) },
        ]);
      }
    }
    expect(await counts()).toEqual(before);
  });

  it("PATCH applies the same rules; nothing changed", async () => {
    const before = await counts();
    for (const [body, path] of [
      [{ url: "https://10.0.0.1/x" }, "url"],
      [{ events: [] }, "events"],
      [{ enabled: "yes" }, "enabled"],
      [{ id: MISSING }, "(root)"],
      [{ deliveryMode: "digests" }, "deliveryMode"],
      [{ controls: ["nope"] }, "controls[0]"],
      [{ enforcementActions: ["deny", "deny"] }, "enforcementActions"],
      [{ rateLimitPerSecond: -1 }, "rateLimitPerSecond"],
    ] as const) {
      const problem = await expectProblem(await api.request("PATCH", `/v1/webhooks/${existing}`, { token, body }), 400);
      expect(problem.errors?.map((e) => e.path)).toContain(path);
    }
    expect(await counts()).toEqual(before);
  });

  it("unknown ids → 404; malformed ids → 400; bad cursors → 400", async () => {
    await expectProblem(await api.request("GET", `/v1/webhooks/${MISSING}`, { token }), 404);
    await expectProblem(await api.request("GET", `/v1/webhooks/${existing}/deliveries/${MISSING}`, { token }), 404);
    await expectProblem(await api.request("POST", `/v1/webhooks/${existing}/deliveries/${MISSING}/redeliver`, { token }), 404);
    await expectProblem(await api.request("GET", "/v1/webhooks/nope", { token }), 400);
    await expectProblem(await api.request("GET", `/v1/webhooks/${existing}/deliveries/nope`, { token }), 400);
    await expectProblem(await api.request("GET", "/v1/webhooks?cursor=garbage", { token }), 400);
    await expectProblem(await api.request("GET", `/v1/webhooks/${existing}/deliveries?state=sent`, { token }), 400);
  });
});
