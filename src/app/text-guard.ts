// PostgreSQL text and jsonb cannot hold U+0000, and an unpaired surrogate (legal in a JSON escape,
// "\ud800") is not UTF-8 at all: the driver would turn it into U+FFFD, silently changing the
// value. Either in any string of a JSON body or a query string is bad input — a 400 naming where,
// before any route sees it — not a database error (a 500) or a quiet rewrite.
import type { Context, MiddlewareHandler, Next } from "hono";
import { fieldPath, type FieldIssue } from "../policies/index.ts";
import { ProblemError } from "./problem.ts";

const MESSAGE = "must not contain U+0000 or an unpaired surrogate";
const storable = (s: string) => !s.includes("\0") && s.isWellFormed();

export const rejectUnstorableText: MiddlewareHandler = (c, next) => {
  // Most requests (the polls) have no query string and, being GETs, no body: nothing to check,
  // and not even an await layer.
  const bodyless = c.req.method === "GET" || c.req.method === "HEAD";
  const hasQuery = c.req.url.includes("?");
  if (bodyless && !hasQuery) return next();
  return check(c, next, bodyless, hasQuery);
};

const check = async (c: Context, next: Next, bodyless: boolean, hasQuery: boolean) => {
  const query: FieldIssue[] = [];
  if (hasQuery) {
    for (const [key, values] of Object.entries(c.req.queries())) {
      if (!storable(key) || values.some((v) => !storable(v))) query.push({ path: key, message: MESSAGE });
    }
  }
  if (query.length) throw new ProblemError(400, "The query string is invalid.", { errors: query });

  if (!bodyless && /^application\/(.+\+)?json\b/i.test(c.req.header("content-type") ?? "")) {
    let body: unknown;
    try {
      body = await c.req.json(); // cached: the route's validator reads the same parse
    } catch {
      return next(); // malformed JSON: the validator says so
    }
    const errors: FieldIssue[] = [];
    walk(body, [], errors);
    if (errors.length) throw new ProblemError(400, "The request body is invalid.", { errors });
  }
  await next();
};

function walk(value: unknown, path: (string | number)[], errors: FieldIssue[]): void {
  if (errors.length >= 100) return;
  if (typeof value === "string") {
    if (!storable(value)) errors.push({ path: fieldPath(path), message: MESSAGE });
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => walk(v, [...path, i], errors));
  } else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      if (!storable(k)) errors.push({ path: fieldPath([...path, k]), message: `key ${MESSAGE}` });
      walk(v, [...path, k], errors);
    }
  }
}
