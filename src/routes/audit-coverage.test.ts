// Every mutation is audited (issue 13, item 8). The mutating operations are read from the app's
// own OpenAPI document, not listed by hand: each needs an entry in CALLS (a valid call), so a new
// route without one fails here, and each call must succeed and write at least one audit row.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgentCredential, statusReport } from "../../test/harness/agent-api.ts";
import { createTestApi, json, type TestApi } from "../../test/harness/api.ts";
import type { OpenApiDocument } from "../../test/harness/openapi.ts";
import { backends } from "../../test/harness/backends.ts";
import { auditCount, createEnvironment } from "../../test/harness/environments.ts";
import { setSettings } from "../../test/harness/fixtures.ts";
import { AGENT_PATHS } from "../protocol/agent.ts";

const TENANT = "audit-cov";
const MUTATING = ["post", "put", "patch", "delete"];

interface Call {
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Defaults to an admin's JWT. */
  token?: string;
}
type Prepare = (ctx: Ctx) => Promise<Call>;
interface Ctx {
  api: TestApi;
  admin: string;
  ok: (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<{ id: string }>;
  env: () => Promise<string>;
  webhook: () => Promise<string>;
}

const control = "privilegedContainers";

/** A valid call per operation, keyed "METHOD path" as the OpenAPI document spells them. */
const CALLS: Record<string, Prepare | { exempt: string }> = {
  "POST /v1/environments": async () => ({ path: "/v1/environments", body: { name: `cov-${Math.random().toString(36).slice(2, 8)}` } }),
  "PATCH /v1/environments/{id}": async ({ env }) => ({ path: `/v1/environments/${await env()}`, body: { description: "changed" } }),
  "DELETE /v1/environments/{id}": async ({ env }) => ({ path: `/v1/environments/${await env()}` }),
  "PUT /v1/environments/{id}/settings": async ({ env }) => ({
    path: `/v1/environments/${await env()}/settings`,
    headers: { "if-match": '"1"' },
    body: { settings: {} },
  }),
  "PATCH /v1/environments/{id}/settings/controls/{control}": async ({ env }) => ({
    path: `/v1/environments/${await env()}/settings/controls/${control}`,
    body: { enabled: true, enforcementAction: "warn" },
  }),
  "POST /v1/environments/{id}/settings/preset": async ({ env }) => ({
    path: `/v1/environments/${await env()}/settings/preset`,
    body: { preset: "restricted" },
  }),
  "POST /v1/environments/{id}/settings/revisions/{revision}/rollback": async ({ env, ok }) => {
    const id = await env();
    await ok("PATCH", `/v1/environments/${id}/settings/controls/${control}`, { enabled: true });
    return { path: `/v1/environments/${id}/settings/revisions/1/rollback` };
  },
  "POST /v1/api-keys": async () => ({ path: "/v1/api-keys", body: { name: "cov", role: "viewer" } }),
  "DELETE /v1/api-keys/{id}": async ({ ok }) => ({ path: `/v1/api-keys/${(await ok("POST", "/v1/api-keys", { name: "gone", role: "viewer" })).id}` }),
  "POST /v1/api-keys/{id}/rotate": async ({ ok }) => ({
    path: `/v1/api-keys/${(await ok("POST", "/v1/api-keys", { name: "turn", role: "viewer" })).id}/rotate`,
  }),
  "POST /v1/environments/{id}/agent-credentials": async ({ env }) => ({ path: `/v1/environments/${await env()}/agent-credentials` }),
  "DELETE /v1/environments/{id}/agent-credentials/{credId}": async ({ api, env }) => {
    const id = await env();
    return { path: `/v1/environments/${id}/agent-credentials/${(await createAgentCredential(api, TENANT, id)).id}` };
  },
  "POST /v1/environments/{id}/agent-credentials/{credId}/rotate": async ({ api, env }) => {
    const id = await env();
    return { path: `/v1/environments/${id}/agent-credentials/${(await createAgentCredential(api, TENANT, id)).id}/rotate` };
  },
  "POST /v1/webhooks": async () => ({ path: "/v1/webhooks", body: { url: "http://127.0.0.1:9/hook", events: ["violation.opened"] } }),
  "PATCH /v1/webhooks/{id}": async ({ webhook }) => ({ path: `/v1/webhooks/${await webhook()}`, body: { description: "changed" } }),
  "DELETE /v1/webhooks/{id}": async ({ webhook }) => ({ path: `/v1/webhooks/${await webhook()}` }),
  "POST /v1/webhooks/{id}/rotate-secret": async ({ webhook }) => ({ path: `/v1/webhooks/${await webhook()}/rotate-secret` }),
  "POST /v1/webhooks/{id}/ping": async ({ webhook }) => ({ path: `/v1/webhooks/${await webhook()}/ping` }),
  "POST /v1/webhooks/{id}/deliveries/{deliveryId}/redeliver": async ({ webhook, ok }) => {
    const id = await webhook();
    const delivery = await ok("POST", `/v1/webhooks/${id}/ping`);
    return { path: `/v1/webhooks/${id}/deliveries/${delivery.id}/redeliver` };
  },
  "POST /v1/environments/{id}/drafts": async ({ env }) => ({ path: `/v1/environments/${await env()}/drafts`, body: { preset: "restricted" } }),
  "PATCH /v1/environments/{id}/drafts/{draftId}": async ({ env, ok }) => {
    const id = await env();
    return {
      path: `/v1/environments/${id}/drafts/${(await ok("POST", `/v1/environments/${id}/drafts`, { preset: "baseline" })).id}`,
      body: { preset: "restricted" },
    };
  },
  "DELETE /v1/environments/{id}/drafts/{draftId}": async ({ env, ok }) => {
    const id = await env();
    return { path: `/v1/environments/${id}/drafts/${(await ok("POST", `/v1/environments/${id}/drafts`, { preset: "baseline" })).id}` };
  },
  "POST /v1/environments/{id}/drafts/{draftId}/promote": async ({ env, ok }) => {
    const id = await env();
    const draft = await ok("POST", `/v1/environments/${id}/drafts`, { preset: "restricted" });
    return { path: `/v1/environments/${id}/drafts/${draft.id}/promote`, headers: { "if-match": '"1"' } };
  },
  "POST /v1/environments/{id}/rollouts": async ({ api, env }) => {
    const id = await env();
    await setSettings(api, TENANT, id, { controls: { [control]: { enabled: true, enforcementAction: "dryrun" } } });
    return { path: `/v1/environments/${id}/rollouts`, body: { control, steps: [{ to: "warn", when: { manual: true } }] } };
  },
  "POST /v1/environments/{id}/rollouts/{planId}/cancel": async ({ api, env, ok }) => {
    const id = await env();
    await setSettings(api, TENANT, id, { controls: { [control]: { enabled: true, enforcementAction: "dryrun" } } });
    const plan = await ok("POST", `/v1/environments/${id}/rollouts`, { control, steps: [{ to: "warn", when: { manual: true } }] });
    return { path: `/v1/environments/${id}/rollouts/${plan.id}/cancel` };
  },
  "POST /v1/environments/{id}/rollouts/{planId}/advance": async ({ api, env, ok }) => {
    const id = await env();
    await setSettings(api, TENANT, id, { controls: { [control]: { enabled: true, enforcementAction: "dryrun" } } });
    const plan = await ok("POST", `/v1/environments/${id}/rollouts`, { control, steps: [{ to: "warn", when: { manual: true } }] });
    return { path: `/v1/environments/${id}/rollouts/${plan.id}/advance` };
  },
  [`POST ${AGENT_PATHS.status}`]: async ({ api, env }) => {
    const cred = await createAgentCredential(api, TENANT, await env());
    return { path: AGENT_PATHS.status, token: cred.secret, body: statusReport({ appliedRevision: 1, desiredRevision: 1 }) };
  },
  // The agent's telemetry, not a change anyone made: each report is itself the record (stored as
  // the environment's latest, diffed into the violation history with opened/resolved events), and
  // a row per report (every audit interval, per cluster) would bury the people's changes.
  [`POST ${AGENT_PATHS.auditReport}`]: { exempt: "the report is stored as its own record (audit_reports, violation history)" },
  // Gatekeeper's admission decisions, likewise: each is counted into the denial history, which is
  // itself the record (who asked, when, how often).
  [`POST ${AGENT_PATHS.admissionEvents}`]: { exempt: "the events are the denial history's own record (denials)" },
};

describe.each(backends())("every mutation is audited ($name)", (backend) => {
  let api: TestApi;
  let ops: { method: string; path: string }[];
  beforeAll(async () => {
    api = await createTestApi(backend, { webhooks: { allowHttp: true, allowPrivate: true } });
    const doc = await json<OpenApiDocument>(await api.request("GET", "/openapi.json"));
    ops = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((m) => MUTATING.includes(m))
        .map((m) => ({ method: m.toUpperCase(), path })),
    );
  });
  afterAll(() => api?.close());

  it("the OpenAPI document lists mutating operations, and every one has an entry here", () => {
    expect(ops.length).toBeGreaterThan(15);
    const missing = ops.map((o) => `${o.method} ${o.path}`).filter((k) => !(k in CALLS));
    expect(missing, "operations without an entry in CALLS: add a valid call (and make sure the route audits)").toEqual([]);
    const stale = Object.keys(CALLS).filter((k) => !ops.some((o) => `${o.method} ${o.path}` === k));
    expect(stale, "entries for operations the document no longer has").toEqual([]);
  });

  it("each operation, called validly, succeeds and writes at least one audit row", async () => {
    const admin = await api.token(TENANT, "admin");
    const ok = async (method: string, path: string, body?: unknown, headers?: Record<string, string>) => {
      const res = await api.request(method, path, { token: admin, body, headers });
      const text = await res.text();
      expect(res.status, `${method} ${path}: ${text}`).toBeLessThan(300);
      return text ? JSON.parse(text) : undefined;
    };
    const ctx: Ctx = {
      api,
      admin,
      ok,
      env: async () => (await createEnvironment(api, TENANT)).id,
      webhook: async () => (await ok("POST", "/v1/webhooks", { url: "http://127.0.0.1:9/hook", events: ["violation.opened"] })).id,
    };
    const unaudited: string[] = [];
    for (const { method, path } of ops) {
      const entry = CALLS[`${method} ${path}`];
      if (!entry || "exempt" in entry) continue;
      const call = await entry(ctx);
      const before = await auditCount(api, TENANT);
      const res = await api.request(method, call.path, { token: call.token ?? admin, body: call.body, headers: call.headers });
      expect(res.status, `${method} ${path}: ${await res.clone().text()}`).toBeGreaterThanOrEqual(200);
      expect(res.status, `${method} ${path}: ${await res.clone().text()}`).toBeLessThan(300);
      if ((await auditCount(api, TENANT)) <= before) unaudited.push(`${method} ${path}`);
    }
    expect(unaudited, "mutations that wrote no audit row").toEqual([]);
  });
});
