// A small structural diff for settings documents and audit entries: the list of changed paths
// with the value before and after. Arrays are compared by index; equal subtrees are skipped.
export interface Change {
  path: string;
  before?: unknown;
  after?: unknown;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

export function diff(before: unknown, after: unknown, path = ""): Change[] {
  if (Object.is(before, after)) return [];
  if (Array.isArray(before) && Array.isArray(after)) {
    const changes: Change[] = [];
    for (let i = 0; i < Math.max(before.length, after.length); i++) {
      changes.push(...diff(i < before.length ? before[i] : undefined, i < after.length ? after[i] : undefined, `${path}[${i}]`));
    }
    return changes;
  }
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => diff(before[k], after[k], path ? `${path}.${k}` : k));
  }
  if (before === undefined) return [{ path: path || "(root)", after }];
  if (after === undefined) return [{ path: path || "(root)", before }];
  return [{ path: path || "(root)", before, after }];
}
