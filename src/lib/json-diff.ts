// A small structural diff for settings documents and audit entries: the list of changed paths
// with the value before and after. Arrays are compared by index; equal subtrees are skipped.
export interface Change {
  path: string;
  before?: unknown;
  after?: unknown;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

// Iterative (an explicit stack, children pushed in reverse so changes come out in document order):
// the documents come from request bodies, and no walk over one may depend on the stack's depth.
export function diff(before: unknown, after: unknown, path = ""): Change[] {
  const changes: Change[] = [];
  const stack: [before: unknown, after: unknown, path: string][] = [[before, after, path]];
  for (let top = stack.pop(); top; top = stack.pop()) {
    const [b, a, p] = top;
    if (Object.is(b, a)) continue;
    if (Array.isArray(b) && Array.isArray(a)) {
      for (let i = Math.max(b.length, a.length) - 1; i >= 0; i--) stack.push([i < b.length ? b[i] : undefined, i < a.length ? a[i] : undefined, `${p}[${i}]`]);
    } else if (isObject(b) && isObject(a)) {
      const keys = [...new Set([...Object.keys(b), ...Object.keys(a)])].sort();
      for (let i = keys.length - 1; i >= 0; i--) stack.push([b[keys[i]!], a[keys[i]!], p ? `${p}.${keys[i]}` : keys[i]!]);
    } else if (b === undefined) changes.push({ path: p || "(root)", after: a });
    else if (a === undefined) changes.push({ path: p || "(root)", before: b });
    else changes.push({ path: p || "(root)", before: b, after: a });
  }
  return changes;
}
