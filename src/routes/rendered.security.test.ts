// GET /rendered refuses every bad credential, needs viewer, and never renders another tenant's
// environment (404, as for an id that does not exist), in either format.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, expectProblem, json, type ResponseBodyOf, type TestApi } from "../../test/harness/api.ts";
import type * as routes from "../../test/harness/routes.ts";
import { backends } from "../../test/harness/backends.ts";
import { createEnvironment, snapshot } from "../../test/harness/fixtures.ts";
import { badCredentials } from "../../test/harness/tokens.ts";
import { ROLES } from "../app/env.ts";
import { presets } from "../policies/index.ts";

const OWNER = "acme-rendersec";
const OTHER = "other-rendersec";
const bad = await badCredentials(OWNER);

describe.each(backends())("GET /v1/environments/{id}/rendered security ($name)", (backend) => {
  let api: TestApi;
  let envId: string;
  const url = (id: string, qs = "") => `/v1/environments/${id}/rendered${qs}`;
  beforeAll(async () => {
    api = await createTestApi(backend);
    envId = (await createEnvironment(api, OWNER, { name: "prod", settings: { controls: presets.baseline.controls } })).id;
  });
  afterAll(() => api?.close());

  it.each(bad)("401 for $name", async ({ headers, detail, invalidToken }) => {
    const res = await api.request("GET", url(envId), { headers });
    expect((await expectProblem(res, 401)).detail).toMatch(detail);
    expect((res.headers.get("www-authenticate") ?? "").includes('error="invalid_token"')).toBe(invalidToken);
  });

  it("401 for a revoked API key; 200 for a live one", async () => {
    await expectProblem(await api.request("GET", url(envId), { token: await api.apiKey(OWNER, "viewer", { revoked: true }) }), 401);
    expect((await api.request("GET", url(envId), { token: await api.apiKey(OWNER, "viewer") })).status).toBe(200);
  });

  it.each(ROLES)("role %s: viewer is the minimum, so allowed", async (role) => {
    expect((await api.request("GET", url(envId), { token: await api.token(OWNER, role) })).status).toBe(200);
  });

  it("another tenant's admin gets 404 in both formats, indistinguishable from an unknown id; nothing changes", async () => {
    const owner = await api.token(OWNER, "viewer");
    const rendered = await json<ResponseBodyOf<typeof routes.rendered.route>>(await api.request("GET", url(envId), { token: owner }));
    const before = await snapshot(api, OWNER, envId);
    await createEnvironment(api, OTHER, { name: "prod", settings: { controls: presets.restricted.controls } });
    const unknown = "2c4e6a8b-1d3f-4a5b-9c7d-e1f2a3b4c5d6";
    for (const token of [await api.token(OTHER, "admin"), await api.apiKey(OTHER, "admin")]) {
      for (const qs of ["", "?format=yaml"]) {
        const res = await api.request("GET", url(envId, qs), { token });
        const theirs = await expectProblem(res, 404);
        expect(res.headers.get("etag")).toBeNull();
        const none = await expectProblem(await api.request("GET", url(unknown, qs), { token }), 404);
        expect(theirs.detail.replace(envId, "ID")).toBe(none.detail.replace(unknown, "ID"));
      }
    }
    expect(await snapshot(api, OWNER, envId)).toEqual(before);
    expect(await json(await api.request("GET", url(envId), { token: owner }))).toEqual(rendered);
  });
});
