// /v1/webhooks refuses bad credentials and every role below admin on every route, and a tenant
// can never see, change, target or redeliver another tenant's endpoints or deliveries.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, expectProblem, json, type ResponseBodyOf, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { createEnvironment } from "../../test/harness/environments.ts";
import { badCredentials } from "../../test/harness/tokens.ts";
import { hasRole } from "../app/auth.ts";
import { ROLES } from "../app/env.ts";
import * as routeDefs from "../../test/harness/routes.ts";

const MIN_ROLE = "admin";
const SOME_ID = "00000000-0000-4000-8000-000000000000";
const routes = (id: string, deliveryId: string): [string, string, unknown?][] => [
  ["GET", "/v1/webhooks"],
  ["POST", "/v1/webhooks", { url: "http://127.0.0.1:9/x", events: ["violation.opened"] }],
  ["GET", `/v1/webhooks/${id}`],
  ["PATCH", `/v1/webhooks/${id}`, { description: "changed" }],
  [
    "PATCH",
    `/v1/webhooks/${id}`,
    { deliveryMode: "per-violation", format: "slack", controls: ["seccomp"], enforcementActions: ["deny"], rateLimitPerSecond: 1000 },
  ],
  ["POST", `/v1/webhooks/${id}/rotate-secret`],
  ["POST", `/v1/webhooks/${id}/ping`],
  ["GET", `/v1/webhooks/${id}/deliveries`],
  ["GET", `/v1/webhooks/${id}/deliveries/${deliveryId}`],
  ["POST", `/v1/webhooks/${id}/deliveries/${deliveryId}/redeliver`],
  ["DELETE", `/v1/webhooks/${id}`],
];
const ENDPOINTS = routes(SOME_ID, SOME_ID);
const bad = await badCredentials("wh-sec");

describe.each(backends())("/v1/webhooks security ($name)", (backend) => {
  let api: TestApi;
  beforeAll(async () => {
    api = await createTestApi(backend, { webhooks: { allowHttp: true, allowPrivate: true } });
    await api.tenantId("wh-sec");
  });
  afterAll(() => api?.close());

  it.each(bad)("401 for $name on every endpoint", async ({ headers, detail }) => {
    for (const [method, path, body] of ENDPOINTS) {
      expect((await expectProblem(await api.request(method, path, { headers, body }), 401)).detail, `${method} ${path}`).toMatch(detail);
    }
  });

  it.each(ROLES)(`role %s: ${MIN_ROLE} → allowed, below → 403 on every endpoint (JWT and API key)`, async (role) => {
    for (const token of [await api.token("wh-sec", role), await api.apiKey("wh-sec", role)]) {
      for (const [method, path, body] of ENDPOINTS) {
        const res = await api.request(method, path, { token, body });
        if (hasRole({ role } as never, MIN_ROLE)) expect(res.status, `${method} ${path}`).toBeLessThan(405);
        else await expectProblem(res, 403);
      }
    }
  });

  it("another tenant's endpoint and delivery: every route → 404 (or an empty list), nothing changed or sent for the owner", async () => {
    const owner = await api.token("wh-acme", "admin");
    const ep = await json(
      await api.call(routeDefs.webhooks.create, "/v1/webhooks", { token: owner, body: { url: "http://127.0.0.1:9/acme", events: ["violation.opened"] } }),
    );
    const ping = await json(await api.call(routeDefs.webhooks.ping, `/v1/webhooks/${ep.id}/ping`, { token: owner }));
    const before = {
      ep: await json(await api.call(routeDefs.webhooks.get, `/v1/webhooks/${ep.id}`, { token: owner })),
      d: await json(await api.call(routeDefs.webhooks.deliveries, `/v1/webhooks/${ep.id}/deliveries`, { token: owner })),
    };
    // The intruder also has an endpoint of its own, to try the owner's delivery under it.
    for (const token of [await api.token("wh-other", "admin"), await api.apiKey("wh-other", "admin")]) {
      const mine = await json(
        await api.call(routeDefs.webhooks.create, "/v1/webhooks", { token, body: { url: "http://127.0.0.1:9/mine", events: ["violation.opened"] } }),
      );
      for (const [method, path, body] of [...routes(ep.id, ping.id), ...routes(mine.id, ping.id).slice(8, 10)]) {
        if (path === "/v1/webhooks") {
          if (method === "GET")
            expect(
              (await json<ResponseBodyOf<typeof routeDefs.webhooks.list>>(await api.request(method, path, { token }))).items.map((e: { id: string }) => e.id),
            ).not.toContain(ep.id);
          continue;
        }
        if (path.startsWith(`/v1/webhooks/${mine.id}`) && !path.includes(ping.id)) continue;
        await expectProblem(await api.request(method, path, { token, body }), 404);
      }
      // Targeting the owner's environment from an endpoint is refused too.
      const env = await createEnvironment(api, "wh-acme", { name: `prod-${mine.id.slice(0, 4)}` });
      const refused = await expectProblem(
        await api.request("POST", "/v1/webhooks", { token, body: { url: "http://127.0.0.1:9/x", events: ["settings.applied"], environmentIds: [env.id] } }),
        400,
      );
      expect(refused.errors).toEqual([{ path: "environmentIds[0]", message: `no environment ${env.id}` }]);
    }
    expect(await json(await api.call(routeDefs.webhooks.get, `/v1/webhooks/${ep.id}`, { token: owner }))).toEqual(before.ep);
    expect(await json(await api.call(routeDefs.webhooks.deliveries, `/v1/webhooks/${ep.id}/deliveries`, { token: owner }))).toEqual(before.d);
  });

  it("another tenant's cursors are refused (400), not followed", async () => {
    const owner = await api.token("wh-acme2", "admin");
    for (let i = 0; i < 2; i++)
      await api.request("POST", "/v1/webhooks", { token: owner, body: { url: `http://127.0.0.1:9/${i}`, events: ["violation.opened"] } });
    const { nextCursor } = await json(await api.call(routeDefs.webhooks.list, "/v1/webhooks?limit=1", { token: owner }));
    await expectProblem(await api.request("GET", `/v1/webhooks?cursor=${nextCursor}`, { token: await api.token("wh-other2", "admin") }), 400);
  });
});
