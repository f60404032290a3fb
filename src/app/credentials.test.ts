import { describe, expect, it } from "vitest";
import { generateCredential, hashSecret, parseCredential, secretMatches } from "./credentials.ts";

describe("credentials", () => {
  it("generate → parse → match round-trips, and the hash is of the secret only", () => {
    for (const kind of ["ghk", "gha"] as const) {
      const c = generateCredential(kind);
      const parsed = parseCredential(c.token);
      expect(parsed).toMatchObject({ kind, prefix: c.prefix });
      expect(c.secretHash).toBe(hashSecret(parsed!.secret));
      expect(c.token).not.toContain(c.secretHash);
      expect(secretMatches(parsed!.secret, c.secretHash)).toBe(true);
      expect(secretMatches(`${parsed!.secret.slice(1)}x`, c.secretHash)).toBe(false);
    }
  });

  it("tokens are unique and secrets may contain _ without confusing the parser", () => {
    const tokens = new Set(Array.from({ length: 200 }, () => generateCredential("ghk").token));
    expect(tokens.size).toBe(200);
    expect(parseCredential(`ghk_0123456789abcdef_${"_".repeat(43)}`)).toMatchObject({ prefix: "0123456789abcdef", secret: "_".repeat(43) });
  });

  it.each([
    "",
    "ghk_",
    `ghx_0123456789abcdef_${"a".repeat(43)}`,
    `ghk_0123456789ABCDEF_${"a".repeat(43)}`,
    `ghk_0123456789abcdef_${"a".repeat(42)}`,
    ` ghk_0123456789abcdef_${"a".repeat(43)}`,
  ])("rejects %j", (t) => expect(parseCredential(t)).toBeUndefined());

  it("a corrupt stored hash never matches", () => {
    expect(secretMatches("x", "zz")).toBe(false);
    expect(secretMatches("x", "")).toBe(false);
  });
});
