/** The run's API budget as handed to p-throttle: the configured rate exactly, in small bursts. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { budgetWindow } from '../../../src/source/http-client.js';

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
