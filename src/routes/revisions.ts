// Settings history of an environment: list revisions (newest first), read one, diff two, and roll
// back (which appends a NEW revision equal to an old one: history is never rewritten).
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { requireRole } from "../app/auth.ts";
import { ifMatchRevision, revisionEtag } from "../app/conditional.ts";
import type { V1Env } from "../app/env.ts";
import { problemResponses } from "../app/problem.ts";
import { keysetPage, PageQuery, readCursor } from "../lib/cursor.ts";
import { diff } from "../lib/json-diff.ts";
import { getRevision, getRevisionPair, listRevisions } from "../services/revision-history.ts";
import { commitDerivedRevision, loadRevision, revisionNotFound } from "../services/settings.ts";
import {
  CommentField,
  EnvParams,
  IfMatchHeaders,
  MAX_REVISION,
  RevisionDetail,
  NewRevisionResponse,
  revisionJson,
  RevisionNumber,
  RevisionParams,
} from "./settings-common.ts";

const RevisionSummary = z
  .object({ revision: z.int().min(1), author: z.string(), comment: z.string(), createdAt: z.iso.datetime() })
  .openapi("SettingsRevisionSummary");
const RevisionPage = z
  .object({
    items: z.array(RevisionSummary),
    nextCursor: z.string().nullable().openapi({ description: "Pass as ?cursor= for the next (older) page; null on the last page." }),
  })
  .openapi("SettingsRevisionPage");
const DiffEntry = z
  .object({ path: z.string().openapi({ example: "controls.seccomp.options.allowUnset" }), before: z.unknown().optional(), after: z.unknown().optional() })
  .openapi("SettingsDiffEntry");
const SettingsDiff = z.object({ from: z.int(), to: z.int(), changes: z.array(DiffEntry) }).openapi("SettingsDiff");
const DiffQuery = z.strictObject({ from: RevisionNumber, to: RevisionNumber });
const RollbackBody = z.strictObject({ comment: CommentField }).openapi("RollbackRequest");
// The cursor is the last revision returned; the next page starts below it.
const CursorKey = z.strictObject({ before: z.int().min(2).max(MAX_REVISION) });

const base = "/v1/environments/{id}/settings";
const tags = ["Settings history"];

export const listRoute = createRoute({
  method: "get",
  path: `${base}/revisions`,
  tags,
  summary: "List settings revisions",
  description: "Newest first, without documents. Cursor pagination: `?limit=1..100` (default 50) and `?cursor=`. Requires viewer.",
  middleware: [requireRole("viewer")] as const,
  request: { params: EnvParams, query: PageQuery },
  responses: {
    200: { description: "A page of revisions", content: { "application/json": { schema: RevisionPage } } },
    ...problemResponses(400, 401, 403, 404),
  },
});

export const getRoute = createRoute({
  method: "get",
  path: `${base}/revisions/{revision}`,
  tags,
  summary: "Read one settings revision",
  description: "The document as stored (defaults filled in). ETag is the revision. Requires viewer.",
  middleware: [requireRole("viewer")] as const,
  request: { params: RevisionParams },
  responses: {
    200: { description: "The revision", content: { "application/json": { schema: RevisionDetail } } },
    ...problemResponses(400, 401, 403, 404),
  },
});

export const diffRoute = createRoute({
  method: "get",
  path: `${base}/diff`,
  tags,
  summary: "Diff two settings revisions",
  description: "Every changed path from `from` to `to` with the value before and after (absent = not set). Requires viewer.",
  middleware: [requireRole("viewer")] as const,
  request: { params: EnvParams, query: DiffQuery },
  responses: {
    200: { description: "The changes", content: { "application/json": { schema: SettingsDiff } } },
    ...problemResponses(400, 401, 403, 404),
  },
});

export const rollbackRoute = createRoute({
  method: "post",
  path: `${base}/revisions/{revision}/rollback`,
  tags,
  summary: "Roll back to a revision",
  description:
    "Appends a new revision whose document equals revision `{revision}` (comment defaults to `rollback to revision N`). Optional If-Match: the current revision's ETag. Requires editor.",
  middleware: [requireRole("editor")] as const,
  request: {
    params: RevisionParams,
    headers: IfMatchHeaders,
    body: { required: false, content: { "application/json": { schema: RollbackBody } } },
  },
  responses: {
    201: NewRevisionResponse,
    ...problemResponses(400, 401, 403, 404, 409, 412, 415),
  },
});

export function register(app: OpenAPIHono<V1Env>): void {
  app.openapi(listRoute, async (c) => {
    const p = c.get("principal");
    const { id } = c.req.valid("param");
    const { limit, cursor } = c.req.valid("query");
    const key = readCursor(cursor, CursorKey);
    const rows = await c.get("db").withTenant(p.tenantId, (tx) => listRevisions(tx, p.tenantId, id, { before: key?.before, limit }));
    const { items, nextCursor } = keysetPage(rows, limit, (last) => ({ before: last.revision }));
    return c.json({ items: items.map((r) => ({ ...r, createdAt: r.createdAt.toISOString() })), nextCursor }, 200);
  });

  app.openapi(getRoute, async (c) => {
    const p = c.get("principal");
    const { id, revision } = c.req.valid("param");
    const row = await c.get("db").withTenant(p.tenantId, (tx) => getRevision(tx, p.tenantId, id, revision));
    c.header("etag", revisionEtag(row.revision));
    return c.json(revisionJson(row), 200);
  });

  app.openapi(diffRoute, async (c) => {
    const p = c.get("principal");
    const { id } = c.req.valid("param");
    const { from, to } = c.req.valid("query");
    const [a, b] = await c.get("db").withTenant(p.tenantId, (tx) => getRevisionPair(tx, p.tenantId, id, from, to));
    return c.json({ from, to, changes: diff(a.document, b.document) }, 200);
  });

  app.openapi(rollbackRoute, async (c) => {
    const p = c.get("principal");
    const { id, revision } = c.req.valid("param");
    const { comment } = c.req.valid("json");
    const expected = ifMatchRevision(c.req.valid("header")["if-match"], { star: true }); // a 400 before any lookup
    const stored = await c.get("db").withTenant(p.tenantId, (tx) =>
      commitDerivedRevision(tx, p, {
        environmentId: id,
        expected,
        action: "settings.rollback",
        async derive() {
          const target = await loadRevision(tx, p.tenantId, id, revision);
          if (!target) throw revisionNotFound(id, revision);
          return { document: target.document, comment: comment ?? `rollback to revision ${revision}`, detail: { rolledBackTo: revision } };
        },
      }),
    );
    c.header("etag", revisionEtag(stored.revision));
    c.header("location", `/v1/environments/${id}/settings/revisions/${stored.revision}`);
    return c.json(revisionJson(stored), 201);
  });
}
