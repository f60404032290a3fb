// The one timer loop of the Node background workers (rollout scheduler, webhook dispatcher): a
// pass every intervalMs, passes never overlapping (the next is scheduled when one ends), a failed
// pass logged and the loop kept going, and stop() that awaits the pass in flight so shutdown
// never cuts one in half.
export interface IntervalLoop {
  start(intervalMs: number): void;
  stop(): Promise<void>;
}

export function intervalLoop(pass: () => Promise<unknown>, onError: (err: unknown) => void): IntervalLoop {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<unknown> | undefined;
  let stopped = false;
  return {
    start(intervalMs) {
      stopped = false;
      const tick = () => {
        running = pass()
          .catch(onError)
          .finally(() => {
            running = undefined;
            if (!stopped) timer = setTimeout(tick, intervalMs);
          });
      };
      timer = setTimeout(tick, intervalMs);
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
