/**
 * The run's API budget (`http.maxRequestsPerSecond`): when each attempt may
 * go. At most `limit` attempts in any `interval` (budgetWindow), so exactly
 * the rate over time, in bursts of at most a tenth of a second's share.
 * Hand-written: p-throttle's strict mode spaces calls ceil(interval / limit)
 * ms apart, which let 300/s through as ~250/s and capped any rate at ~1 000/s
 * (test/unit/source/api-budget.test.ts, run against it before this module
 * replaced it), and its windowed mode lets two windows' worth through across
 * a boundary.
 */

/**
 * The budget's window for `perSecond`: the rate exactly (limit / interval),
 * in bursts of at most a tenth of a second's budget: 100/s is 10 per 100 ms,
 * 15/s one per 66.7 ms (a limit rounded per 100 ms would allow 20/s).
 */
export function budgetWindow(perSecond: number): { readonly limit: number; readonly interval: number } {
  const limit = Math.max(1, Math.floor(perSecond / 10));
  return { limit, interval: (1000 * limit) / perSecond };
}

/** A gate: each call resolves, in call order, when one more attempt fits the budget. */
export function createBudget(perSecond: number): () => Promise<void> {
  const { limit, interval } = budgetWindow(perSecond);
  // When the last `limit` attempts went, oldest at `oldest` (a ring once full).
  const sent = new Float64Array(limit);
  let count = 0;
  let oldest = 0;
  const waiting: (() => void)[] = [];
  let timer: NodeJS.Timeout | null = null;

  const nextFree = (): number => (count < limit ? -Infinity : (sent[oldest] as number) + interval);
  const record = (at: number): void => {
    if (count < limit) sent[count++] = at;
    else {
      sent[oldest] = at;
      oldest = (oldest + 1) % limit;
    }
  };
  const wake = (now: number): void => {
    // Timers round to whole milliseconds and may fire early by a fraction: the loop re-checks.
    timer = setTimeout(release, Math.max(1, Math.ceil(nextFree() - now)));
  };
  const release = (): void => {
    timer = null;
    const now = performance.now();
    while (waiting.length > 0 && nextFree() <= now) {
      record(now);
      (waiting.shift() as () => void)();
    }
    if (waiting.length > 0) wake(now);
  };

  return () => {
    const now = performance.now();
    if (waiting.length === 0 && nextFree() <= now) {
      record(now);
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      waiting.push(resolve);
      if (timer === null) wake(now);
    });
  };
}
