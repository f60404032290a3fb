// Every route definition of the API by module, for typed test requests: `api.call(routes.tenant.route, "/v1/tenant")`
// (test/harness/api.ts). The definitions stay in their modules (src/routes/); this only names them.
export * as agentAdmissionEvents from "../../src/routes/agent-admission-events.ts";
export * as agentAuditReport from "../../src/routes/agent-audit-report.ts";
export * as agentCredentials from "../../src/routes/agent-credentials.ts";
export * as agentDesiredState from "../../src/routes/agent-desired-state.ts";
export * as agentManifest from "../../src/routes/agent-manifest.ts";
export * as agentStatus from "../../src/routes/agent-status.ts";
export * as apiKeys from "../../src/routes/api-keys.ts";
export * as auditLog from "../../src/routes/audit-log.ts";
export * as denials from "../../src/routes/denials.ts";
export * as draftsPreview from "../../src/routes/drafts-preview.ts";
export * as drafts from "../../src/routes/drafts.ts";
export * as environmentAgent from "../../src/routes/environment-agent.ts";
export * as environmentAuditReport from "../../src/routes/environment-audit-report.ts";
export * as environments from "../../src/routes/environments.ts";
export * as presets from "../../src/routes/presets.ts";
export * as rendered from "../../src/routes/rendered.ts";
export * as revisions from "../../src/routes/revisions.ts";
export * as rollouts from "../../src/routes/rollouts.ts";
export * as settings from "../../src/routes/settings.ts";
export * as tenant from "../../src/routes/tenant.ts";
export * as violations from "../../src/routes/violations.ts";
export { routes as webhooks } from "../../src/routes/webhook-routes.ts";
