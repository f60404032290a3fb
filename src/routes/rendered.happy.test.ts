// GET /rendered: exactly what the agent would apply for the current revision, as JSON or YAML,
// evaluated at the app's clock.
import { parseAllDocuments } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApi, json, type ResponseBodyOf, type TestApi } from "../../test/harness/api.ts";
import type * as routes from "../../test/harness/routes.ts";
import { backends } from "../../test/harness/backends.ts";
import { createEnvironment, setSettings } from "../../test/harness/fixtures.ts";
import { catalogue, EnvironmentSettings, presets, renderEnvironment, toYaml, type EnvironmentSettingsInput } from "../policies/index.ts";

/** The JSON format of GET …/rendered. */
type Rendered = ResponseBodyOf<typeof routes.rendered.route>;

describe.each(backends())("GET /v1/environments/{id}/rendered ($name)", (backend) => {
  let api: TestApi;
  // The app's clock; a test moves it forward to expire exemptions (tokens stay valid for an hour).
  let clock = new Date();
  beforeAll(async () => {
    api = await createTestApi(backend, { now: () => clock });
  });
  afterAll(() => api?.close());

  const url = (id: string, qs = "") => `/v1/environments/${id}/rendered${qs}`;
  const expected = (doc: EnvironmentSettingsInput) => renderEnvironment(EnvironmentSettings.parse(doc), clock);

  it("JSON by default: the current revision's objects and summary, exactly as the renderer makes them", async () => {
    const settings = { controls: presets.restricted.controls };
    const env = await createEnvironment(api, "acme-rj", { name: "prod", settings });
    const res = await api.request("GET", url(env.id), { token: await api.token("acme-rj", "viewer") });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    const body = await json<Rendered>(res);
    const { objects, summary } = expected(settings);
    expect(body).toEqual({ revision: 1, objects, summary });
    expect(objects.length).toBeGreaterThan(0);
    expect(body.objects[0]!.kind).toBe("ConstraintTemplate");
    expect(body.summary[0]).toBe(`${Object.keys(presets.restricted.controls).length} of ${catalogue.length} controls enabled`);
    expect(res.headers.get("etag")).toMatch(/^"1-[0-9a-f]{16}"$/);
  });

  it("follows the current revision", async () => {
    const env = await createEnvironment(api, "acme-rc", { name: "prod", settings: { controls: presets.baseline.controls } });
    const token = await api.token("acme-rc", "viewer");
    const first = await api.request("GET", url(env.id), { token });
    await setSettings(api, "acme-rc", env.id, {});
    const second = await api.request("GET", url(env.id), { token });
    const body = await json<Rendered>(second);
    expect(body).toEqual({ revision: 2, objects: [], summary: expected({}).summary });
    expect(body.summary[0]).toBe(`0 of ${catalogue.length} controls enabled`);
    expect(second.headers.get("etag")).not.toBe(first.headers.get("etag"));
  });

  it("YAML via ?format=yaml or Accept: the summary as comments, then the objects kubectl applies", async () => {
    const settings = { enforcementAction: "warn", controls: { privilegedContainers: { enabled: true }, seccomp: { enabled: true } } } as const;
    const env = await createEnvironment(api, "acme-ry", { name: "prod", settings });
    const token = await api.token("acme-ry", "viewer");
    const { objects, summary } = expected(settings);
    const want = `# revision 1\n${summary.map((l) => `# ${l}\n`).join("")}${toYaml(objects)}`;
    for (const opts of [
      { qs: "?format=yaml" },
      { headers: { accept: "application/yaml" } },
      { headers: { accept: "text/yaml;q=0.9, application/json;q=0.5" } },
    ]) {
      const res = await api.request("GET", url(env.id, opts.qs), { token, headers: opts.headers });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toBe("application/yaml; charset=utf-8");
      expect(res.headers.get("etag")).toMatch(/^"1-[0-9a-f]{16}-yaml"$/);
      const text = await res.text();
      expect(text).toBe(want);
      expect(parseAllDocuments(text).map((d) => d.toJS())).toEqual(JSON.parse(JSON.stringify(objects)));
    }
  });

  it("?format=json wins over Accept; JSON when Accept prefers it or names neither", async () => {
    const env = await createEnvironment(api, "acme-rn", { name: "prod" });
    const token = await api.token("acme-rn", "viewer");
    for (const [qs, accept] of [
      ["?format=json", "application/yaml"],
      ["", "application/json, application/yaml;q=0.5"],
      ["", "*/*"],
      ["", "text/html"],
      ["", "application/yaml;q=0, application/json;q=0.1"],
    ]) {
      const res = await api.request("GET", url(env.id, qs), { token, headers: { accept: accept! } });
      expect(res.headers.get("content-type"), `${qs} ${accept}`).toContain("application/json");
      expect(res.headers.get("vary")).toContain("Accept");
    }
  });

  it("ETag is stable per output and format; If-None-Match gives 304", async () => {
    const env = await createEnvironment(api, "acme-re", { name: "prod", settings: { controls: presets.baseline.controls } });
    const token = await api.token("acme-re", "viewer");
    const a = await api.request("GET", url(env.id), { token });
    const b = await api.request("GET", url(env.id), { token });
    const y = await api.request("GET", url(env.id, "?format=yaml"), { token });
    const etag = a.headers.get("etag")!;
    expect(b.headers.get("etag")).toBe(etag);
    expect(y.headers.get("etag")).not.toBe(etag);
    const cached = await api.request("GET", url(env.id), { token, headers: { "if-none-match": etag } });
    expect(cached.status).toBe(304);
    expect(await cached.text()).toBe("");
    const yamlCached = await api.request("GET", url(env.id, "?format=yaml"), { token, headers: { "if-none-match": `"x", ${y.headers.get("etag")}` } });
    expect(yamlCached.status).toBe(304);
    // The JSON ETag does not validate the YAML representation.
    expect((await api.request("GET", url(env.id, "?format=yaml"), { token, headers: { "if-none-match": etag } })).status).toBe(200);
  });

  it("an exemption drops out when it expires: output and ETag change without a new revision", async () => {
    clock = new Date();
    const expiresAt = new Date(clock.getTime() + 10 * 60_000).toISOString();
    const settings = {
      exemptions: { namespaces: [{ pattern: "batch-*", reason: "migration", expiresAt }] },
      controls: { privilegedContainers: { enabled: true } },
    };
    const env = await createEnvironment(api, "acme-rx", { name: "prod", settings });
    const token = await api.token("acme-rx", "viewer");
    const before = await api.request("GET", url(env.id), { token });
    const was = await json<Rendered>(before);
    expect(was.summary.join("\n")).toContain("batch-*");
    expect(JSON.stringify(was.objects)).toContain("batch-*");
    clock = new Date(clock.getTime() + 20 * 60_000);
    try {
      const after = await api.request("GET", url(env.id), { token });
      const now = await json<Rendered>(after);
      expect(now.revision).toBe(1);
      expect(now).toEqual({ revision: 1, ...expected(settings) });
      expect(JSON.stringify(now)).not.toContain("batch-*");
      expect(after.headers.get("etag")).not.toBe(before.headers.get("etag"));
    } finally {
      clock = new Date();
    }
  });
});
