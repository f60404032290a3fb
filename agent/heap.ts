// A full garbage collection in the idle gap after a pass, once the old generation has grown by
// COLLECT_STEP_BYTES since the last one — when Node runs with --expose-gc (AGENT_NODE_OPTIONS).
// Why: between passes the agent sleeps, and what a pass leaves behind reaches V8's old generation
// only slowly (objects alive across a scavenge are promoted). V8 collects it when the old
// generation reaches its limit, which it sets 8 MiB above the live data after each full GC (its
// minimum growing step, larger than the 1.3× factor a 64 MiB heap gets): so RSS climbed ~9 MiB
// over the first ~860 loops of bench/agent before the first such GC, then saw-toothed by as much.
// V8's knobs for this (--optimize-for-size, --heap-growing-percent) are refused in NODE_OPTIONS,
// and a smaller --max-old-space-size only moves the out-of-memory crash closer. Collecting here,
// when the agent knows it is idle, bounds the garbage to about one step: ~1 MiB of garbage costs
// one full GC of a ~16 MiB heap (milliseconds) every hundred or so loops. Measured in
// agent/README.md#memory.
import { getHeapSpaceStatistics } from "node:v8";

export const COLLECT_STEP_BYTES = 1024 * 1024;

const oldSpaceUsed = () => getHeapSpaceStatistics().find((s) => s.space_name === "old_space")?.space_used_size ?? 0;

/**
 * Returns the function the loop calls after each pass: it collects (and returns true) the first
 * time, then whenever the old space has grown by `step` over the least it was seen at since the
 * last collection (V8's own full GCs lower that floor too). Without a `gc` (Node started without
 * --expose-gc) it never collects.
 */
export function createIdleCollector(gc: (() => void) | undefined = globalThis.gc, used: () => number = oldSpaceUsed, step = COLLECT_STEP_BYTES): () => boolean {
  if (typeof gc !== "function") return () => false;
  let floor: number | undefined;
  return () => {
    const now = used();
    if (floor !== undefined && now - Math.min(floor, now) < step) {
      floor = Math.min(floor, now);
      return false;
    }
    gc();
    floor = used();
    return true;
  };
}
