// The request body guard: what no route should ever see, refused once here, before any route
// reads a body, with a 400 naming where (found by an outside probe, issue 13):
// - bytes that are not UTF-8: a Request's .json() would quietly turn them into U+FFFD and the
//   route would store that (201); the body is decoded strictly instead, and what the routes parse
//   is that strict decoding;
// - JSON nested deeper than MAX_JSON_DEPTH: no document of this API nests more than ~10 levels,
//   and every later walk over a body (zod, diffs, hashing) may then recurse safely; the walk here
//   is iterative, so a body 20,000 levels deep costs one pass, not a stack overflow (a 500);
// - text PostgreSQL cannot store: U+0000, or an unpaired surrogate (legal in a JSON escape,
//   "\ud800", but not UTF-8, so the driver would silently store U+FFFD), in any string or key of
//   a JSON body or in the query string.
// An empty body with a JSON content type is no body (curl -d '' sends one): a route that takes no
// body accepts it, one that needs a body names the fields it lacks, instead of "Malformed JSON".
// The body is parsed once, here, and the route's validator gets that value. A large body (an audit
// report: up to 16 MB) is decoded, parsed and walked in slices with the event loop free between
// them (json-slices.ts): done at once, each step held every other tenant's requests for 0.1–1 s.
import type { Context, MiddlewareHandler, Next } from "hono";
import { fieldPath, type FieldIssue } from "../policies/index.ts";
import { parseJsonInSlices, slicer } from "./json-slices.ts";
import { ProblemError } from "./problem.ts";

/** The deepest nesting a JSON body may have; the body itself is level 1. */
export const MAX_JSON_DEPTH = 64;
const MESSAGE = "must not contain U+0000 or an unpaired surrogate";
const MAX_ERRORS = 100;
const JSON_TYPE = /^application\/(.+\+)?json\b/i;
const storable = (s: string) => !s.includes("\0") && s.isWellFormed();
// Strict: a bad byte throws instead of becoming U+FFFD. A leading byte-order mark is dropped, as
// Request.json() does.
const strict = new TextDecoder("utf-8", { fatal: true });
/** Above this many bytes a body is decoded, parsed and walked in slices. */
const SLICED_BYTES = 256 * 1024;
const DECODE_SLICE_BYTES = 512 * 1024;

/** `strict.decode(bytes)`, a slice at a time with the event loop's turn between (throws alike). */
async function decodeInSlices(bytes: Uint8Array): Promise<string> {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  const pause = slicer();
  const parts: string[] = [];
  for (let at = 0; at < bytes.length; at += DECODE_SLICE_BYTES) {
    parts.push(decoder.decode(bytes.subarray(at, at + DECODE_SLICE_BYTES), { stream: true }));
    await pause();
  }
  parts.push(decoder.decode());
  return parts.join("");
}

export const guardRequestBody: MiddlewareHandler = (c, next) => {
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

  if (!bodyless && JSON_TYPE.test(c.req.header("content-type") ?? "")) {
    // Inside bodyLimit: a body over the limit throws here and becomes its 413.
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    if (bytes.byteLength === 0) {
      withoutBody(c);
      return next();
    }
    const sliced = bytes.byteLength > SLICED_BYTES;
    let text: string;
    try {
      text = sliced ? await decodeInSlices(bytes) : strict.decode(bytes);
    } catch {
      throw new ProblemError(400, "The request body is not valid UTF-8.", { errors: invalidUtf8(bytes) });
    }
    // What the route reads is the strict decoding, parsed once (here). hono keeps promises in
    // bodyCache, though its type says values.
    (c.req.bodyCache as Record<string, unknown>).text = Promise.resolve(text);
    let body: unknown;
    try {
      body = sliced ? await parseJsonInSlices(text) : JSON.parse(text);
    } catch (err) {
      // Malformed JSON: the validator says so (hono's own 400), without parsing it again.
      c.req.json = () => Promise.reject(err);
      return next();
    }
    c.req.json = <T>() => Promise.resolve(body as T);
    // Without a \u escape no string or key can hold U+0000 or a lone surrogate (JSON.parse
    // refuses a raw control character, and strict UTF-8 has no surrogates), and a scan of the
    // text bounds its nesting: then the walk has nothing to find. It was ~6 % of the API's CPU
    // under bench:fleet, every status report walked object by object.
    if (!sliced && !text.includes("\\u") && maxNesting(text) <= MAX_JSON_DEPTH) return next();
    const errors: FieldIssue[] = [];
    let tooDeep: FieldIssue | undefined;
    const visitor: Visitor = {
      onString: (s, path) => !storable(s) && errors.push({ path: path(), message: MESSAGE }) >= MAX_ERRORS,
      onKey: (k, path) => !storable(k) && errors.push({ path: path(), message: `key ${MESSAGE}` }) >= MAX_ERRORS,
      onTooDeep: (path) => {
        tooDeep = { path: path(), message: `must not nest deeper than ${MAX_JSON_DEPTH} levels` };
      },
    };
    if (sliced) await walkJsonInSlices(body, visitor);
    else walkJson(body, visitor);
    if (tooDeep) throw new ProblemError(400, `The request body is nested deeper than ${MAX_JSON_DEPTH} levels.`, { errors: [tooDeep] });
    if (errors.length) throw new ProblemError(400, "The request body is invalid.", { errors });
  }
  await next();
};

/** The deepest nesting of objects and arrays in `json` (valid JSON text; the outermost is 1). */
export function maxNesting(json: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (inString) {
      // A backslash escapes the next character.
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) max = Math.max(max, ++depth);
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

/** The request as if it had been sent without a body or content type. */
function withoutBody(c: Context): void {
  const headers = new Headers(c.req.raw.headers);
  headers.delete("content-type");
  headers.delete("content-length");
  c.req.raw = new Request(c.req.raw.url, { method: c.req.method, headers, signal: c.req.raw.signal });
  c.req.bodyCache = {};
}

interface Visitor {
  /** Return true to stop the walk. `path()` builds the value's field path (only when asked). */
  onString(s: string, path: () => string): boolean;
  onKey(k: string, path: () => string): boolean;
  /** A value deeper than MAX_JSON_DEPTH: the walk stops there. */
  onTooDeep(path: () => string): void;
}

/** A parent chain instead of a path array per value: paths are built only for errors. */
interface Step {
  parent: Step | null;
  key: string | number;
}
const pathOf = (step: Step | null): string => {
  const keys: (string | number)[] = [];
  for (let s = step; s; s = s.parent) keys.push(s.key);
  return fieldPath(keys.reverse());
};

/** Visits every string and key of a parsed JSON value depth-first, in document order, without recursion. */
export function walkJson(root: unknown, visit: Visitor): void {
  const walk = walker(root, visit);
  while (walk(Number.POSITIVE_INFINITY));
}

/** walkJson, with the event loop's turn every few milliseconds. */
export async function walkJsonInSlices(root: unknown, visit: Visitor): Promise<void> {
  const walk = walker(root, visit);
  const pause = slicer();
  while (walk(4096)) await pause();
}

/** The walk as a function doing up to `steps` values a call; false once it is done. */
function walker(root: unknown, visit: Visitor): (steps: number) => boolean {
  const stack: { value: unknown; step: Step | null; depth: number }[] = [{ value: root, step: null, depth: 1 }];
  return (steps) => {
    for (let n = 0; n < steps; n++) {
      const top = stack.pop();
      if (!top) return false;
      const { value, step, depth } = top;
      if (typeof value === "string") {
        if (visit.onString(value, () => pathOf(step))) return false;
        continue;
      }
      if (value === null || typeof value !== "object") continue;
      if (depth > MAX_JSON_DEPTH) {
        visit.onTooDeep(() => pathOf(step));
        return false;
      }
      if (Array.isArray(value)) {
        for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], step: { parent: step, key: i }, depth: depth + 1 });
        continue;
      }
      const entries = Object.entries(value);
      for (const [k] of entries) if (visit.onKey(k, () => pathOf({ parent: step, key: k }))) return false;
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, v] = entries[i]!;
        stack.push({ value: v, step: { parent: step, key: k }, depth: depth + 1 });
      }
    }
    return stack.length > 0;
  };
}

// Only on the error path: where were the bad bytes? Each invalid sequence is replaced by a lone
// surrogate (which no valid UTF-8 decodes to), the result parsed, and the strings and keys holding
// one are named, each bad byte shown as U+FFFD in a key's path.
const MARK = "\udfff";
const lenient = new TextDecoder("utf-8", { ignoreBOM: false });

function invalidUtf8(bytes: Uint8Array): FieldIssue[] {
  let text = "";
  let start = 0;
  for (let i = 0; i < bytes.length; ) {
    const n = utf8SequenceLength(bytes, i);
    if (n) {
      i += n;
      continue;
    }
    text += lenient.decode(bytes.subarray(start, i)) + MARK;
    start = ++i;
  }
  text += lenient.decode(bytes.subarray(start));
  const message = "must be valid UTF-8";
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return [{ path: "(root)", message }]; // the bad bytes are outside any string
  }
  const errors: FieldIssue[] = [];
  const shown = (path: string) => path.replaceAll(MARK, "\ufffd");
  walkJson(body, {
    onString: (s, path) => s.includes(MARK) && errors.push({ path: shown(path()), message }) >= MAX_ERRORS,
    onKey: (k, path) => k.includes(MARK) && errors.push({ path: shown(path()), message: `key ${message}` }) >= MAX_ERRORS,
    onTooDeep: () => {},
  });
  return errors.length ? errors : [{ path: "(root)", message }];
}

/** The length of the well-formed UTF-8 sequence at i (Unicode table 3-7), or 0. */
function utf8SequenceLength(b: Uint8Array, i: number): number {
  const x = b[i]!;
  if (x < 0x80) return 1;
  const cont = (j: number, lo = 0x80, hi = 0xbf) => j < b.length && b[j]! >= lo && b[j]! <= hi;
  if (x >= 0xc2 && x <= 0xdf) return cont(i + 1) ? 2 : 0;
  if (x >= 0xe0 && x <= 0xef) return cont(i + 1, x === 0xe0 ? 0xa0 : 0x80, x === 0xed ? 0x9f : 0xbf) && cont(i + 2) ? 3 : 0;
  if (x >= 0xf0 && x <= 0xf4) return cont(i + 1, x === 0xf0 ? 0x90 : 0x80, x === 0xf4 ? 0x8f : 0xbf) && cont(i + 2) && cont(i + 3) ? 4 : 0;
  return 0;
}
