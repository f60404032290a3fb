// Fixtures for the agent protocol's route tests: agent credentials made through the user API (as
// an admin would), valid status and audit reports, and the rows the agent routes write.
import { eq } from "drizzle-orm";
import { expect } from "vitest";
import { generateCredential, parseCredential } from "../../src/app/credentials.ts";
import { ROLES } from "../../src/app/env.ts";
import type { Database } from "../../src/db/client.ts";
import { gunzipJson } from "../../src/db/gzip-json.ts";
import { agentCredentials, agentStatus, auditLog, auditReports, environments } from "../../src/db/schema.ts";
import type { AgentStatusReport, AuditReport, AuditViolation, ConstraintAudit } from "../../src/protocol/agent.ts";
import type { AdmissionEvent } from "../../src/protocol/admission.ts";
import type { TestApi } from "./api.ts";
import type { TestBackend } from "./backends.ts";
import { otherKey, userToken } from "./tokens.ts";

export interface AgentCredentialJson {
  id: string;
  environmentId: string;
  prefix: string;
  /** The gha_ token. */
  secret: string;
}

/** POST /v1/environments/{id}/agent-credentials as the tenant's admin; fails the test unless 201. */
export async function createAgentCredential(api: TestApi, tenant: string, environmentId: string): Promise<AgentCredentialJson> {
  const res = await api.request("POST", `/v1/environments/${environmentId}/agent-credentials`, { token: await api.token(tenant, "admin") });
  const text = await res.text();
  expect(res.status, text).toBe(201);
  return JSON.parse(text) as AgentCredentialJson;
}

/** A complete, valid status report: a healthy agent that applied `appliedRevision`. */
export function statusReport(overrides: Partial<AgentStatusReport> = {}): AgentStatusReport {
  return {
    agentVersion: "0.1.0",
    kubernetesVersion: "v1.36.0",
    gatekeeper: { installed: true, version: "v3.23.0" },
    appliedRevision: 1,
    desiredRevision: 1,
    lastSuccessfulSyncAt: "2030-01-01T00:00:00.000Z",
    error: null,
    objects: [{ apiVersion: "templates.gatekeeper.sh/v1", kind: "ConstraintTemplate", name: "gatehouseprivilegedcontainers", result: "applied" }],
    templates: [{ name: "gatehouseprivilegedcontainers", created: true, crdEstablished: true, errors: [] }],
    ...overrides,
  };
}

export function violation(i: number, overrides: Partial<AuditViolation> = {}): AuditViolation {
  return {
    group: "",
    version: "v1",
    kind: "Pod",
    namespace: `team-${i % 7}`,
    name: `pod-${i}`,
    message: `pod team-${i % 7}/pod-${i}: container "app" (containers[0]): securityContext.privileged is true; privileged containers are not allowed.`,
    enforcementAction: "deny",
    ...overrides,
  };
}

export function constraintAudit(overrides: Partial<ConstraintAudit> = {}, violations = 2): ConstraintAudit {
  const listed = Array.from({ length: violations }, (_, i) => violation(i));
  return {
    kind: "GatehousePrivilegedContainers",
    name: "privileged-containers",
    control: "privileged-containers",
    enforcementAction: "deny",
    auditTimestamp: "2026-01-01T00:00:00Z",
    totalViolations: violations,
    truncated: false,
    violations: listed,
    ...overrides,
  };
}

/** A valid audit report: by default one deny constraint with 2 violations and one warn with 3. */
export function auditReport(overrides: Partial<AuditReport> = {}): AuditReport {
  return {
    collectedAt: "2026-01-01T00:00:30.000Z",
    constraints: [
      constraintAudit(),
      constraintAudit({ kind: "GatehouseCapabilities", name: "capabilities", control: "capabilities", enforcementAction: "warn" }, 3),
    ],
    ...overrides,
  };
}

/** Every agent route, with a valid body for the POSTs. */
/** A whole minute an hour before this test file started: admission events are never in the future. */
export const ADMISSION_T0 = Math.floor(Date.now() / 60_000) * 60_000 - 3_600_000;
/** ADMISSION_T0 plus `minutes`, as the protocol writes times. */
export const admissionAt = (minutes: number) => new Date(ADMISSION_T0 + minutes * 60_000).toISOString();

/** One admission Event as the agent sends it: a ReplicaSet's Pod refused by privileged-containers. */
export function admissionEvent(overrides: Partial<AdmissionEvent> = {}): AdmissionEvent {
  return {
    uid: "6a1c0c1e-0000-4000-8000-000000000001",
    count: 1,
    firstSeenAt: admissionAt(0),
    lastSeenAt: admissionAt(0),
    action: "deny",
    source: "webhook",
    constraintKind: "GatehousePrivilegedContainers",
    constraintName: "privileged-containers",
    resource: { group: "", version: "v1", kind: "Pod", namespace: "team-a", name: "root-web-7c9d8f6b5d-x2x7q" },
    owner: { kind: "Deployment", name: "root-web" },
    username: "system:serviceaccount:kube-system:replicaset-controller",
    message:
      'pod team-a/root-web-7c9d8f6b5d-x2x7q: container "app" (containers[0], image nginx): securityContext.privileged is true; privileged containers are not allowed.',
    ...overrides,
  };
}

/**
 * What the agent routes wrote for an environment (read as the system, RLS aside), the stored
 * audit report decompressed, and the audit rows they made.
 */
export async function agentRows(api: TestApi, environmentId: string) {
  return api.db.asSystem(async (tx) => {
    const [status] = await tx.select().from(agentStatus).where(eq(agentStatus.environmentId, environmentId));
    const [row] = await tx.select().from(auditReports).where(eq(auditReports.environmentId, environmentId));
    const report = row && { ...row, report: gunzipJson(row.report) as AuditReport };
    const audits = await tx.select().from(auditLog).where(eq(auditLog.targetId, environmentId));
    return { status, report, audits: audits.filter((a) => a.action.startsWith("agent.")) };
  });
}

/** The credential's row (for last_used_at). */
export async function credentialRow(api: TestApi, id: string) {
  const [row] = await api.db.asSystem((tx) => tx.select().from(agentCredentials).where(eq(agentCredentials.id, id)));
  return row;
}

export interface BadAgentCredential {
  name: string;
  headers: Record<string, string>;
  /** The problem `detail` must match: proves the refusal has the intended cause. */
  detail: RegExp;
}

const ONLY_AGENT = /accepts only agent credentials/;
const NOT_VALID = /agent credential is not valid/;

/**
 * Credentials the agent API must refuse with 401, for `tenant`'s environment `environmentId`:
 * no or malformed headers, user tokens (valid, expired, forged) and API keys of every role, and
 * agent credentials that are unknown, forged, revoked or rotated away. Made through the user API.
 */
export async function badAgentCredentials(api: TestApi, tenant: string, environmentId: string): Promise<BadAgentCredential[]> {
  const admin = await api.token(tenant, "admin");
  const base = `/v1/environments/${environmentId}/agent-credentials`;
  const revoked = await createAgentCredential(api, tenant, environmentId);
  expect((await api.request("DELETE", `${base}/${revoked.id}`, { token: admin })).status).toBe(204);
  const rotated = await createAgentCredential(api, tenant, environmentId);
  expect((await api.request("POST", `${base}/${rotated.id}/rotate`, { token: admin })).status).toBe(200);
  const live = await createAgentCredential(api, tenant, environmentId);
  const other = await createAgentCredential(api, tenant, environmentId);
  const liveParts = parseCredential(live.secret)!;
  const otherParts = parseCredential(other.secret)!;
  const flip = (s: string) => s.slice(0, -1) + (s.endsWith("A") ? "B" : "A");
  const now = Math.floor(Date.now() / 1000);
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const cases: [string, Record<string, string>, RegExp][] = [
    ["missing Authorization header", {}, /requires an Authorization/],
    ["empty Authorization header", { authorization: "" }, /requires an Authorization/],
    ["Basic scheme", { authorization: `Basic ${Buffer.from(`agent:${live.secret}`).toString("base64")}` }, /must be 'Bearer/],
    ["agent credential without a scheme", { authorization: live.secret }, /must be 'Bearer/],
    ["Bearer with two tokens", { authorization: `Bearer ${live.secret} ${live.secret}` }, /must be 'Bearer/],
    ...ROLES.map((role): [string, Record<string, string>, RegExp] => [`valid user JWT (${role})`, {}, ONLY_AGENT]),
    ["expired user JWT", bearer(await userToken(tenant, "admin", undefined, { iat: now - 7200, exp: now - 3600 })), ONLY_AGENT],
    ["user JWT signed by another key", bearer(await userToken(tenant, "admin", undefined, { key: otherKey })), ONLY_AGENT],
    ["not a JWT", bearer("not-a-jwt"), ONLY_AGENT],
    ["the agent credential relabelled as an API key", bearer(live.secret.replace(/^gha_/, "ghk_")), ONLY_AGENT],
    ["unknown agent credential", bearer(generateCredential("gha").token), NOT_VALID],
    ["malformed agent credential", bearer("gha_0123_short"), NOT_VALID],
    ["forged secret for a live prefix", bearer(`gha_${liveParts.prefix}_${flip(liveParts.secret)}`), NOT_VALID],
    ["one credential's prefix with another's secret", bearer(`gha_${liveParts.prefix}_${otherParts.secret}`), NOT_VALID],
    ["revoked agent credential", bearer(revoked.secret), /revoked/],
    ["rotated-away agent credential secret", bearer(rotated.secret), NOT_VALID],
  ];
  for (const role of ROLES) {
    const i = cases.findIndex(([name]) => name === `valid user JWT (${role})`);
    cases[i]![1] = bearer(await api.token(tenant, role));
    cases.push([`valid API key (${role})`, bearer(await api.apiKey(tenant, role)), ONLY_AGENT]);
  }
  return cases.map(([name, headers, detail]) => ({ name, headers, detail }));
}

/**
 * A backend whose database deletes an environment right before the next transaction of its
 * tenant (after the credential was looked up): the environment vanishing mid-request, which the
 * cascade otherwise makes impossible to reach.
 */
export function vanishingBackend(inner: TestBackend) {
  let doomed: { tenantId: string; environmentId: string } | undefined;
  return {
    backend: {
      async open(): Promise<Database> {
        const db = await inner.open();
        return {
          ...db,
          async withTenant(tenantId, fn) {
            const d = doomed;
            if (d && d.tenantId === tenantId) {
              doomed = undefined;
              await db.withTenant(tenantId, (tx) => tx.delete(environments).where(eq(environments.id, d.environmentId)));
            }
            return db.withTenant(tenantId, fn);
          },
        };
      },
      cleanup: () => inner.cleanup(),
    },
    /** Delete this environment at the start of its tenant's next transaction. */
    doom(tenantId: string, environmentId: string) {
      doomed = { tenantId, environmentId };
    },
  };
}
