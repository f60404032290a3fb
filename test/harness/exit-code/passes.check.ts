// A fixture for exit-code.test.ts (not a suite of its own: *.check.ts is outside vitest's include).
import { expect, it } from "vitest";

it("passes", () => {
  expect(1).toBe(1);
});
