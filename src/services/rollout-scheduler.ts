// The rollout scheduler on Node: runRolloutPass (src/services/rollouts.ts) every
// ROLLOUT_INTERVAL_MS, passes never overlapping, stopped (and its pass awaited) on shutdown. On
// Workers the Cron Trigger calls runRolloutPass once a minute instead (src/worker.ts).
import type { Logger } from "pino";
import type { Database } from "../db/client.ts";
import { intervalLoop } from "../lib/interval-loop.ts";
import { runRolloutPass, type RolloutPassResult } from "./rollouts.ts";

export interface RolloutScheduler {
  runOnce(): Promise<RolloutPassResult>;
  start(intervalMs: number): void;
  stop(): Promise<void>;
}

export function createRolloutScheduler(o: { db: Database; pollIntervalSeconds: number; now?: () => Date; logger?: Logger }): RolloutScheduler {
  const runOnce = async () => {
    const r = await runRolloutPass({
      db: o.db,
      now: o.now ?? (() => new Date()),
      pollIntervalSeconds: o.pollIntervalSeconds,
      onError: (err, plan) => o.logger?.error({ err, plan }, "rollout step failed"),
    });
    if (r.promoted > 0) o.logger?.info(r, "rollout steps taken");
    return r;
  };
  const loop = intervalLoop(runOnce, (err) => o.logger?.error({ err }, "rollout pass failed"));
  return { runOnce, start: loop.start, stop: loop.stop };
}
