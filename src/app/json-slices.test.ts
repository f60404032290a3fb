// parseJsonInSlices is JSON.parse, paused: for any JSON text it gives the same value (same keys in
// the same order, duplicates and "__proto__" as JSON.parse has them), and it refuses exactly the
// texts JSON.parse refuses. The texts are made larger than one leaf (16 K characters) so that the
// large containers are assembled by the scanner, not handed to JSON.parse whole. Also: it lets
// other callbacks run while it works (the reason it exists), shown by ordering, not by timing.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseJsonInSlices, yieldToEventLoop } from "./json-slices.ts";

const PAD = "p".repeat(17 * 1024);
/** `json` inside a text too large for one leaf, at several depths. */
const embed = (json: string) => `{"pad":"${PAD}","v":${json},"list":[${json},{"deep":[${json}]},"${PAD}"]}`;

const same = async (text: string) => {
  let expected: unknown;
  try {
    expected = JSON.parse(text);
  } catch {
    await expect(parseJsonInSlices(text)).rejects.toThrow(SyntaxError);
    return;
  }
  const actual = await parseJsonInSlices(text);
  expect(actual).toStrictEqual(expected);
  expect(JSON.stringify(actual)).toBe(JSON.stringify(expected));
};

describe("parseJsonInSlices", () => {
  it("gives JSON.parse's value for any JSON value, large or small", async () => {
    await fc.assert(
      fc.asyncProperty(fc.json(), async (json) => {
        await same(json);
        await same(embed(json));
        await same(` \n\t${embed(json)}\r `);
      }),
      { numRuns: 150 },
    );
  });

  it("keeps duplicate keys and __proto__ as JSON.parse does", async () => {
    const text = `{"__proto__":{"polluted":true},"a":1,"${PAD}":0,"a":2,"list":[${Array.from({ length: 3000 }, (_, i) => `{"__proto__":${i}}`).join(",")}]}`;
    await same(text);
    const value = (await parseJsonInSlices(text)) as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(["__proto__", "a", PAD, "list"]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("handles escapes at the end of strings (backslash runs before a quote)", async () => {
    await same(embed(JSON.stringify(["a\\", "b\\\\", 'c\\"', "\u2028\ud83d\ude00", "\\\\\\"])));
  });

  it("refuses whatever JSON.parse refuses", async () => {
    const valid = embed('{"a":[1,2,{"b":null}],"c":"d"}');
    const broken = [
      `${valid}x`,
      `${valid},`,
      valid.slice(0, -1),
      valid.replace('"pad":', '"pad"'),
      valid.replace('"pad":', "pad:"),
      valid.replace('"list":[', '"list":[,'),
      valid.replace(',"list"', ',,"list"'),
      valid.replace(',"list"', ' "list"'),
      valid.replace("[1,2,", "[1 2,"),
      valid.replace("[1,2,", "[01,2,"),
      valid.replace('"c":"d"', '"c":"d\n"'),
      valid.replace('"c":"d"', '"c":d'),
      `${valid.slice(0, -1)},}`,
      `[${Array.from({ length: 9000 }, () => "1").join(",")},]`,
      `[${Array.from({ length: 9000 }, () => "true").join(",")}]]`,
      `"${PAD}`,
      `${valid}${valid}`,
      "",
      "   ",
    ];
    for (const text of broken) await same(text);
  });

  it("gives other callbacks their turn while it works", async () => {
    const text = JSON.stringify({ list: Array.from({ length: 100_000 }, (_, i) => ({ i, s: `item ${i}` })) });
    const order: string[] = [];
    const parsing = parseJsonInSlices(text).then(() => order.push("parsed"));
    // Queued after the parse started: it runs before the parse ends only if the parse pauses.
    await yieldToEventLoop();
    order.push("other");
    await parsing;
    expect(order).toEqual(["other", "parsed"]);
  });
});
