import { afterEach, describe, expect, it } from "vitest";
import { cachedRevision, forgetRevision, rememberRevision, revisionOrLoad, setRevisionCacheTtl } from "./revision-cache.ts";

const T = "00000000-0000-4000-8000-000000000001";
const U = "00000000-0000-4000-8000-000000000002";
const E = "00000000-0000-4000-8000-0000000000e1";

describe("revision cache (the 304 fast path)", () => {
  afterEach(() => setRevisionCacheTtl(1000));

  it("answers within the TTL and forgets after it", () => {
    setRevisionCacheTtl(1000);
    rememberRevision(T, E, 3, 10_000);
    expect(cachedRevision(T, E, 10_999)).toBe(3);
    expect(cachedRevision(T, E, 11_000)).toBeUndefined();
  });

  it("is keyed by tenant: another tenant never sees an entry", () => {
    rememberRevision(T, E, 3, Date.now());
    expect(cachedRevision(U, E)).toBeUndefined();
  });

  it("a write forgets the entry at once", () => {
    rememberRevision(T, E, 3);
    forgetRevision(T, E);
    expect(cachedRevision(T, E)).toBeUndefined();
  });

  it("TTL 0 disables it", () => {
    setRevisionCacheTtl(0);
    rememberRevision(T, E, 3);
    expect(cachedRevision(T, E)).toBeUndefined();
  });

  it("concurrent misses share one load, and the result is cached", async () => {
    forgetRevision(T, E);
    let loads = 0;
    const load = async () => {
      loads++;
      await new Promise((r) => setTimeout(r, 10));
      return 7;
    };
    const got = await Promise.all(Array.from({ length: 20 }, () => revisionOrLoad(T, E, load)));
    expect(got).toEqual(Array(20).fill(7));
    expect(loads).toBe(1);
    expect(await revisionOrLoad(T, E, load)).toBe(7);
    expect(loads).toBe(1);
  });

  it("with the cache off, every call loads (nothing shared between requests)", async () => {
    setRevisionCacheTtl(0);
    let loads = 0;
    await Promise.all([1, 2, 3].map(() => revisionOrLoad(T, E, async () => ++loads)));
    expect(loads).toBe(3);
  });
});
