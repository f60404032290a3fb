// /v1/webhooks: the tenant's webhook endpoints, their deliveries and attempts. Admin only.
// The signing secret (Standard Webhooks, whsec_<base64>) is returned once, on create and on
// rotate-secret; it is stored as it is (the dispatcher signs with it) in a column only the
// tenant's row-level-security scope and the dispatcher (as the system) can read, and never
// appears in a list, a GET or the audit log.
import type { OpenAPIHono } from "@hono/zod-openapi";
import { and, desc, eq, inArray, sql } from "drizzle-orm";
import { DEFAULT_WEBHOOK_CONFIG, type AppConfig } from "../app/config.ts";
import type { V1Env } from "../app/env.ts";
import { ProblemError } from "../app/problem.ts";
import type { Db } from "../db/client.ts";
import { environments, webhookAttempts, webhookDeliveries, webhookEndpoints, type WebhookDelivery, type WebhookEndpoint } from "../db/schema.ts";
import { invalidCursor, keysetPage, readCursor } from "../lib/cursor.ts";
import { audit } from "../services/audit.ts";
import { enforceQuota } from "../services/quotas.ts";
import { checkWebhookUrl } from "../services/webhook-url.ts";
import { PAYLOAD_VERSION } from "../services/webhook-outbox.ts";
import { Cursor, routes } from "./webhook-routes.ts";
import { WebhookPayload } from "./webhook-schemas.ts";

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const view = (e: WebhookEndpoint) => ({
  id: e.id,
  url: e.url,
  description: e.description,
  events: e.events,
  environmentIds: e.environmentIds ?? null,
  enabled: e.enabled,
  ...filterView(e),
  failing: e.failingSince !== null,
  failingSince: iso(e.failingSince),
  consecutiveFailures: e.consecutiveFailures,
  createdBy: e.createdBy,
  createdAt: e.createdAt.toISOString(),
  updatedAt: e.updatedAt.toISOString(),
});
const filterView = (e: WebhookEndpoint) => ({
  deliveryMode: e.deliveryMode,
  format: e.format,
  controls: e.controls ?? null,
  enforcementActions: e.enforcementActions ?? null,
  rateLimitPerSecond: e.rateLimitPerSecond ?? null,
});
const auditView = (e: WebhookEndpoint) => ({
  url: e.url,
  description: e.description,
  events: e.events,
  environmentIds: e.environmentIds ?? null,
  enabled: e.enabled,
  ...filterView(e),
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

const notFound = () => new ProblemError(404, "No such webhook endpoint.");

async function findEndpoint(tx: Db, tenantId: string, id: string) {
  return (
    await tx
      .select()
      .from(webhookEndpoints)
      .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.tenantId, tenantId)))
  )[0];
}

async function findDelivery(tx: Db, tenantId: string, endpointId: string, id: string) {
  return (
    await tx
      .select()
      .from(webhookDeliveries)
      .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.endpointId, endpointId), eq(webhookDeliveries.tenantId, tenantId)))
  )[0];
}

/** The URL policy and the environment filter: 400s naming the field. */
async function validate(config: AppConfig, tx: Db, tenantId: string, body: { url?: string; environmentIds?: string[] | null }) {
  const errors: { path: string; message: string }[] = [];
  if (body.url !== undefined) {
    const cfg = config.webhooks ?? DEFAULT_WEBHOOK_CONFIG;
    const why = await checkWebhookUrl(body.url, { allowHttp: cfg.allowHttp, allowPrivate: cfg.allowPrivate });
    if (why) errors.push({ path: "url", message: why });
  }
  if (body.environmentIds) {
    const ids = [...new Set(body.environmentIds)];
    const found = await tx
      .select({ id: environments.id })
      .from(environments)
      .where(and(eq(environments.tenantId, tenantId), inArray(environments.id, ids)));
    const known = new Set(found.map((r) => r.id));
    body.environmentIds.forEach((id, i) => {
      if (!known.has(id)) errors.push({ path: `environmentIds[${i}]`, message: `no environment ${id}` });
    });
  }
  if (errors.length) throw new ProblemError(400, "The request body is invalid.", { errors });
}

export function register(app: OpenAPIHono<V1Env>): void {
  // Not the body of any route here: what Gatehouse POSTs to endpoints. Listed in the document.
  app.openAPIRegistry.register("WebhookPayload", WebhookPayload);
  app.openapi(routes.create, async (c) => {
    const p = c.get("principal");
    const body = c.req.valid("json");
    const secret = generateWebhookSecret();
    const row = await c.get("db").withTenant(p.tenantId, async (tx) => {
      await validate(c.get("config"), tx, p.tenantId, body);
      await enforceQuota(tx, p.tenantId, "webhooks", c.get("config").quotas);
      const [e] = await tx
        .insert(webhookEndpoints)
        .values({
          tenantId: p.tenantId,
          url: body.url,
          description: body.description ?? "",
          events: body.events,
          environmentIds: body.environmentIds ?? null,
          enabled: body.enabled ?? true,
          secret,
          createdBy: p.subject,
          // New endpoints get digests (one request per audit report); the column's default keeps
          // endpoints from before on per-violation. Slack takes about one message a second.
          deliveryMode: body.deliveryMode ?? "digest",
          format: body.format ?? "standard",
          controls: body.controls ?? null,
          enforcementActions: body.enforcementActions ?? null,
          rateLimitPerSecond: body.rateLimitPerSecond !== undefined ? body.rateLimitPerSecond : body.format === "slack" ? 1 : null,
          createdAt: c.get("now")(),
          updatedAt: c.get("now")(),
        })
        .returning();
      await audit(tx, p, { action: "webhook.create", targetType: "webhook", targetId: e!.id, after: auditView(e!) });
      return e!;
    });
    return c.json({ ...view(row), secret }, 201);
  });

  app.openapi(routes.list, async (c) => {
    const p = c.get("principal");
    const { limit, cursor } = c.req.valid("query");
    const after = readCursor(cursor, Cursor);
    const rows = await c.get("db").withTenant(p.tenantId, async (tx) => {
      const where = [eq(webhookEndpoints.tenantId, p.tenantId)];
      if (after) {
        if (!(await findEndpoint(tx, p.tenantId, after.id))) throw invalidCursor();
        where.push(
          sql`(${webhookEndpoints.createdAt}, ${webhookEndpoints.id}) < (select w.created_at, w.id from webhook_endpoints w where w.id = ${after.id})`,
        );
      }
      return tx
        .select()
        .from(webhookEndpoints)
        .where(and(...where))
        .orderBy(desc(webhookEndpoints.createdAt), desc(webhookEndpoints.id))
        .limit(limit + 1);
    });
    const { items, nextCursor } = keysetPage(rows, limit, (last) => ({ id: last.id }));
    return c.json({ items: items.map(view), nextCursor }, 200);
  });

  app.openapi(routes.get, async (c) => {
    const p = c.get("principal");
    const { id } = c.req.valid("param");
    const row = await c.get("db").withTenant(p.tenantId, (tx) => findEndpoint(tx, p.tenantId, id));
    if (!row) throw notFound();
    return c.json(view(row), 200);
  });

  app.openapi(routes.update, async (c) => {
    const p = c.get("principal");
    const { id } = c.req.valid("param");
    const body = c.req.valid("json");
    const row = await c.get("db").withTenant(p.tenantId, async (tx) => {
      const before = await findEndpoint(tx, p.tenantId, id);
      if (!before) throw notFound();
      await validate(c.get("config"), tx, p.tenantId, body);
      const set: Partial<WebhookEndpoint> = { updatedAt: c.get("now")() };
      if (body.url !== undefined) set.url = body.url;
      if (body.description !== undefined) set.description = body.description;
      if (body.events !== undefined) set.events = body.events;
      if (body.environmentIds !== undefined) set.environmentIds = body.environmentIds;
      if (body.enabled !== undefined) set.enabled = body.enabled;
      if (body.deliveryMode !== undefined) set.deliveryMode = body.deliveryMode;
      if (body.format !== undefined) set.format = body.format;
      if (body.controls !== undefined) set.controls = body.controls;
      if (body.enforcementActions !== undefined) set.enforcementActions = body.enforcementActions;
      if (body.rateLimitPerSecond !== undefined) set.rateLimitPerSecond = body.rateLimitPerSecond;
      const [after] = await tx
        .update(webhookEndpoints)
        .set(set)
        .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.tenantId, p.tenantId)))
        .returning();
      await audit(tx, p, { action: "webhook.update", targetType: "webhook", targetId: id, before: auditView(before), after: auditView(after!) });
      return after!;
    });
    return c.json(view(row), 200);
  });

  app.openapi(routes.remove, async (c) => {
    const p = c.get("principal");
    const { id } = c.req.valid("param");
    await c.get("db").withTenant(p.tenantId, async (tx) => {
      const [gone] = await tx
        .delete(webhookEndpoints)
        .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.tenantId, p.tenantId)))
        .returning();
      if (!gone) throw notFound();
      await audit(tx, p, { action: "webhook.delete", targetType: "webhook", targetId: id, before: auditView(gone) });
    });
    return c.body(null, 204);
  });

  app.openapi(routes.rotate, async (c) => {
    const p = c.get("principal");
    const { id } = c.req.valid("param");
    const secret = generateWebhookSecret();
    const now = c.get("now")();
    // The replaced secret keeps signing beside the new one for the overlap, so receivers can
    // switch without refusing what is sent meanwhile (WEBHOOK_SECRET_OVERLAP_SECONDS; 0: at once).
    const overlapMs = (c.get("config").webhooks ?? DEFAULT_WEBHOOK_CONFIG).secretOverlapSeconds * 1000;
    const row = await c.get("db").withTenant(p.tenantId, async (tx) => {
      const [after] = await tx
        .update(webhookEndpoints)
        .set({
          secret,
          previousSecret: overlapMs > 0 ? sql`${webhookEndpoints.secret}` : null,
          previousSecretUntil: overlapMs > 0 ? new Date(now.getTime() + overlapMs) : null,
          updatedAt: now,
        })
        .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.tenantId, p.tenantId)))
        .returning();
      if (!after) throw notFound();
      await audit(tx, p, {
        action: "webhook.rotate_secret",
        targetType: "webhook",
        targetId: id,
        after: { ...auditView(after), secretRotatedAt: now.toISOString(), previousSecretUntil: after.previousSecretUntil?.toISOString() ?? null },
      });
      return after;
    });
    return c.json({ ...view(row), secret }, 200);
  });

  app.openapi(routes.ping, async (c) => {
    const p = c.get("principal");
    const { id } = c.req.valid("param");
    const now = c.get("now")();
    const row = await c.get("db").withTenant(p.tenantId, async (tx) => {
      if (!(await findEndpoint(tx, p.tenantId, id))) throw notFound();
      const [d] = await tx
        .insert(webhookDeliveries)
        .values({
          tenantId: p.tenantId,
          endpointId: id,
          eventType: "webhook.ping",
          payload: { type: "webhook.ping", version: PAYLOAD_VERSION, timestamp: now.toISOString(), data: { endpointId: id } },
          nextAttemptAt: now,
          createdAt: now,
        })
        .returning();
      await audit(tx, p, { action: "webhook.ping", targetType: "webhook", targetId: id, after: { deliveryId: d!.id } });
      return d!;
    });
    return c.json(deliveryView(row), 202);
  });

  app.openapi(routes.deliveries, async (c) => {
    const p = c.get("principal");
    const { id } = c.req.valid("param");
    const { limit, cursor, state } = c.req.valid("query");
    const after = readCursor(cursor, Cursor);
    const rows = await c.get("db").withTenant(p.tenantId, async (tx) => {
      if (!(await findEndpoint(tx, p.tenantId, id))) throw notFound();
      const where = [eq(webhookDeliveries.tenantId, p.tenantId), eq(webhookDeliveries.endpointId, id)];
      if (state) where.push(eq(webhookDeliveries.state, state));
      if (after) {
        if (!(await findDelivery(tx, p.tenantId, id, after.id))) throw invalidCursor();
        where.push(
          sql`(${webhookDeliveries.createdAt}, ${webhookDeliveries.id}) < (select w.created_at, w.id from webhook_deliveries w where w.id = ${after.id})`,
        );
      }
      return tx
        .select()
        .from(webhookDeliveries)
        .where(and(...where))
        .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
        .limit(limit + 1);
    });
    const { items, nextCursor } = keysetPage(rows, limit, (last) => ({ id: last.id }));
    return c.json({ items: items.map(deliveryView), nextCursor }, 200);
  });

  app.openapi(routes.delivery, async (c) => {
    const p = c.get("principal");
    const { id, deliveryId } = c.req.valid("param");
    const body = await c.get("db").withTenant(p.tenantId, async (tx) => {
      const d = await findDelivery(tx, p.tenantId, id, deliveryId);
      if (!d) throw new ProblemError(404, "No such delivery.");
      const attempts = await tx
        .select()
        .from(webhookAttempts)
        .where(and(eq(webhookAttempts.deliveryId, deliveryId), eq(webhookAttempts.tenantId, p.tenantId)))
        .orderBy(webhookAttempts.attempt);
      return {
        ...deliveryView(d),
        attemptLog: attempts.map((a) => ({ attempt: a.attempt, at: a.at.toISOString(), statusCode: a.statusCode, latencyMs: a.latencyMs, error: a.error })),
      };
    });
    return c.json(body, 200);
  });

  app.openapi(routes.redeliver, async (c) => {
    const p = c.get("principal");
    const { id, deliveryId } = c.req.valid("param");
    const now = c.get("now")();
    const row = await c.get("db").withTenant(p.tenantId, async (tx) => {
      const d = await findDelivery(tx, p.tenantId, id, deliveryId);
      if (!d) throw new ProblemError(404, "No such delivery.");
      const [after] = await tx
        .update(webhookDeliveries)
        .set({ state: "pending", nextAttemptAt: now, completedAt: null })
        .where(
          and(
            eq(webhookDeliveries.id, deliveryId),
            eq(webhookDeliveries.tenantId, p.tenantId),
            sql`(lease_until is null or lease_until <= ${now.toISOString()}::timestamptz)`,
          ),
        )
        .returning();
      if (!after) throw new ProblemError(409, "An attempt of this delivery is in flight; try again in a moment.");
      await audit(tx, p, {
        action: "webhook.redeliver",
        targetType: "webhook_delivery",
        targetId: deliveryId,
        before: { state: d.state, attempts: d.attempts },
        after: { state: "pending" },
      });
      return after;
    });
    return c.json(deliveryView(row), 202);
  });
}
