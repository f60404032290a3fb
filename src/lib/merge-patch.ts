// RFC 7396 JSON merge patch, in one place for settings PATCH and draft patches: given fields
// replace (objects merge, arrays replace), null removes. Recursion is bounded by the body guard's
// nesting limit (src/app/text-guard.ts), so a patch cannot be deep enough to overflow the stack.
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = target !== null && typeof target === "object" && !Array.isArray(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}
