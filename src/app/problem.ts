// RFC 9457 problem details: every error response of the API is application/problem+json.
// Routes throw ProblemError (or call problem()); app.onError turns anything else into a 500
// that never carries a stack or an exception message.
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { ZodError } from "zod";
import { databaseBusy } from "../db/client.ts";
import { fieldIssues, type FieldIssue } from "../policies/index.ts";

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

export const FieldIssueSchema = z.object({ path: z.string(), message: z.string() }).openapi("FieldIssue");
export const ProblemSchema = z
  .object({
    type: z.string().openapi({ example: "urn:gatehouse:problem:not-found" }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().optional(),
    errors: z.array(FieldIssueSchema).optional(),
  })
  .openapi("Problem");
export type Problem = z.infer<typeof ProblemSchema>;

// One problem type per status keeps clients' branching simple; `detail` says what happened.
const TYPES: Record<number, [slug: string, title: string]> = {
  400: ["bad-request", "Bad request"],
  401: ["unauthorized", "Unauthorized"],
  403: ["forbidden", "Forbidden"],
  404: ["not-found", "Not found"],
  405: ["method-not-allowed", "Method not allowed"],
  408: ["request-timeout", "Request timeout"],
  409: ["conflict", "Conflict"],
  410: ["gone", "Gone"],
  412: ["precondition-failed", "Precondition failed"],
  413: ["payload-too-large", "Payload too large"],
  415: ["unsupported-media-type", "Unsupported media type"],
  422: ["unprocessable", "Unprocessable content"],
  428: ["precondition-required", "Precondition required"],
  429: ["too-many-requests", "Too many requests"],
  431: ["request-header-fields-too-large", "Request header fields too large"],
  500: ["internal", "Internal server error"],
  503: ["unavailable", "Service unavailable"],
};

export function problemType(status: number): string {
  return `urn:gatehouse:problem:${TYPES[status]?.[0] ?? `http-${status}`}`;
}

export interface ProblemInit {
  detail: string;
  title?: string;
  type?: string;
  errors?: FieldIssue[];
  headers?: Record<string, string>;
  /** RFC 9457 extension members (e.g. the `changes` of a stale draft's 412). */
  extensions?: Record<string, unknown>;
}

/** Throw from a route or middleware; app.onError renders it. */
export class ProblemError extends Error {
  readonly status: ContentfulStatusCode;
  readonly init: ProblemInit;
  constructor(status: ContentfulStatusCode, detail: string, init: Omit<ProblemInit, "detail"> = {}) {
    super(detail);
    this.name = "ProblemError";
    this.status = status;
    this.init = { ...init, detail };
  }
}

export function problemBody(status: number, init: ProblemInit, instance?: string): Problem {
  const body: Problem = {
    type: init.type ?? problemType(status),
    title: init.title ?? TYPES[status]?.[1] ?? "Error",
    status,
    detail: init.detail,
  };
  if (instance) body.instance = instance;
  if (init.errors?.length) body.errors = init.errors;
  return init.extensions ? { ...init.extensions, ...body } : body;
}

export function problemResponse(status: ContentfulStatusCode, init: ProblemInit, instance?: string): Response {
  return new Response(JSON.stringify(problemBody(status, init, instance)), {
    status,
    headers: { "content-type": PROBLEM_CONTENT_TYPE, ...init.headers },
  });
}

/** The problem response for this request (instance = request path). */
export function problem(c: Context, status: ContentfulStatusCode, detail: string, init: Omit<ProblemInit, "detail"> = {}): Response {
  return problemResponse(status, { ...init, detail }, c.req.path);
}

const TARGET_NAMES: Record<string, string> = {
  json: "request body",
  form: "request body",
  query: "query string",
  param: "path",
  header: "header set",
  cookie: "cookie header",
};

/** @hono/zod-openapi defaultHook: validation failures → 400 with one {path, message} per issue. */
export function validationHook(
  result: { target: string; success: true; data: unknown } | { target: string; success: false; error: ZodError },
  c: Context,
): Response | undefined {
  if (result.success) return undefined;
  return problem(c, 400, `The ${TARGET_NAMES[result.target] ?? result.target} is invalid.`, { errors: fieldIssues(result.error) });
}

/** app.onError: known errors keep their status; anything else is a 500 without details. */
export function errorToProblem(err: Error, c: Context, log?: (err: Error) => void): Response {
  if (err instanceof ProblemError) return problem(c, err.status, err.init.detail, err.init);
  if (err instanceof HTTPException && err.status < 500) {
    // hono's validator says "Malformed JSON in request body"; zod-openapi's gate says 415.
    return problem(c, err.status as ContentfulStatusCode, err.message || TYPES[err.status]?.[1] || "Request refused");
  }
  log?.(err);
  // The database out of connections (or not taking any now) is a moment's overload, not a fault
  // of the request: 503 with Retry-After, which agents and clients back off on.
  if (databaseBusy(err)) {
    return problem(c, 503, "The database is out of connections for the moment; retry after the time in Retry-After.", {
      headers: { "retry-after": String(RETRY_AFTER_SECONDS) },
    });
  }
  return problem(c, 500, "The server failed to handle this request; it has been logged.");
}

const RETRY_AFTER_SECONDS = 2;

/** OpenAPI `responses` entries for the problems a route can return. */
export function problemResponses<const S extends readonly (keyof typeof DESCRIPTIONS)[]>(...statuses: S) {
  const out = {} as { [K in S[number]]: { description: string; content: { [PROBLEM_CONTENT_TYPE]: { schema: typeof ProblemSchema } } } };
  for (const s of statuses) {
    (out as Record<number, unknown>)[s] = { description: DESCRIPTIONS[s], content: { [PROBLEM_CONTENT_TYPE]: { schema: ProblemSchema } } };
  }
  // Every authenticated operation is rate limited per credential (src/app/rate-limit.ts).
  if ((statuses as readonly number[]).includes(401)) {
    (out as Record<number, unknown>)[429] = { description: RATE_LIMITED, content: { [PROBLEM_CONTENT_TYPE]: { schema: ProblemSchema } } };
  }
  return out;
}

const RATE_LIMITED = "Too many requests from this credential; `Retry-After` says when to try again.";

const DESCRIPTIONS = {
  400: "Invalid request: `errors` lists each field path and message.",
  401: "Missing, invalid or expired credentials.",
  403: "The caller's role is too low for this operation.",
  404: "Not found (ids of other tenants are never revealed).",
  409: "Conflict with the current state.",
  410: "It existed but has expired.",
  412: "The expected revision does not match.",
  413: "The request body is larger than the configured limit.",
  415: "The request body must be application/json.",
  428: "This request must carry If-Match with the revision it is based on.",
  503: "Busy for the moment: `Retry-After` says when to send it again.",
} as const;
