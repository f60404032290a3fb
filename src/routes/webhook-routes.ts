// The OpenAPI routes of /v1/webhooks (webhooks.ts implements them): paths, parameters, bodies,
// responses and the admin requirement, apart from the handlers so each file reads on its own.
import { createRoute, type RouteConfig, z } from "@hono/zod-openapi";
import { requireRole } from "../app/auth.ts";
import { problemResponses } from "../app/problem.ts";
import { DELIVERY_STATES } from "../db/schema.ts";
import { PageQuery } from "../lib/cursor.ts";
import { CreateEndpoint, Delivery, DeliveryDetail, Endpoint, NewEndpoint, UpdateEndpoint } from "./webhook-schemas.ts";

const tags = ["Webhooks"];

const IdParams = z.object({ id: z.uuid().openapi({ param: { name: "id", in: "path" } }) });
const DeliveryParams = z.object({
  id: z.uuid().openapi({ param: { name: "id", in: "path" } }),
  deliveryId: z.uuid().openapi({ param: { name: "deliveryId", in: "path" } }),
});
export const Cursor = z.strictObject({ id: z.uuid() });
const admin = requireRole("admin");
const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { "application/json": { schema } } });
const jsonBody = <T extends z.ZodType>(schema: T) => ({ required: true, content: { "application/json": { schema } } });
const page = <T extends z.ZodType>(item: T, name: string) => z.object({ items: z.array(item), nextCursor: z.string().nullable() }).openapi(name);

/**
 * A /v1/webhooks route: what differs (method, path, summary, description, request, responses)
 * comes in, the tag and the admin requirement are added. The same createRoute config as written
 * out, key order included (the document is generated from it), and typed the same: `path: P` keeps the
 * path a literal, for app.openapi's handler types and api.call's compile-time path check (the
 * casts only undo TypeScript widening destructured generic properties to their constraint).
 */
const adminRoute = <P extends string, R extends Omit<RouteConfig, "path" | "tags" | "middleware"> & { path: P }>({ method, path, ...rest }: R) =>
  createRoute({ method: method as R["method"], path: path as R["path"], tags, middleware: [admin] as const, ...rest });

export const routes = {
  create: adminRoute({
    method: "post",
    path: "/v1/webhooks",
    summary: "Create a webhook endpoint",
    description:
      "The response carries the signing secret, once. New endpoints get violation events as digests (deliveryMode, default digest: one violations.changed per audit report) in the standard signed format unless they ask for per-violation events or the slack format. Requires admin. Payloads: see the WebhookPayload schema.",
    request: { body: jsonBody(CreateEndpoint) },
    responses: { 201: json(NewEndpoint, "The endpoint and its secret"), ...problemResponses(400, 401, 403, 409, 413, 415) },
  }),
  list: adminRoute({
    method: "get",
    path: "/v1/webhooks",
    summary: "List webhook endpoints",
    description: "Newest first, never the secrets. Requires admin.",
    request: { query: PageQuery },
    responses: {
      200: json(page(Endpoint, "WebhookEndpointPage"), "A page"),
      ...problemResponses(400, 401, 403),
    },
  }),
  get: adminRoute({
    method: "get",
    path: "/v1/webhooks/{id}",
    summary: "One webhook endpoint",
    description: "Requires admin.",
    request: { params: IdParams },
    responses: { 200: json(Endpoint, "The endpoint"), ...problemResponses(400, 401, 403, 404) },
  }),
  update: adminRoute({
    method: "patch",
    path: "/v1/webhooks/{id}",
    summary: "Change a webhook endpoint",
    description:
      "Only the fields given change; environmentIds, controls and enforcementActions null mean all, rateLimitPerSecond null no limit. Requires admin.",
    request: { params: IdParams, body: jsonBody(UpdateEndpoint) },
    responses: { 200: json(Endpoint, "The endpoint"), ...problemResponses(400, 401, 403, 404, 413, 415) },
  }),
  remove: adminRoute({
    method: "delete",
    path: "/v1/webhooks/{id}",
    summary: "Delete a webhook endpoint",
    description: "Its pending deliveries are dropped with it. Requires admin.",
    request: { params: IdParams },
    responses: { 204: { description: "Deleted" }, ...problemResponses(400, 401, 403, 404) },
  }),
  rotate: adminRoute({
    method: "post",
    path: "/v1/webhooks/{id}/rotate-secret",
    summary: "Rotate the signing secret",
    description:
      "A new secret, shown once; every later attempt (retries included) is signed with it. For WEBHOOK_SECRET_OVERLAP_SECONDS (default 24 h) after the rotation the old secret signs too: webhook-signature carries both signatures (space-separated), so a receiver with either verifies. Requires admin.",
    request: { params: IdParams },
    responses: { 200: json(NewEndpoint, "The endpoint and its new secret"), ...problemResponses(400, 401, 403, 404) },
  }),
  ping: adminRoute({
    method: "post",
    path: "/v1/webhooks/{id}/ping",
    summary: "Send a test event",
    description: "Queues a webhook.ping delivery to this endpoint (sent by the dispatcher like any other; watch it under deliveries). Requires admin.",
    request: { params: IdParams },
    responses: { 202: json(Delivery, "The queued delivery"), ...problemResponses(400, 401, 403, 404) },
  }),
  deliveries: adminRoute({
    method: "get",
    path: "/v1/webhooks/{id}/deliveries",
    summary: "The endpoint's deliveries",
    description: "Newest first, with their payloads. Requires admin.",
    request: { params: IdParams, query: PageQuery.extend({ state: z.enum(DELIVERY_STATES).optional() }) },
    responses: {
      200: json(page(Delivery, "WebhookDeliveryPage"), "A page"),
      ...problemResponses(400, 401, 403, 404),
    },
  }),
  delivery: adminRoute({
    method: "get",
    path: "/v1/webhooks/{id}/deliveries/{deliveryId}",
    summary: "One delivery and its attempts",
    description: "Every attempt: when, the HTTP status (null when none came), latency, error. Requires admin.",
    request: { params: DeliveryParams },
    responses: { 200: json(DeliveryDetail, "The delivery"), ...problemResponses(400, 401, 403, 404) },
  }),
  redeliver: adminRoute({
    method: "post",
    path: "/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver",
    summary: "Send a delivery again",
    description: "Makes the delivery due now (same webhook-id, so a receiver that already has it can tell). 409 while an attempt is in flight. Requires admin.",
    request: { params: DeliveryParams },
    responses: { 202: json(Delivery, "The delivery, due now"), ...problemResponses(400, 401, 403, 404, 409) },
  }),
};
