// GET /agent/v1/desired-state: the round trip an agent makes — an admin creates the environment
// and its credential through the user API; the agent fetches exactly the rendered objects.
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgentCredential, credentialRow } from "../../test/harness/agent-api.ts";
import { createTestApi, json, type TestApi } from "../../test/harness/api.ts";
import type { OpenApiDocument } from "../../test/harness/openapi.ts";
import { backend as namedBackend, backends } from "../../test/harness/backends.ts";
import { createEnvironment } from "../../test/harness/environments.ts";
import { environments } from "../db/schema.ts";
import { EnvironmentSettings, presets, renderEnvironment, type EnvironmentSettingsInput } from "../policies/index.ts";
import { AGENT_PATHS, DesiredState, FIELD_MANAGER } from "../protocol/agent.ts";
import * as routes from "../../test/harness/routes.ts";

const URL = AGENT_PATHS.desiredState;

describe.each(backends())("GET /agent/v1/desired-state ($name)", (backend) => {
  let api: TestApi;
  // The app's clock; tests move it forward (tokens stay valid for an hour).
  let clock = new Date();
  beforeAll(async () => {
    api = await createTestApi(backend, { now: () => clock });
  });
  afterAll(() => api?.close());

  const render = (doc: EnvironmentSettingsInput) => renderEnvironment(EnvironmentSettings.parse(doc), clock).objects;

  it("an admin's environment and credential → the agent gets its rendered objects, poll interval and field manager", async () => {
    const t = "ads-round";
    const settings = { enforcementAction: "warn", controls: presets.baseline.controls } as const;
    const env = await createEnvironment(api, t, { name: "prod-eu", settings });
    const cred = await createAgentCredential(api, t, env.id);
    const res = await api.call(routes.agentDesiredState.route, URL, { token: cred.secret });
    expect(res.status, await res.clone().text()).toBe(200);
    const body = await json(res);
    expect(body).toEqual({
      environmentId: env.id,
      environmentName: "prod-eu",
      revision: 1,
      objects: render(settings),
      agent: { pollIntervalSeconds: 30, fieldManager: FIELD_MANAGER },
    });
    expect(body.objects.length).toBeGreaterThan(0);
    // The shared contract parses it, and the user's preview shows the same objects.
    expect(DesiredState.parse(body)).toEqual(body);
    const rendered = await json(await api.call(routes.rendered.route, `/v1/environments/${env.id}/rendered`, { token: await api.token(t, "viewer") }));
    expect(body.objects).toEqual(rendered.objects);
    expect(res.headers.get("etag")).toMatch(/^"1-[0-9a-f]{16}"$/);
  });

  it("ETag: If-None-Match → 304 while unchanged; a settings change, a rename → 200 with a new ETag", async () => {
    const t = "ads-etag";
    const env = await createEnvironment(api, t, { name: "prod", settings: { controls: presets.restricted.controls } });
    const { secret } = await createAgentCredential(api, t, env.id);
    const admin = await api.token(t, "admin");
    const first = await api.request("GET", URL, { token: secret });
    const etag = first.headers.get("etag")!;
    for (const inm of [etag, `W/${etag}`, `"0-0000000000000000", ${etag}`, "*"]) {
      const res = await api.request("GET", URL, { token: secret, headers: { "if-none-match": inm } });
      expect(res.status, inm).toBe(304);
      expect(await res.text()).toBe("");
      expect(res.headers.get("etag")).toBe(etag);
    }
    // The user changes a control: revision 2.
    const patched = await api.request("PATCH", `/v1/environments/${env.id}/settings/controls/privilegedContainers`, {
      token: admin,
      body: { enforcementAction: "dryrun" },
    });
    expect(patched.status, await patched.text()).toBe(200);
    const second = await api.call(routes.agentDesiredState.route, URL, { token: secret, headers: { "if-none-match": etag } });
    expect(second.status).toBe(200);
    const body = await json(second);
    expect(body.revision).toBe(2);
    expect(
      (
        body.objects.find((o) => o.kind !== "ConstraintTemplate" && o.metadata.name === "privileged-containers")?.spec as
          | { enforcementAction?: string }
          | undefined
      )?.enforcementAction,
    ).toBe("dryrun");
    const etag2 = second.headers.get("etag")!;
    expect(etag2).toMatch(/^"2-/);
    // Renaming changes the body (environmentName) at the same revision.
    expect((await api.request("PATCH", `/v1/environments/${env.id}`, { token: admin, body: { name: "production" } })).status).toBe(200);
    const third = await api.call(routes.agentDesiredState.route, URL, { token: secret, headers: { "if-none-match": etag2 } });
    expect(third.status).toBe(200);
    expect((await json(third)).environmentName).toBe("production");
    expect(third.headers.get("etag")).not.toBe(etag2);
  });

  it("an exemption expiring changes the objects and the ETag at the same revision", async () => {
    const t = "ads-expiry";
    const start = clock;
    const expiresAt = new Date(start.getTime() + 10 * 60_000).toISOString();
    const settings = { controls: { privilegedContainers: { exemptions: { namespaces: [{ pattern: "legacy-*", expiresAt }] } } } };
    const env = await createEnvironment(api, t, { name: "prod", settings });
    const { secret } = await createAgentCredential(api, t, env.id);
    try {
      const before = await api.call(routes.agentDesiredState.route, URL, { token: secret });
      const etag = before.headers.get("etag")!;
      expect(JSON.stringify((await json(before)).objects)).toContain("legacy-*");
      clock = new Date(start.getTime() + 20 * 60_000);
      const after = await api.call(routes.agentDesiredState.route, URL, { token: secret, headers: { "if-none-match": etag } });
      expect(after.status).toBe(200);
      const body = await json(after);
      expect(body.revision).toBe(1);
      expect(body.objects).toEqual(render(settings));
      expect(JSON.stringify(body.objects)).not.toContain("legacy-*");
      expect(after.headers.get("etag")).toMatch(/^"1-/);
      expect(after.headers.get("etag")).not.toBe(etag);
    } finally {
      clock = start;
    }
  });

  it("an environment without settings: revision 0 and no objects (everything managed is pruned)", async () => {
    const t = "ads-empty";
    const env = await createEnvironment(api, t, { name: "prod" });
    const { secret } = await createAgentCredential(api, t, env.id);
    // Only possible below the API (it always writes revision 1): the renderer's "nothing" case.
    await api.db.asSystem((tx) => tx.update(environments).set({ currentRevision: 0 }).where(eq(environments.id, env.id)));
    const body = await json(await api.call(routes.agentDesiredState.route, URL, { token: secret }));
    expect(body).toEqual({
      environmentId: env.id,
      environmentName: "prod",
      revision: 0,
      objects: [],
      agent: { pollIntervalSeconds: 30, fieldManager: FIELD_MANAGER },
    });
  });

  it("the poll interval comes from AGENT_POLL_INTERVAL_SECONDS", async () => {
    // A backend of its own: closing it must not close the suite's database.
    const other = await createTestApi(namedBackend(backend.name), { agent: { pollIntervalSeconds: 7 } });
    try {
      const env = await createEnvironment(other, "ads-poll", { name: "prod" });
      const { secret } = await createAgentCredential(other, "ads-poll", env.id);
      expect((await json(await other.call(routes.agentDesiredState.route, URL, { token: secret }))).agent).toEqual({
        pollIntervalSeconds: 7,
        fieldManager: FIELD_MANAGER,
      });
    } finally {
      await other.close();
    }
  });

  it("records the credential's last use at most once in ten minutes, visible to the admin", async () => {
    const t = "ads-touch";
    const start = clock;
    const env = await createEnvironment(api, t, { name: "prod" });
    const cred = await createAgentCredential(api, t, env.id);
    expect((await credentialRow(api, cred.id))?.lastUsedAt).toBeNull();
    try {
      await api.request("GET", URL, { token: cred.secret });
      expect((await credentialRow(api, cred.id))?.lastUsedAt?.toISOString()).toBe(start.toISOString());
      clock = new Date(start.getTime() + 599_000);
      await api.request("GET", URL, { token: cred.secret });
      expect((await credentialRow(api, cred.id))?.lastUsedAt?.toISOString()).toBe(start.toISOString());
      clock = new Date(start.getTime() + 601_000);
      await api.request("GET", URL, { token: cred.secret });
      expect((await credentialRow(api, cred.id))?.lastUsedAt?.toISOString()).toBe(clock.toISOString());
      const listed = await json(
        await api.call(routes.agentCredentials.list, `/v1/environments/${env.id}/agent-credentials`, { token: await api.token(t, "admin") }),
      );
      expect(listed.items[0]).toMatchObject({ id: cred.id, lastUsedAt: clock.toISOString() });
    } finally {
      clock = start;
    }
  });

  it("is documented in the OpenAPI document under the agent credential scheme", async () => {
    const doc = await json<OpenApiDocument>(await api.request("GET", "/openapi.json"));
    for (const [path, method] of [
      [AGENT_PATHS.desiredState, "get"],
      [AGENT_PATHS.status, "post"],
      [AGENT_PATHS.auditReport, "post"],
    ] as const) {
      expect(doc.paths[path][method].security, path).toEqual([{ agentCredential: [] }]);
    }
    expect(doc.components.securitySchemes.agentCredential).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.components.schemas).toHaveProperty("DesiredState");
    expect(doc.components.schemas).toHaveProperty("AgentStatusReport");
    expect(doc.components.schemas).toHaveProperty("AuditReport");
  });
});
