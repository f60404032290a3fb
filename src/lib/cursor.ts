// Keyset pagination, one way for every list: opaque cursors (base64url JSON of the last row's
// sort key), read with one 400 for a cursor a client altered, invented or took from another list,
// tenant or environment (never a 500), and a page cut from a query that fetched limit + 1 rows.
import { z } from "zod";
import { ProblemError } from "../app/problem.ts";

export function encodeCursor(key: unknown): string {
  return Buffer.from(JSON.stringify(key), "utf8").toString("base64url");
}

export function decodeCursor<T extends z.ZodType>(cursor: string, shape: T): z.output<T> | null {
  try {
    const parsed = shape.safeParse(JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export const PageQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().min(1).max(512).optional(),
});

/** The one cursor error of every list. */
export const invalidCursor = () => new ProblemError(400, "The cursor is not valid.", { errors: [{ path: "cursor", message: "not a cursor from this list" }] });

/** The cursor's key; undefined without a cursor; invalidCursor when it does not decode to `shape`. */
export function readCursor<T extends z.ZodType>(cursor: string | undefined, shape: T): z.output<T> | undefined {
  if (cursor === undefined) return undefined;
  const key = decodeCursor(cursor, shape);
  if (key === null) throw invalidCursor();
  return key;
}

/** The first `limit` of `rows` (fetched with limit + 1: the extra row says another page exists), and the next page's cursor. */
export function keysetPage<R>(rows: R[], limit: number, keyOf: (last: R) => unknown): { items: R[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last !== undefined ? encodeCursor(keyOf(last)) : null };
}
