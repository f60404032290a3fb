import { afterEach, describe, expect, it } from "vitest";
import { cachedRevision, forgetRevision, REVISION_CACHE_LIMIT, rememberRevision, revisionOrLoad, setRevisionCacheTtl } from "./revision-cache.ts";

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

  it("is bounded: when full, the least recently polled environment goes, a busy one stays", () => {
    setRevisionCacheTtl(1000);
    const now = 50_000;
    const env = (i: number) => `00000000-0000-4000-9000-${i.toString(16).padStart(12, "0")}`;
    rememberRevision(T, E, 7, now);
    for (let i = 1; i < REVISION_CACHE_LIMIT; i++) rememberRevision(T, env(i), i, now);
    expect(cachedRevision(T, E, now)).toBe(7); // polled again: now the most recent
    rememberRevision(T, env(REVISION_CACHE_LIMIT), 1, now); // one over the limit
    expect(cachedRevision(T, env(1), now)).toBeUndefined(); // the least recently used went
    expect(cachedRevision(T, E, now)).toBe(7);
    expect(cachedRevision(T, env(2), now)).toBe(2);
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

  // A promise the test settles by hand, standing in for the database query.
  function deferred() {
    let resolve!: (v: number | null) => void, reject!: (e: unknown) => void;
    const promise = new Promise<number | null>((res, rej) => ((resolve = res), (reject = rej)));
    return { promise, resolve, reject };
  }
  const settle = () => new Promise((r) => setTimeout(r, 0));

  it("a hit in the last quarter of its TTL answers at once and refreshes in the background, once", async () => {
    setRevisionCacheTtl(1000);
    rememberRevision(T, E, 3, Date.now() - 800); // 200 ms left
    const query = deferred();
    let loads = 0;
    const load = () => (loads++, query.promise);
    expect(await revisionOrLoad(T, E, load)).toBe(3);
    expect(await revisionOrLoad(T, E, load)).toBe(3);
    expect(loads).toBe(1);
    query.resolve(4);
    await settle();
    expect(cachedRevision(T, E)).toBe(4);
  });

  it("a hit early in its TTL does not query", async () => {
    setRevisionCacheTtl(1000);
    rememberRevision(T, E, 3);
    let loads = 0;
    expect(await revisionOrLoad(T, E, async () => ++loads)).toBe(3);
    expect(loads).toBe(0);
  });

  it("the refreshed entry's TTL counts from before its query, so nothing outlives the TTL", async () => {
    setRevisionCacheTtl(1000);
    const before = Date.now();
    const query = deferred();
    const pending = revisionOrLoad(T, E, () => query.promise);
    await new Promise((r) => setTimeout(r, 40));
    query.resolve(5);
    expect(await pending).toBe(5);
    const answered = Date.now();
    expect(cachedRevision(T, E, before + 999)).toBe(5);
    expect(cachedRevision(T, E, answered + 960)).toBeUndefined();
  });

  it("a write while a query is in flight keeps that query's answer out, and the next poll reads afresh", async () => {
    setRevisionCacheTtl(1000);
    const first = deferred();
    const pending = revisionOrLoad(T, E, () => first.promise);
    forgetRevision(T, E); // the write commits while the read is on its way
    let loads = 0;
    const second = revisionOrLoad(T, E, async () => (loads++, 9));
    first.resolve(8); // the old revision, read before the write
    expect(await pending).toBe(8); // the poll that overlapped the write may see either
    expect(await second).toBe(9);
    expect(loads).toBe(1);
    expect(cachedRevision(T, E)).toBe(9);
  });

  it("a failed background refresh does not fail the poll; once the entry expires the failure is reported", async () => {
    setRevisionCacheTtl(1000);
    rememberRevision(T, E, 3, Date.now() - 800);
    const boom = new Error("database unreachable");
    expect(await revisionOrLoad(T, E, () => Promise.reject(boom))).toBe(3);
    await settle();
    expect(cachedRevision(T, E)).toBe(3);
    rememberRevision(T, E, 3, Date.now() - 1000); // expired
    await expect(revisionOrLoad(T, E, () => Promise.reject(boom))).rejects.toBe(boom);
  });
});
