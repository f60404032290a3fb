// /v1/environments: create, list, read, update and delete, as the tenant's own callers.
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { createTestApi, json, type TestApi } from "../../test/harness/api.ts";
import { backends } from "../../test/harness/backends.ts";
import { agentRows, auditReport, createAgentCredential, statusReport } from "../../test/harness/agent-api.ts";
import { auditRows, createEnvironment, environmentRow, revisionNumbers, uniqueName, withoutAgent, type EnvJson } from "../../test/harness/environments.ts";
import { agentCredentials } from "../db/schema.ts";
import { applyPreset, EnvironmentSettings } from "../policies/index.ts";
import * as routes from "../../test/harness/routes.ts";

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

describe.each(backends())("/v1/environments ($name)", (backend) => {
  let api: TestApi;
  // The app's clock: real time unless a test pins it (tokens stay valid: they last an hour).
  let pinned: Date | undefined;
  beforeAll(async () => {
    api = await createTestApi(backend, { now: () => pinned ?? new Date() });
  });
  afterAll(() => api?.close());

  it("POST creates the environment with settings revision 1, a Location and an audit row", async () => {
    const t = "acme-create";
    const name = uniqueName("prod");
    const res = await api.request("POST", "/v1/environments", {
      token: await api.token(t, "admin", { sub: "alice" }),
      body: { name, description: "Production, EU", labels: { tier: "prod", "example.com/team": "payments" }, comment: "first cut" },
    });
    expect(res.status).toBe(201);
    const env = await json<EnvJson>(res);
    expect(env).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name,
      description: "Production, EU",
      labels: { tier: "prod", "example.com/team": "payments" },
      currentRevision: 1,
      createdAt: expect.stringMatching(ISO),
      updatedAt: expect.stringMatching(ISO),
      agent: { state: "never_connected", lastSeenAt: null, appliedRevision: null, inSync: false, degradedReasons: [], gatekeeper: null },
    });
    expect(res.headers.get("location")).toBe(`/v1/environments/${env.id}`);
    expect(await revisionNumbers(api, env.id)).toEqual([1]);
    // An empty document is stored normalised: defaults filled, no control enabled.
    const settings = await json(await api.call(routes.settings.getSettings, `/v1/environments/${env.id}/settings`, { token: await api.token(t, "viewer") }));
    expect(settings).toMatchObject({ revision: 1, author: "alice", comment: "first cut", settings: EnvironmentSettings.parse({}) });
    const [entry] = await auditRows(api, t);
    expect(entry).toMatchObject({ actor: "alice", action: "environment.create", targetType: "environment", targetId: env.id, before: null });
    // The audit log records the environment's fields, not its agent's (volatile) state.
    expect(entry!.after).toEqual({ ...withoutAgent(env), settings: EnvironmentSettings.parse({}) });
  });

  it("POST with a preset replaces the controls and keeps the environment-wide knobs", async () => {
    const t = "acme-preset";
    const env = await createEnvironment(api, t, { preset: "restricted", settings: { enforcementAction: "warn" } });
    const res = await api.call(routes.settings.getSettings, `/v1/environments/${env.id}/settings`, { token: await api.token(t, "viewer") });
    const { settings } = await json(res);
    expect(settings).toEqual(EnvironmentSettings.parse(applyPreset({ enforcementAction: "warn" }, "restricted")));
    expect(settings.enforcementAction).toBe("warn");
    expect(settings.controls.privilegeEscalation!.enabled).toBe(true);
  });

  it("POST stores a given document normalised (defaults filled, options canonical)", async () => {
    const t = "acme-doc";
    const env = await createEnvironment(api, t, { settings: { controls: { capabilities: { options: { allowedAdd: ["net_bind_service"] } } } } });
    const { settings } = await json(
      await api.call(routes.settings.getSettings, `/v1/environments/${env.id}/settings`, { token: await api.token(t, "viewer") }),
    );
    expect(settings.controls.capabilities).toMatchObject({ enabled: true, options: { allowedAdd: ["NET_BIND_SERVICE"], requiredDrop: [] } });
  });

  it("an admin API key can create; the key is the recorded author", async () => {
    const t = "acme-key";
    const key = await api.apiKey(t, "admin");
    const res = await api.request("POST", "/v1/environments", { token: key, body: { name: uniqueName() } });
    expect(res.status).toBe(201);
    const env = await json<EnvJson>(res);
    const { author } = await json(await api.call(routes.settings.getSettings, `/v1/environments/${env.id}/settings`, { token: key }));
    expect(author).toMatch(/^apikey:/);
  });

  it("GET /:id returns the environment to every role", async () => {
    const t = "acme-get";
    const env = await createEnvironment(api, t, { labels: { a: "b" } });
    for (const role of ["viewer", "editor", "admin"] as const) {
      const res = await api.call(routes.environments.getEnv, `/v1/environments/${env.id}`, { token: await api.token(t, role) });
      expect(res.status).toBe(200);
      expect(await json(res)).toEqual(env);
    }
  });

  it("GET lists by name with cursor pagination", async () => {
    const t = "acme-list";
    const names = ["delta", "alpha", "echo", "charlie", "bravo"];
    for (const name of names) await createEnvironment(api, t, { name });
    const token = await api.token(t, "viewer");
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const q: string = cursor ? `?limit=2&cursor=${cursor}` : "?limit=2";
      const res = await api.request("GET", `/v1/environments${q}`, { token });
      expect(res.status).toBe(200);
      const page = await json<{ items: EnvJson[]; nextCursor: string | null }>(res);
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((e) => e.name));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(seen).toEqual([...names].sort());
    expect(pages).toBe(3);
    // Default limit: everything on one page, no cursor.
    const all = await json(await api.call(routes.environments.listEnvs, "/v1/environments", { token }));
    expect(all.items.map((e: EnvJson) => e.name)).toEqual([...names].sort());
    expect(all.nextCursor).toBeNull();
    expect(all.items[0]).toMatchObject({ currentRevision: 1, description: "", labels: {} });
  });

  it("GET filters by label; repeated filters must all match", async () => {
    const t = "acme-labels";
    await createEnvironment(api, t, { name: "one", labels: { tier: "prod", region: "eu" } });
    await createEnvironment(api, t, { name: "two", labels: { tier: "prod", region: "us" } });
    await createEnvironment(api, t, { name: "three", labels: { tier: "dev" } });
    const token = await api.token(t, "viewer");
    const names = async (q: string) =>
      (await json(await api.call(routes.environments.listEnvs, `/v1/environments?${q}`, { token }))).items.map((e: EnvJson) => e.name);
    expect(await names("label=tier=prod")).toEqual(["one", "two"]);
    expect(await names("label=tier=prod&label=region=eu")).toEqual(["one"]);
    expect(await names("label=tier=staging")).toEqual([]);
    expect(await names(`label=${encodeURIComponent("tier=dev")}`)).toEqual(["three"]);
  });

  it("PATCH renames, describes and relabels; audits before and after", async () => {
    const t = "acme-patch";
    const env = await createEnvironment(api, t, { labels: { tier: "dev" } });
    const name = uniqueName("renamed");
    const res = await api.request("PATCH", `/v1/environments/${env.id}`, {
      token: await api.token(t, "admin", { sub: "ana" }),
      body: { name, description: "now prod", labels: { tier: "prod" } },
    });
    expect(res.status).toBe(200);
    const after = await json<EnvJson>(res);
    expect(after).toMatchObject({ id: env.id, name, description: "now prod", labels: { tier: "prod" }, currentRevision: 1, createdAt: env.createdAt });
    expect(Date.parse(after.updatedAt)).toBeGreaterThanOrEqual(Date.parse(env.updatedAt));
    const entry = (await auditRows(api, t)).at(-1)!;
    expect(entry).toMatchObject({ actor: "ana", action: "environment.update", targetId: env.id, before: withoutAgent(env), after: withoutAgent(after) });
    expect(entry.after).not.toHaveProperty("agent");
    // A single field leaves the others alone.
    const again = await json(
      await api.call(routes.environments.updateEnv, `/v1/environments/${env.id}`, { token: await api.token(t, "admin"), body: { description: "" } }),
    );
    expect(again).toMatchObject({ name, description: "", labels: { tier: "prod" } });
    // Renaming to its own name is not a conflict.
    expect((await api.request("PATCH", `/v1/environments/${env.id}`, { token: await api.token(t, "admin"), body: { name } })).status).toBe(200);
  });

  it("every environment carries its agent's summary, in GET, list and PATCH alike", async () => {
    const t = "acme-agent";
    const start = new Date();
    pinned = start;
    onTestFinished(() => {
      pinned = undefined;
    });
    const env = await createEnvironment(api, t, { name: "watched" });
    const quiet = await createEnvironment(api, t, { name: "zz-quiet" });
    const viewer = await api.token(t, "viewer");
    const admin = await api.token(t, "admin");
    const summaries = async () => {
      const one = (await json<EnvJson>(await api.request("GET", `/v1/environments/${env.id}`, { token: viewer }))).agent;
      const list = (await json<{ items: EnvJson[] }>(await api.request("GET", "/v1/environments", { token: viewer }))).items;
      expect(list.map((e) => e.name)).toEqual(["watched", "zz-quiet"]);
      expect(list[0]!.agent).toEqual(one);
      expect(list[1]!.agent).toEqual({
        state: "never_connected",
        lastSeenAt: null,
        appliedRevision: null,
        inSync: false,
        degradedReasons: [],
        gatekeeper: null,
      });
      return one;
    };
    expect(await summaries()).toEqual({
      state: "never_connected",
      lastSeenAt: null,
      appliedRevision: null,
      inSync: false,
      degradedReasons: [],
      gatekeeper: null,
    });

    const cred = await createAgentCredential(api, t, env.id);
    const sent = await api.request("POST", "/agent/v1/status", { token: cred.secret, body: statusReport({ appliedRevision: 1 }) });
    expect(sent.status, await sent.text()).toBe(204);
    const online = await summaries();
    expect(online).toEqual({
      state: "online",
      lastSeenAt: start.toISOString(),
      appliedRevision: 1,
      inSync: true,
      degradedReasons: [],
      gatekeeper: { installed: true, version: "v3.23.0" },
    });
    const patched = await json<EnvJson>(await api.request("PATCH", `/v1/environments/${env.id}`, { token: admin, body: { description: "x" } }));
    expect(patched.agent).toEqual(online);

    // A new revision the agent has not applied yet: still online, no longer in sync.
    const put = await api.request("PUT", `/v1/environments/${env.id}/settings`, { token: admin, headers: { "if-match": '"1"' }, body: { settings: {} } });
    expect(put.status, await put.text()).toBe(200);
    expect(await summaries()).toEqual({ ...online, inSync: false });

    // Offline once more than 3 poll intervals (30 s) passed since the last report.
    pinned = new Date(start.getTime() + 90_000);
    expect((await summaries()).state).toBe("online");
    pinned = new Date(start.getTime() + 90_001);
    expect(await summaries()).toEqual({ ...online, state: "offline", inSync: false });
    expect(quiet.agent.state).toBe("never_connected");
  });

  it("DELETE removes the environment, its revisions, agent credentials, agent status and audit report; audits the before", async () => {
    const t = "acme-delete";
    const env = await createEnvironment(api, t);
    const cred = await createAgentCredential(api, t, env.id);
    expect((await api.request("POST", "/agent/v1/status", { token: cred.secret, body: statusReport() })).status).toBe(204);
    expect((await api.request("POST", "/agent/v1/audit-report", { token: cred.secret, body: auditReport() })).status).toBe(204);
    expect(await agentRows(api, env.id)).toMatchObject({ status: expect.any(Object), report: expect.any(Object) });
    const token = await api.token(t, "admin", { sub: "dora" });
    const res = await api.request("DELETE", `/v1/environments/${env.id}`, { token });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    expect((await api.request("GET", `/v1/environments/${env.id}`, { token })).status).toBe(404);
    expect(await environmentRow(api, env.id)).toBeUndefined();
    expect(await revisionNumbers(api, env.id)).toEqual([]);
    const creds = await api.db.asSystem((tx) => tx.select().from(agentCredentials));
    expect(creds.filter((c) => c.environmentId === env.id)).toEqual([]);
    expect(await agentRows(api, env.id)).toMatchObject({ status: undefined, report: undefined });
    // The credential died with it.
    expect((await api.request("GET", "/agent/v1/desired-state", { token: cred.secret })).status).toBe(401);
    const entry = (await auditRows(api, t)).at(-1)!;
    expect(entry).toMatchObject({ actor: "dora", action: "environment.delete", targetId: env.id, before: withoutAgent(env), after: null });
    // The name is free again.
    expect((await api.request("POST", "/v1/environments", { token, body: { name: env.name } })).status).toBe(201);
  });
});
