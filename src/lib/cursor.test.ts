import { describe, expect, it } from "vitest";
import { z } from "zod";
import { decodeCursor, encodeCursor, PageQuery } from "./cursor.ts";

const Key = z.strictObject({ id: z.int() });

describe("cursors", () => {
  it("round-trip the key", () => {
    expect(decodeCursor(encodeCursor({ id: 42 }), Key)).toEqual({ id: 42 });
  });

  it.each(["", "not base64 !", encodeCursor({ id: "x" }), encodeCursor([1]), Buffer.from("{").toString("base64url")])(
    "decode garbage %j to null",
    (c) => expect(decodeCursor(c, Key)).toBeNull(),
  );

  it("page query defaults and bounds", () => {
    expect(PageQuery.parse({})).toEqual({ limit: 50 });
    expect(PageQuery.safeParse({ limit: "0" }).success).toBe(false);
    expect(PageQuery.safeParse({ limit: "101" }).success).toBe(false);
    expect(PageQuery.parse({ limit: "7", cursor: "abc" })).toEqual({ limit: 7, cursor: "abc" });
  });
});
