// The idle collector's policy (agent/heap.ts): when it runs a full GC after a pass. Its effect on
// RSS is measured by bench/agent against a real cluster; here, with a counted gc and a scripted
// old-space size, which passes collect.
import { describe, expect, it } from "vitest";
import { COLLECT_STEP_BYTES, createIdleCollector } from "./heap.ts";

const MiB = 1024 * 1024;

function scripted(sizes: number[]) {
  let i = 0;
  let collected = 0;
  const gc = () => {
    collected++;
  };
  // Each call reads the next size; after a gc the collector reads once more (the floor).
  const used = () => sizes[Math.min(i++, sizes.length - 1)] ?? 0;
  return { gc, used, collected: () => collected };
}

describe("createIdleCollector", () => {
  it("never collects when Node was started without --expose-gc", () => {
    const collect = createIdleCollector(undefined, () => 100 * MiB);
    expect([collect(), collect(), collect()]).toEqual([false, false, false]);
  });

  it("collects after the first pass, then once the old space has grown by a step over the floor", () => {
    // pass 1: 30 MiB seen, gc, floor 16; then 16.5 and 16.9 (under a step), 17.1 (a step): gc, floor 16.2.
    const s = scripted([30 * MiB, 16 * MiB, 16.5 * MiB, 16.9 * MiB, 17.1 * MiB, 16.2 * MiB, 16.4 * MiB]);
    const collect = createIdleCollector(s.gc, s.used, MiB);
    expect([collect(), collect(), collect(), collect(), collect()]).toEqual([true, false, false, true, false]);
    expect(s.collected()).toBe(2);
  });

  it("follows V8's own full GCs down: the step counts from the least size seen", () => {
    // floor 20 after the first gc; V8 collects on its own (15); 15.9 is under a step from 15, 16.1 is not.
    const s = scripted([25 * MiB, 20 * MiB, 15 * MiB, 15.9 * MiB, 16.1 * MiB, 15 * MiB]);
    const collect = createIdleCollector(s.gc, s.used, MiB);
    expect([collect(), collect(), collect(), collect()]).toEqual([true, false, false, true]);
    expect(s.collected()).toBe(2);
  });

  it("reads the old space through node:v8 by default, and a step is 1 MiB", () => {
    let collected = 0;
    const collect = createIdleCollector(() => collected++);
    expect(collect()).toBe(true);
    expect(collected).toBe(1);
    expect(COLLECT_STEP_BYTES).toBe(MiB);
  });
});
