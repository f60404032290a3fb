// zod issues → "path: message" pairs, the shape the CLI prints and the API puts in problem+json.
import type { z } from "zod";

export interface FieldIssue {
  path: string;
  message: string;
}

export function fieldIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((i) => ({ path: fieldPath(i.path), message: keyMessage(i) ?? i.message }));
}

/** A record's bad key: zod says only "Invalid key in record"; the key schema's own rule says why. */
function keyMessage(i: z.core.$ZodIssue): string | undefined {
  if (i.code !== "invalid_key") return undefined;
  const inner = i.issues.map((x) => x.message).filter(Boolean);
  return inner.length ? inner.join("; ") : undefined;
}

/** `a.b[0].c`, or `(root)`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  return (
    path
      .map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`))
      .join("")
      .replace(/^\./, "") || "(root)"
  );
}
