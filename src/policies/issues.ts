// zod issues → "path: message" pairs, the shape the CLI prints and the API puts in problem+json.
import type { z } from "zod";

export interface FieldIssue {
  path: string;
  message: string;
}

export function fieldIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((i) => ({ path: fieldPath(i.path), message: i.message }));
}

/** `a.b[0].c`, or `(root)`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  return path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("").replace(/^\./, "") || "(root)";
}
