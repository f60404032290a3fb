// JSON.parse of a large body without holding the event loop. A 16 MB audit report took 0.4 s in
// one JSON.parse on the shared 2-core machine, and every other request (every tenant's) waited
// behind it. Here the text is scanned once; every subtree of at most LEAF_CHARS characters is
// handed to the native JSON.parse whole, and only the few large containers above them (the
// report, its constraints, their violation lists) are assembled here; the work pauses for the
// event loop every SLICE_MS. The result is the value JSON.parse would give (the same keys in the
// same order, the last of duplicate keys winning, "__proto__" an own property), and a text
// JSON.parse refuses is refused (a SyntaxError): every character is either inside a subtree
// JSON.parse checks or structure (brackets, commas, colons, whitespace) checked here.

/** A subtree this small (in UTF-16 code units) goes to JSON.parse whole. */
const LEAF_CHARS = 16 * 1024;
/** Work between two pauses for the event loop. */
export const SLICE_MS = 8;

/** The event loop's turn: I/O callbacks (other requests) run before the promise resolves. */
export const yieldToEventLoop = () => new Promise<void>((r) => (globalThis.setImmediate ?? setTimeout)(r));

/** Calls `yieldToEventLoop` once SLICE_MS have passed since the last pause; cheap to call often. */
export function slicer(): () => Promise<void> | undefined {
  let since = performance.now();
  return () => {
    const now = performance.now();
    if (now - since < SLICE_MS) return undefined;
    return yieldToEventLoop().then(() => {
      since = performance.now();
    });
  };
}

/** A direct child of an open container: its text [s, e), its key's text [ks, ke) in an object, or its value once built. */
interface Item {
  ks: number;
  ke: number;
  s: number;
  e: number;
  built: boolean;
  value: unknown;
}
// What an open container expects next. Objects: KEY_OR_CLOSE → COLON → VALUE → COMMA_OR_CLOSE →
// KEY → …; arrays: VALUE_OR_CLOSE → COMMA_OR_CLOSE → VALUE → ….
const Expect = { ValueOrClose: 0, Value: 1, CommaOrClose: 2, KeyOrClose: 3, Key: 4, Colon: 5 } as const;
type Expect = (typeof Expect)[keyof typeof Expect];
interface Frame {
  array: boolean;
  start: number;
  items: Item[];
  expect: Expect;
  ks: number;
  ke: number;
}

const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
const isDelimiter = (c: number) => c === 0x2c || c === 0x5d || c === 0x7d || c === 0x3a || isSpace(c);
const syntax = (at: number) => new SyntaxError(`Unexpected character in JSON at position ${at}`);

/** The end (exclusive) of the string literal opening at `i`. */
function stringEnd(text: string, i: number): number {
  let j = i + 1;
  for (;;) {
    const q = text.indexOf('"', j);
    if (q < 0) throw syntax(i);
    let backslashes = 0;
    for (let k = q - 1; text.charCodeAt(k) === 0x5c; k--) backslashes++;
    if (backslashes % 2 === 0) return q + 1;
    j = q + 1;
  }
}

/** JSON.parse(text), paused for the event loop every SLICE_MS. */
export async function parseJsonInSlices(text: string): Promise<unknown> {
  if (text.length <= LEAF_CHARS) return JSON.parse(text);
  const pause = slicer();
  const stack: Frame[] = [];
  let root: { built: boolean; value: unknown; s: number; e: number } | undefined;
  const add = (s: number, e: number, built: boolean, value: unknown) => {
    const top = stack.at(-1);
    if (!top) {
      root = { built, value, s, e };
      return;
    }
    top.items.push({ ks: top.ks, ke: top.ke, s, e, built, value });
    top.expect = Expect.CommaOrClose;
  };
  const close = async (end: number) => {
    const f = stack.pop()!;
    if (end - f.start <= LEAF_CHARS) return add(f.start, end, false, undefined);
    const itemValue = (it: Item) => (it.built ? it.value : JSON.parse(text.slice(it.s, it.e)));
    let value: unknown;
    if (f.array) {
      const out: unknown[] = new Array(f.items.length);
      for (let n = 0; n < f.items.length; n++) {
        out[n] = itemValue(f.items[n]!);
        if ((n & 63) === 0) await pause();
      }
      value = out;
    } else {
      const out: Record<string, unknown> = {};
      for (let n = 0; n < f.items.length; n++) {
        const it = f.items[n]!;
        const key = JSON.parse(text.slice(it.ks, it.ke)) as string;
        // An own property even for "__proto__", as JSON.parse makes it.
        Object.defineProperty(out, key, { value: itemValue(it), writable: true, enumerable: true, configurable: true });
        if ((n & 63) === 0) await pause();
      }
      value = out;
    }
    add(f.start, end, true, value);
  };

  const n = text.length;
  for (let i = 0, steps = 0; i < n; steps++) {
    if ((steps & 4095) === 0) await pause();
    const c = text.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    const top = stack.at(-1);
    if (!top && root) throw syntax(i);
    const expect = top?.expect ?? Expect.Value;
    if (expect === Expect.CommaOrClose) {
      if (c === 0x2c) top!.expect = top!.array ? Expect.Value : Expect.Key;
      else if (c === (top!.array ? 0x5d : 0x7d)) await close(i + 1);
      else throw syntax(i);
      i++;
      continue;
    }
    if (expect === Expect.Colon) {
      if (c !== 0x3a) throw syntax(i);
      top!.expect = Expect.Value;
      i++;
      continue;
    }
    if (expect === Expect.KeyOrClose || expect === Expect.Key) {
      if (c === 0x7d && expect === Expect.KeyOrClose) {
        await close(i + 1);
        i++;
        continue;
      }
      if (c !== 0x22) throw syntax(i);
      const e = stringEnd(text, i);
      top!.ks = i;
      top!.ke = e;
      top!.expect = Expect.Colon;
      i = e;
      continue;
    }
    // A value (or, right after "[", the end of the array).
    if (c === 0x5d && expect === Expect.ValueOrClose) {
      await close(i + 1);
      i++;
    } else if (c === 0x7b || c === 0x5b) {
      stack.push({ array: c === 0x5b, start: i, items: [], expect: c === 0x5b ? Expect.ValueOrClose : Expect.KeyOrClose, ks: 0, ke: 0 });
      i++;
    } else if (c === 0x22) {
      const e = stringEnd(text, i);
      add(i, e, false, undefined);
      i = e;
    } else {
      let e = i;
      while (e < n && !isDelimiter(text.charCodeAt(e))) e++;
      if (e === i) throw syntax(i);
      add(i, e, false, undefined);
      i = e;
    }
  }
  if (stack.length || !root) throw new SyntaxError("Unexpected end of JSON input");
  return root.built ? root.value : JSON.parse(text.slice(root.s, root.e));
}
