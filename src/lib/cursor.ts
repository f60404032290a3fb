// Opaque cursors for keyset pagination: base64url JSON of the last row's sort key. A cursor a
// client altered or invented decodes to null and the route answers 400, never 500.
import { z } from "zod";

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
