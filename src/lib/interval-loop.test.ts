import { afterEach, describe, expect, it, vi } from "vitest";
import { intervalLoop } from "./interval-loop.ts";

/** A pass the test finishes by hand, so overlap and stop() can be observed without real time. */
function manualPass() {
  const pending: (() => void)[] = [];
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    pass: () => {
      calls++;
      return new Promise<void>((resolve) => pending.push(resolve));
    },
    finish: () => pending.shift()?.(),
  };
}

describe("intervalLoop", () => {
  afterEach(() => vi.useRealTimers());

  it("never starts a pass while one runs, and schedules the next when it ends", async () => {
    vi.useFakeTimers();
    const p = manualPass();
    const loop = intervalLoop(p.pass, () => {});
    loop.start(1000);
    await vi.advanceTimersByTimeAsync(1000);
    expect(p.calls).toBe(1);
    await vi.advanceTimersByTimeAsync(5000); // the pass is still running: no second one
    expect(p.calls).toBe(1);
    p.finish();
    await vi.advanceTimersByTimeAsync(1000);
    expect(p.calls).toBe(2);
    p.finish();
    await loop.stop();
  });

  it("logs a failed pass and keeps going", async () => {
    vi.useFakeTimers();
    const errors: unknown[] = [];
    let calls = 0;
    const loop = intervalLoop(
      async () => {
        calls++;
        if (calls === 1) throw new Error("boom");
      },
      (err) => errors.push(err),
    );
    loop.start(10);
    await vi.advanceTimersByTimeAsync(25);
    expect(errors).toEqual([new Error("boom")]);
    expect(calls).toBe(2);
    await loop.stop();
  });

  it("stop() waits for the pass in flight and schedules no other", async () => {
    vi.useFakeTimers();
    const p = manualPass();
    const loop = intervalLoop(p.pass, () => {});
    loop.start(10);
    await vi.advanceTimersByTimeAsync(10);
    let stopped = false;
    const stopping = loop.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(false);
    p.finish();
    await stopping;
    expect(stopped).toBe(true);
    await vi.advanceTimersByTimeAsync(1000);
    expect(p.calls).toBe(1);
  });
});
