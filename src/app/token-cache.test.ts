// The verifier remembers tokens it verified, for speed; a remembered token must still expire,
// must not be valid before its nbf, and a forgery must never be remembered.
import { describe, expect, it } from "vitest";
import { otherKey, signToken, testJwtConfig } from "../../test/harness/tokens.ts";
import { createTokenVerifier } from "./auth.ts";

const claims = { sub: "alice", tenant: "acme", role: "viewer" };
const at = (s: number) => new Date(s * 1000);

describe("verified-token memory", () => {
  it("a remembered token is refused once it expires (beyond the skew)", async () => {
    const verify = createTokenVerifier(testJwtConfig());
    const now = Math.floor(Date.now() / 1000);
    const token = await signToken(claims, { iat: now, exp: now + 60 });
    expect((await verify(token, at(now))).sub).toBe("alice");
    expect((await verify(token, at(now + 60 + 29))).sub).toBe("alice"); // within the 30 s skew
    await expect(verify(token, at(now + 60 + 31))).rejects.toMatchObject({ status: 401 });
  });

  it("a token is not valid before its nbf, even after it verified once later", async () => {
    const verify = createTokenVerifier(testJwtConfig());
    const now = Math.floor(Date.now() / 1000);
    const token = await signToken(claims, { iat: now, nbf: now + 120, exp: now + 600 });
    expect((await verify(token, at(now + 120))).sub).toBe("alice");
    await expect(verify(token, at(now + 60))).rejects.toMatchObject({ status: 401 });
  });

  it("a forged token is refused every time (nothing is remembered for it)", async () => {
    const verify = createTokenVerifier(testJwtConfig());
    const forged = await signToken(claims, { key: otherKey });
    for (let i = 0; i < 3; i++) await expect(verify(forged, new Date())).rejects.toMatchObject({ status: 401 });
  });

  it("a verifier for another key set does not share the memory", async () => {
    const token = await signToken(claims);
    expect((await createTokenVerifier(testJwtConfig())(token, new Date())).sub).toBe("alice");
    const other = createTokenVerifier(testJwtConfig({ devKey: otherKey }));
    await expect(other(token, new Date())).rejects.toMatchObject({ status: 401 });
  });
});
