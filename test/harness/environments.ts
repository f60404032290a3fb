// Fixtures for the environment and settings route tests: create through the API, inspect rows
// directly (as the system, so a test sees what really is in the database, RLS aside).
import { asc, count, eq } from "drizzle-orm";
import { expect } from "vitest";
import { auditLog, environments, settingsRevisions } from "../../src/db/schema.ts";
import type { TestApi } from "./api.ts";
import { routeAuditRows as routeRows } from "./fixtures.ts";

export interface EnvJson {
  id: string;
  name: string;
  description: string;
  labels: Record<string, string>;
  currentRevision: number;
  createdAt: string;
  updatedAt: string;
  agent: { state: string; lastSeenAt: string | null; appliedRevision: number | null; inSync: boolean };
}

/** An environment as the audit log records it: without the (volatile) agent summary. */
export function withoutAgent(env: EnvJson): Omit<EnvJson, "agent"> {
  const { agent: _agent, ...rest } = env;
  return rest;
}

let seq = 0;
/** A name no other test in this process uses. */
export const uniqueName = (base = "env") => `${base}-${process.pid}-${++seq}`;

/** POST /v1/environments as the tenant's admin; fails the test unless 201. */
export async function createEnvironment(api: TestApi, tenant: string, body: Record<string, unknown> = {}): Promise<EnvJson> {
  const res = await api.request("POST", "/v1/environments", { token: await api.token(tenant, "admin"), body: { name: uniqueName(), ...body } });
  const text = await res.text();
  expect(res.status, text).toBe(201);
  return JSON.parse(text) as EnvJson;
}

export async function revisionNumbers(api: TestApi, environmentId: string): Promise<number[]> {
  const rows = await api.db.asSystem((tx) =>
    tx
      .select({ r: settingsRevisions.revision })
      .from(settingsRevisions)
      .where(eq(settingsRevisions.environmentId, environmentId))
      .orderBy(asc(settingsRevisions.revision)),
  );
  return rows.map((r) => r.r);
}

export async function environmentRow(api: TestApi, environmentId: string) {
  const [row] = await api.db.asSystem((tx) => tx.select().from(environments).where(eq(environments.id, environmentId)));
  return row;
}

/** The tenant's audit rows written by routes (not sign-in bookkeeping), oldest first. */
export async function auditRows(api: TestApi, tenant: string) {
  const tenantId = await api.tenantId(tenant);
  return api.db.asSystem((tx) => tx.select().from(auditLog).where(routeRows(tenantId)).orderBy(asc(auditLog.id)));
}

export async function auditCount(api: TestApi, tenant: string): Promise<number> {
  const tenantId = await api.tenantId(tenant);
  const [row] = await api.db.asSystem((tx) => tx.select({ n: count() }).from(auditLog).where(routeRows(tenantId)));
  return row?.n ?? 0;
}
