// A fixture for exit-code.test.ts (not a suite of its own: *.check.ts is outside vitest's include).
import { expect, it } from "vitest";

it("fails on purpose", () => {
  expect(1).toBe(2);
});
