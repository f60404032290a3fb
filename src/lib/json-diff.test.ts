import { describe, expect, it } from "vitest";
import { diff } from "./json-diff.ts";

describe("diff", () => {
  it("is empty for equal documents, whatever their key order", () => {
    expect(diff({ a: 1, b: { c: [1, 2] } }, { b: { c: [1, 2] }, a: 1 })).toEqual([]);
  });

  it("names added, removed and changed paths, sorted by key", () => {
    expect(diff({ a: 1, b: { c: true }, list: [1, 2, 3] }, { a: 2, b: {}, list: [1, 5], d: "x" })).toEqual([
      { path: "a", before: 1, after: 2 },
      { path: "b.c", before: true },
      { path: "d", after: "x" },
      { path: "list[1]", before: 2, after: 5 },
      { path: "list[2]", before: 3 },
    ]);
  });

  it("treats a type change as a replacement", () => {
    expect(diff({ a: [1] }, { a: { 0: 1 } })).toEqual([{ path: "a", before: [1], after: { 0: 1 } }]);
    expect(diff(null, { a: 1 })).toEqual([{ path: "(root)", before: null, after: { a: 1 } }]);
  });
});
