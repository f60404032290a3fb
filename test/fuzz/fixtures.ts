// The world the fuzz suite's requests act on: one tenant with two environments (one with an agent
// that has reported status and an audit report, so violations exist), agent credentials, an API
// key, a webhook endpoint with deliveries, and an environment of another tenant. The ids feed the
// path parameters, so requests reach real rows (and other tenants' rows) as well as random ones.
import { expect } from "vitest";
import { auditReport, constraintAudit, createAgentCredential, statusReport, violation } from "../harness/agent-api.ts";
import type { TestApi } from "../harness/api.ts";
import { createEnvironment } from "../harness/environments.ts";
import { AGENT_PATHS } from "../../src/protocol/agent.ts";
import type { Role } from "../../src/app/env.ts";

export const TENANT = "fuzz";
export const OTHER_TENANT = "fuzz-other";

export interface FuzzWorld {
  tokens: Record<Role, string>;
  /** The agent of `agentEnvironmentId`; no fuzzed path names its credential, so it stays valid. */
  agent: string;
  /** Ids of real rows, this tenant's and another's, for any uuid path parameter. */
  ids: string[];
  /** The same, by the collection a path names them under (`/v1/webhooks/{id}` → "webhooks"). */
  idsOf: Record<string, string[]>;
  revisions: number[];
}

async function ok(res: Response, status: number): Promise<Record<string, unknown>> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

export async function buildWorld(api: TestApi): Promise<FuzzWorld> {
  const tokens = { admin: await api.token(TENANT, "admin"), editor: await api.token(TENANT, "editor"), viewer: await api.token(TENANT, "viewer") };
  const admin = tokens.admin;
  const main = await createEnvironment(api, TENANT, { name: "fuzz-main", description: "the agent's", labels: { tier: "prod" } });
  const other = await createEnvironment(api, TENANT, { name: "fuzz-other" });
  const foreign = await createEnvironment(api, OTHER_TENANT, { name: "foreign" });
  const agentCred = await createAgentCredential(api, TENANT, main.id);
  const victimCred = await createAgentCredential(api, TENANT, other.id);
  await ok(
    await api.request("PUT", `/v1/environments/${main.id}/settings`, {
      token: admin,
      headers: { "if-match": '"1"' },
      body: { settings: { controls: { privilegedContainers: { enforcementAction: "deny" } } } },
    }),
    200,
  );
  const key = await ok(await api.request("POST", "/v1/api-keys", { token: admin, body: { name: "fuzz key", role: "viewer" } }), 201);
  const hook = await ok(
    await api.request("POST", "/v1/webhooks", {
      token: admin,
      body: { url: "https://hooks.example.com/fuzz", events: ["violation.opened", "violation.resolved"] },
    }),
    201,
  );
  await ok(await api.request("POST", AGENT_PATHS.status, { token: agentCred.secret, body: statusReport({ appliedRevision: 2, desiredRevision: 2 }) }), 204);
  const report = auditReport({ constraints: [{ ...constraintAudit({}, 0), violations: [violation(1), violation(2)] }] });
  await ok(await api.request("POST", AGENT_PATHS.auditReport, { token: agentCred.secret, body: report }), 204);
  await ok(await api.request("POST", `/v1/webhooks/${hook.id}/ping`, { token: admin }), 202);
  const violations = (await ok(await api.request("GET", "/v1/violations", { token: admin }), 200)).items as { id: string }[];
  const deliveries = (await ok(await api.request("GET", `/v1/webhooks/${hook.id}/deliveries`, { token: admin }), 200)).items as { id: string }[];
  expect(violations.length).toBeGreaterThan(0);
  expect(deliveries.length).toBeGreaterThan(0);
  const idsOf = {
    environments: [main.id, other.id, foreign.id],
    "agent-credentials": [victimCred.id],
    "api-keys": [String(key.id)],
    webhooks: [String(hook.id)],
    violations: violations.map((v) => v.id),
    deliveries: deliveries.map((d) => d.id),
  };
  return {
    tokens,
    agent: agentCred.secret,
    ids: Object.values(idsOf).flat(),
    idsOf,
    revisions: [0, 1, 2, 3],
  };
}
