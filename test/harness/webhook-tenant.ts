// The set-up of the webhook suites (src/services/webhook-delivery.test.ts, webhook-dispatcher.test.ts):
// a tenant with an environment, its agent credential, and an endpoint at a fresh real receiver
// that knows the endpoint's secret, so it verifies every signature. Per-violation delivery: these
// suites follow single violations' events (digests: webhook-digest.test.ts).
import { expect } from "vitest";
import { createAgentCredential } from "./agent-api.ts";
import { json, type TestApi } from "./api.ts";
import { createEnvironment } from "./environments.ts";
import { startReceiver } from "./webhook-receiver.ts";
import { AGENT_PATHS } from "../../src/protocol/agent.ts";
import * as routes from "./routes.ts";

export async function webhookTenant(api: TestApi, tenant: string, events: string[]) {
  const receiver = await startReceiver();
  const token = await api.token(tenant, "admin");
  const env = await createEnvironment(api, tenant, { name: "prod" });
  const cred = await createAgentCredential(api, tenant, env.id);
  const res = await api.call(routes.webhooks.create, "/v1/webhooks", { token, body: { url: receiver.url, events, deliveryMode: "per-violation" } });
  expect(res.status).toBe(201);
  const ep = await json(res);
  receiver.secret = ep.secret;
  /** Posts an audit report as the environment's agent. */
  const report = async (body: unknown) => expect((await api.request("POST", AGENT_PATHS.auditReport, { token: cred.secret, body })).status).toBe(204);
  return { receiver, token, env, cred, ep, report };
}
