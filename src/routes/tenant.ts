// GET /v1/tenant: the caller's tenant, their role in it, and its members.
// The model route: declare with createRoute (schemas named via .openapi for the docs), guard with
// requireRole, list problem responses, and call one service inside withTenant so RLS applies.
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { requireRole } from "../app/auth.ts";
import { ROLES, type V1Env } from "../app/env.ts";
import { problemResponses } from "../app/problem.ts";
import { tenantWithMembers } from "../services/tenants.ts";

const Role = z.enum(ROLES).openapi("Role");

export const Member = z
  .object({
    subject: z.string().openapi({ example: "alice@example.com" }),
    role: Role.openapi({ description: "The role of the member's latest token that this API saw: a change is recorded by the first request that carries it." }),
    lastSeenAt: z.iso.datetime().openapi({ description: "Last authenticated request (updated at most once a minute)." }),
  })
  .openapi("Member");

export const Tenant = z
  .object({
    id: z.uuid(),
    slug: z.string().openapi({ example: "acme" }),
    name: z.string(),
    createdAt: z.iso.datetime(),
    role: Role.openapi({ description: "The caller's role in this tenant." }),
    members: z.array(Member).openapi({ description: "Users who have signed in, by subject. API keys are not members." }),
  })
  .openapi("Tenant");

export const route = createRoute({
  method: "get",
  path: "/v1/tenant",
  tags: ["Tenant"],
  summary: "The caller's tenant",
  description: "The tenant of the caller's credential, the caller's role, and the members seen so far. Requires viewer.",
  middleware: [requireRole("viewer")] as const,
  responses: {
    200: { description: "The tenant", content: { "application/json": { schema: Tenant } } },
    ...problemResponses(401, 403, 404),
  },
});

export function register(app: OpenAPIHono<V1Env>): void {
  app.openapi(route, async (c) => {
    const p = c.get("principal");
    const { tenant, members } = await c.get("db").withTenant(p.tenantId, (tx) => tenantWithMembers(tx, p.tenantId));
    return c.json(
      {
        id: tenant.id,
        slug: tenant.slug,
        name: tenant.name,
        createdAt: tenant.createdAt.toISOString(),
        role: p.role,
        members: members.map((m) => ({ subject: m.subject, role: m.role, lastSeenAt: m.lastSeenAt.toISOString() })),
      },
      200,
    );
  });
}
