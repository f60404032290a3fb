import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ProblemError } from "../app/problem.ts";
import { decodeCursor, encodeCursor, keysetPage, PageQuery, readCursor } from "./cursor.ts";

const Key = z.strictObject({ id: z.int() });

describe("cursors", () => {
  it("round-trip the key", () => {
    expect(decodeCursor(encodeCursor({ id: 42 }), Key)).toEqual({ id: 42 });
  });

  it.each(["", "not base64 !", encodeCursor({ id: "x" }), encodeCursor([1]), Buffer.from("{").toString("base64url")])("decode garbage %j to null", (c) =>
    expect(decodeCursor(c, Key)).toBeNull(),
  );

  it("page query defaults and bounds", () => {
    expect(PageQuery.parse({})).toEqual({ limit: 50 });
    expect(PageQuery.safeParse({ limit: "0" }).success).toBe(false);
    expect(PageQuery.safeParse({ limit: "101" }).success).toBe(false);
    expect(PageQuery.parse({ limit: "7", cursor: "abc" })).toEqual({ limit: 7, cursor: "abc" });
  });

  it("readCursor: no cursor is no key; a foreign one is the one 400 at cursor", () => {
    expect(readCursor(undefined, Key)).toBeUndefined();
    expect(readCursor(encodeCursor({ id: 7 }), Key)).toEqual({ id: 7 });
    let thrown: unknown;
    try {
      readCursor(encodeCursor({ name: "x" }), Key);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ProblemError);
    expect((thrown as ProblemError).status).toBe(400);
    expect((thrown as ProblemError).init.errors).toEqual([{ path: "cursor", message: "not a cursor from this list" }]);
  });

  it("keysetPage: the extra row says another page exists; its cursor is the last kept row's key", () => {
    const rows = [{ id: 1 }, { id: 2 }, { id: 3 }];
    const page = keysetPage(rows, 2, (r) => ({ id: r.id }));
    expect(page.items).toEqual([{ id: 1 }, { id: 2 }]);
    expect(decodeCursor(page.nextCursor!, Key)).toEqual({ id: 2 });
    expect(keysetPage(rows, 3, (r) => r)).toEqual({ items: rows, nextCursor: null });
    expect(keysetPage([], 3, (r) => r)).toEqual({ items: [], nextCursor: null });
  });
});
