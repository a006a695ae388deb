/** The run's API budget: the configured rate exactly, never more in any tenth of a second. */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { budgetWindow, createBudget } from '../../../src/source/api-budget.js';

const rateOf = ({ limit, interval }: { readonly limit: number; readonly interval: number }): number => (limit * 1000) / interval;

describe('budgetWindow', () => {
  it('15 requests per second are 15, not 20 (a per-100-ms limit rounded up from 1.5)', () => {
    expect(rateOf(budgetWindow(15))).toBeCloseTo(15, 9);
  });

  it('allows exactly http.maxRequestsPerSecond over time, for any value the config accepts', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.001, max: 10_000, noNaN: true, noDefaultInfinity: true }), (perSecond) => {
        const rate = rateOf(budgetWindow(perSecond));
        expect(Math.abs(rate - perSecond)).toBeLessThanOrEqual(perSecond * 1e-9);
      }),
    );
  });

  it('keeps bursts small: one window holds at most a tenth of a second\'s budget, and at least one request', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.001, max: 10_000, noNaN: true, noDefaultInfinity: true }), (perSecond) => {
        const { limit, interval } = budgetWindow(perSecond);
        expect(Number.isInteger(limit)).toBe(true);
        expect(limit).toBeGreaterThanOrEqual(1);
        expect(limit).toBeLessThanOrEqual(Math.max(1, perSecond / 10));
        expect(interval).toBeGreaterThan(0);
      }),
    );
  });
});

/** Asks the gate `calls` times at once, runs the fake clock for `ms`, and returns when each call got through. */
async function releaseTimes(perSecond: number, calls: number, ms: number): Promise<number[]> {
  const gate = createBudget(perSecond);
  const start = Date.now();
  const times: number[] = [];
  for (let i = 0; i < calls; i++) void gate().then(() => times.push(Date.now() - start));
  await vi.advanceTimersByTimeAsync(ms);
  return times;
}

/** The most calls released within any `window` ms. */
function busiest(times: readonly number[], window: number): number {
  let most = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while ((times[i] as number) - (times[j] as number) >= window) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

describe('createBudget', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  for (const perSecond of [100, 150, 300, 700, 2500, 10_000]) {
    it(`lets ${perSecond} attempts a second through when more wait, and never more than a tenth in any 100 ms`, async () => {
      const times = await releaseTimes(perSecond, perSecond * 3, 2000);
      // Two seconds: the first tenth's burst, then the rate (one window's rounding either way).
      expect(times.length).toBeGreaterThanOrEqual(Math.floor(perSecond * 2) - budgetWindow(perSecond).limit);
      expect(times.length).toBeLessThanOrEqual(Math.ceil(perSecond * 2) + budgetWindow(perSecond).limit);
      expect(busiest(times, 100)).toBeLessThanOrEqual(Math.max(1, Math.floor(perSecond / 10)));
    });
  }

  it('lets a burst of a tenth of the budget through at once, without waiting', async () => {
    const times = await releaseTimes(100, 10, 0);
    expect(times).toEqual(Array.from({ length: 10 }, () => 0));
  });

  it('below its rate, delays nothing', async () => {
    const gate = createBudget(100);
    const waits: number[] = [];
    for (let i = 0; i < 50; i++) {
      const asked = Date.now();
      await gate();
      waits.push(Date.now() - asked);
      await vi.advanceTimersByTimeAsync(20);
    }
    expect(waits.every((w) => w === 0)).toBe(true);
  });
});
