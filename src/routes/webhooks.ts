// /v1/webhooks: the tenant's webhook endpoints, their deliveries and attempts. Admin only.
// The signing secret (Standard Webhooks, whsec_<base64>) is returned once, on create and on
// rotate-secret; it is stored as it is (the dispatcher signs with it) in a column only the
// tenant's row-level-security scope and the dispatcher (as the system) can read, and never
// appears in a list, a GET or the audit log. The queries and transactions are services/webhooks.ts's.
import type { OpenAPIHono } from "@hono/zod-openapi";
import { DEFAULT_WEBHOOK_CONFIG } from "../app/config.ts";
import type { V1Env } from "../app/env.ts";
import type { WebhookDelivery, WebhookEndpoint } from "../db/schema.ts";
import { keysetPage, readCursor } from "../lib/cursor.ts";
import {
  createEndpoint,
  deleteEndpoint,
  endpointFields,
  getDelivery,
  listDeliveries,
  listEndpoints,
  queuePing,
  redeliver,
  requireEndpoint,
  rotateEndpointSecret,
  updateEndpoint,
} from "../services/webhooks.ts";
import { Cursor, routes } from "./webhook-routes.ts";
import { WebhookPayload } from "./webhook-schemas.ts";

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const view = (e: WebhookEndpoint) => ({
  id: e.id,
  ...endpointFields(e),
  failing: e.failingSince !== null,
  failingSince: iso(e.failingSince),
  consecutiveFailures: e.consecutiveFailures,
  createdBy: e.createdBy,
  createdAt: e.createdAt.toISOString(),
  updatedAt: e.updatedAt.toISOString(),
});
const deliveryView = (d: WebhookDelivery) => ({
  id: d.id,
  endpointId: d.endpointId,
  eventType: d.eventType,
  state: d.state,
  attempts: d.attempts,
  nextAttemptAt: d.state === "pending" ? d.nextAttemptAt.toISOString() : null,
  lastStatus: d.lastStatus,
  lastError: d.lastError,
  createdAt: d.createdAt.toISOString(),
  completedAt: iso(d.completedAt),
  payload: d.payload,
});

/** A Standard Webhooks secret: whsec_ + base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return `whsec_${btoa(String.fromCharCode(...bytes))}`;
}

export function register(app: OpenAPIHono<V1Env>): void {
  // Not the body of any route here: what Gatehouse POSTs to endpoints. Listed in the document.
  app.openAPIRegistry.register("WebhookPayload", WebhookPayload);
  app.openapi(routes.create, async (c) => {
    const p = c.get("principal");
    const body = c.req.valid("json");
    const secret = generateWebhookSecret();
    const row = await c.get("db").withTenant(p.tenantId, (tx) => createEndpoint(tx, p, body, { secret, now: c.get("now")(), config: c.get("config") }));
    return c.json({ ...view(row), secret }, 201);
  });

  app.openapi(routes.list, async (c) => {
    const p = c.get("principal");
    const { limit, cursor } = c.req.valid("query");
    const after = readCursor(cursor, Cursor);
    const rows = await c.get("db").withTenant(p.tenantId, (tx) => listEndpoints(tx, p.tenantId, { after, limit }));
    const { items, nextCursor } = keysetPage(rows, limit, (last) => ({ id: last.id }));
    return c.json({ items: items.map(view), nextCursor }, 200);
  });

  app.openapi(routes.get, async (c) => {
    const p = c.get("principal");
    const { id } = c.req.valid("param");
    const row = await c.get("db").withTenant(p.tenantId, (tx) => requireEndpoint(tx, p.tenantId, id));
    return c.json(view(row), 200);
  });

  app.openapi(routes.update, async (c) => {
    const p = c.get("principal");
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    const row = await c.get("db").withTenant(p.tenantId, (tx) => updateEndpoint(tx, p, id, body, { now: c.get("now")(), config: c.get("config") }));
    return c.json(view(row), 200);
  });

  app.openapi(routes.remove, async (c) => {
    const p = c.get("principal");
    const { id } = c.req.valid("param");
    await c.get("db").withTenant(p.tenantId, (tx) => deleteEndpoint(tx, p, id));
    return c.body(null, 204);
  });

  app.openapi(routes.rotate, async (c) => {
    const p = c.get("principal");
    const { id } = c.req.valid("param");
    const secret = generateWebhookSecret();
    // WEBHOOK_SECRET_OVERLAP_SECONDS: how long the replaced secret keeps signing (0: not at all).
    const overlapMs = (c.get("config").webhooks ?? DEFAULT_WEBHOOK_CONFIG).secretOverlapSeconds * 1000;
    const row = await c.get("db").withTenant(p.tenantId, (tx) => rotateEndpointSecret(tx, p, id, { secret, now: c.get("now")(), overlapMs }));
    return c.json({ ...view(row), secret }, 200);
  });

  app.openapi(routes.ping, async (c) => {
    const p = c.get("principal");
    const { id } = c.req.valid("param");
    const row = await c.get("db").withTenant(p.tenantId, (tx) => queuePing(tx, p, id, c.get("now")()));
    return c.json(deliveryView(row), 202);
  });

  app.openapi(routes.deliveries, async (c) => {
    const p = c.get("principal");
    const { id } = c.req.valid("param");
    const { limit, cursor, state } = c.req.valid("query");
    const after = readCursor(cursor, Cursor);
    const rows = await c.get("db").withTenant(p.tenantId, (tx) => listDeliveries(tx, p.tenantId, id, { state, after, limit }));
    const { items, nextCursor } = keysetPage(rows, limit, (last) => ({ id: last.id }));
    return c.json({ items: items.map(deliveryView), nextCursor }, 200);
  });

  app.openapi(routes.delivery, async (c) => {
    const p = c.get("principal");
    const { id, deliveryId } = c.req.valid("param");
    const { delivery, attempts } = await c.get("db").withTenant(p.tenantId, (tx) => getDelivery(tx, p.tenantId, id, deliveryId));
    return c.json(
      {
        ...deliveryView(delivery),
        attemptLog: attempts.map((a) => ({ attempt: a.attempt, at: a.at.toISOString(), statusCode: a.statusCode, latencyMs: a.latencyMs, error: a.error })),
      },
      200,
    );
  });

  app.openapi(routes.redeliver, async (c) => {
    const p = c.get("principal");
    const { id, deliveryId } = c.req.valid("param");
    const row = await c.get("db").withTenant(p.tenantId, (tx) => redeliver(tx, p, id, deliveryId, c.get("now")()));
    return c.json(deliveryView(row), 202);
  });
}
