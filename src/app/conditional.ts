// Conditional requests (RFC 9110 §13), one way for every route: how an ETag is written, how
// If-None-Match is compared (the poll's 304) and how If-Match names the settings revision a
// change is based on. The ETags are computed before any body is built — a revision number, or
// the render cache's hash — so a 304 costs no rendering; hono/etag hashes the finished body
// instead, which is why it is not used here.
import type { Context } from "hono";
import { ProblemError } from "./problem.ts";

/** The ETag of a settings revision: strong, quoted ("3"). */
export const revisionEtag = (revision: number) => `"${revision}"`;

/** The ETag of generated output: a label (what was rendered) and the first 64 bits of its sha256. */
export const hashEtag = (label: string, hash: string, suffix = "") => `"${label}-${hash.slice("sha256:".length, "sha256:".length + 16)}${suffix}"`;

/** The revision an If-Match / If-None-Match tag names, or null when it names none. */
export function parseRevisionEtag(header: string | undefined): number | null {
  const m = header?.trim().match(/^(?:W\/)?"(\d{1,9})"$/);
  return m ? Number(m[1]) : null;
}

/** If-None-Match holds `etag` (or *): weak comparison, as RFC 9110 §13.1.2 asks of a GET. */
export function noneMatch(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(",").some((t) => {
    const tag = t.trim();
    return tag === "*" || tag === etag || tag === `W/${etag}`;
  });
}

/** Sets the response's ETag; true when the caller already holds it (answer 304 without a body). */
export function notModified(c: Context, etag: string): boolean {
  c.header("ETag", etag);
  return noneMatch(c.req.header("if-none-match"), etag);
}

/**
 * The settings revision an If-Match names; undefined when there is none (or `*`, where `star`
 * allows it); a 400 naming If-Match when it names no revision. PUT refuses `*`: it would defeat the
 * lost-update protection it requires If-Match for.
 */
export function ifMatchRevision(header: string | undefined, opts: { star: boolean }): number | undefined {
  if (header === undefined || (opts.star && header.trim() === "*")) return undefined;
  const revision = parseRevisionEtag(header);
  if (revision === null) {
    throw new ProblemError(400, 'If-Match must name one settings revision, e.g. If-Match: "3" (the ETag of GET .../settings).', {
      errors: [{ path: "If-Match", message: `must be ${opts.star ? "* or " : ""}a quoted revision number such as "3"` }],
    });
  }
  return revision;
}
