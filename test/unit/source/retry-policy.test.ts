/**
 * The retry decision given to undici's RetryHandler: which failures are
 * transient, how long to wait (full jitter, capped), Retry-After honoured up
 * to the cap, and a hook per retry. The callback is driven the way undici
 * drives it: `callback(null)` = retry, `callback(err)` = give up; undici's
 * `state.counter` is 1 on the first retry decision.
 */
import { seededRandom } from '../../../src/simulator/random.js';
import type { RetryHandler } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  RETRYABLE_ERROR_CODES,
  RETRYABLE_STATUS,
  backoffDelay,
  makeRetryCallback,
  parseRetryAfter,
  type RetryEvent,
  type RetryPolicy,
} from '../../../src/source/retry-policy.js';


const ALMOST_ONE = 1 - Number.EPSILON;

describe('backoffDelay (full jitter)', () => {
  const policy: RetryPolicy = { maxRetries: 10, minDelayMs: 100, maxDelayMs: 2000 };

  it('is 0 when the random draw is 0, whatever the attempt', () => {
    for (let attempt = 1; attempt <= 10; attempt += 1) expect(backoffDelay(policy, attempt, () => 0)).toBe(0);
  });

  it('reaches min·2^(attempt-1) when the random draw is almost 1: 100, 200, 400, 800, 1600', () => {
    expect([1, 2, 3, 4, 5].map((attempt) => backoffDelay(policy, attempt, () => ALMOST_ONE))).toEqual([
      100, 200, 400, 800, 1600,
    ]);
  });

  it('is capped at maxDelayMs from the attempt where doubling passes it, even for huge attempts', () => {
    for (const attempt of [6, 7, 20, 100, 1000]) expect(backoffDelay(policy, attempt, () => ALMOST_ONE)).toBe(2000);
  });

  it('scales the ceiling by the random draw (uniform, not equal jitter)', () => {
    expect(backoffDelay(policy, 3, () => 0.5)).toBe(200);
    expect(backoffDelay(policy, 3, () => 0.25)).toBe(100);
  });

  it('is an integer within [0, min(max, min·2^(attempt-1))] for 5000 seeded draws', () => {
    const random = seededRandom(99);
    for (let i = 0; i < 5000; i += 1) {
      const attempt = 1 + (i % 12);
      const delay = backoffDelay(policy, attempt, random);
      expect(Number.isInteger(delay)).toBe(true);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThanOrEqual(Math.min(policy.maxDelayMs, policy.minDelayMs * 2 ** (attempt - 1)));
    }
  });

  it('is always 0 with minDelayMs 0, and never above the cap when min exceeds max', () => {
    expect(backoffDelay({ maxRetries: 3, minDelayMs: 0, maxDelayMs: 1000 }, 5, () => ALMOST_ONE)).toBe(0);
    expect(backoffDelay({ maxRetries: 3, minDelayMs: 5000, maxDelayMs: 1000 }, 1, () => ALMOST_ONE)).toBe(1000);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2024-01-01T00:00:00Z');

  it('reads delay-seconds as milliseconds', () => {
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter(' 120 ', now)).toBe(120_000);
  });

  it('reads fractional seconds, rounded to the millisecond', () => {
    expect(parseRetryAfter('1.5', now)).toBe(1500);
    expect(parseRetryAfter('0.0004', now)).toBe(0);
    expect(parseRetryAfter('0.0006', now)).toBe(1);
  });

  it('reads an HTTP date as the time left until then', () => {
    expect(parseRetryAfter('Mon, 01 Jan 2024 00:00:30 GMT', now)).toBe(30_000);
  });

  it('reads an HTTP date in the past as 0 (retry now), never negative', () => {
    expect(parseRetryAfter('Sun, 31 Dec 2023 23:59:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:00 GMT', now)).toBe(0);
  });

  it('is undefined when absent or blank', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('   ', now)).toBeUndefined();
  });

  it('is undefined for garbage that is neither a number nor a date', () => {
    for (const garbage of ['soon', 'later', '1s', '10 seconds', '1e3', '0x10', 'NaN']) {
      expect(parseRetryAfter(garbage, now), garbage).toBeUndefined();
    }
  });

  it('is undefined for malformed values that Date.parse happens to accept ("-1", "+5", "Retry 5", "abc 12")', () => {
    for (const garbage of ['-1', '+5', 'Retry 5', 'abc 12']) {
      expect(parseRetryAfter(garbage, now), garbage).toBeUndefined();
    }
  });

  it('uses the first value of a repeated header', () => {
    expect(parseRetryAfter(['2', '9'], now)).toBe(2000);
    expect(parseRetryAfter([], now)).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------
// makeRetryCallback, driven like undici does.

interface FailureFields {
  statusCode?: number;
  code?: string;
  headers?: Record<string, string | string[] | undefined>;
}

function failure(fields: FailureFields): Error {
  return Object.assign(new Error('request failed'), fields);
}

interface Decision {
  /** 'retry' when the callback got null, 'give-up' when it got the error back. */
  readonly outcome: 'retry' | 'give-up';
  /** The error handed back, identical to the one passed in when giving up. */
  readonly error: Error | null | undefined;
  /** The callback ran before makeRetryCallback's function returned (no waiting). */
  readonly synchronous: boolean;
  readonly events: readonly RetryEvent[];
}

const OPTS: RetryHandler.RetryContext['opts'] = { path: '/v2/p/clusters/c/logical-clusters/tasks', method: 'GET' };

function decide(
  policy: RetryPolicy,
  err: Error,
  counter: number,
  options: { random?: () => number; signal?: AbortSignal; afterCall?: () => void } = {},
): Promise<Decision> {
  const events: RetryEvent[] = [];
  const retry = makeRetryCallback(policy, (event) => events.push(event), options.random ?? (() => 0), options.signal);
  return new Promise((resolve) => {
    let returned = false;
    retry(err, { state: { counter }, opts: OPTS }, (result) => {
      resolve({ outcome: result ? 'give-up' : 'retry', error: result, synchronous: !returned, events });
    });
    returned = true;
    options.afterCall?.();
  });
}

const FAST: RetryPolicy = { maxRetries: 3, minDelayMs: 1, maxDelayMs: 50 };

describe('makeRetryCallback: what is retried', () => {
  it.each(RETRYABLE_STATUS.map((status) => [status]))('retries HTTP %i', async (statusCode) => {
    const decision = await decide(FAST, failure({ statusCode }), 1);
    expect(decision.outcome).toBe('retry');
  });

  it('retries exactly 429, 500, 502, 503 and 504', () => {
    expect([...RETRYABLE_STATUS].sort()).toEqual([429, 500, 502, 503, 504]);
  });

  it.each([[400], [401], [403], [404], [409], [422], [501], [505]])('never retries HTTP %i', async (statusCode) => {
    const err = failure({ statusCode });
    const decision = await decide(FAST, err, 1);
    expect(decision.outcome).toBe('give-up');
    expect(decision.error).toBe(err);
    expect(decision.synchronous).toBe(true);
    expect(decision.events).toEqual([]);
  });

  it.each(RETRYABLE_ERROR_CODES.map((code) => [code]))('retries the network/timeout error %s', async (code) => {
    expect((await decide(FAST, failure({ code }), 1)).outcome).toBe('retry');
  });

  it('lists the connection, DNS and undici timeout codes', () => {
    expect(RETRYABLE_ERROR_CODES).toEqual(
      expect.arrayContaining(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_SOCKET']),
    );
  });

  it.each([['EACCES'], ['ERR_TLS_CERT_ALTNAME_INVALID'], ['UND_ERR_ABORTED'], ['UND_ERR_INVALID_ARG']])(
    'never retries the error code %s',
    async (code) => {
      expect((await decide(FAST, failure({ code }), 1)).outcome).toBe('give-up');
    },
  );

  it('retries a CONNECT the proxy answered 502, 503 or 504; never one answered 403 or 407', async () => {
    // undici's RequestAbortedError for a CONNECT not answered 200: no statusCode, its status only in the message.
    const tunnel = (status: number): Error =>
      Object.assign(new Error(`Proxy response (${status}) !== 200 when HTTP Tunneling`), { code: 'UND_ERR_ABORTED' });
    for (const status of [502, 503, 504]) expect((await decide(FAST, tunnel(status), 1)).outcome, String(status)).toBe('retry');
    for (const status of [403, 407]) expect((await decide(FAST, tunnel(status), 1)).outcome, String(status)).toBe('give-up');
  });

  it('never retries an error with neither status nor code', async () => {
    expect((await decide(FAST, new Error('boom'), 1)).outcome).toBe('give-up');
  });

  it("decides on the status when undici's RequestRetryError carries both a status and its own code", async () => {
    expect((await decide(FAST, failure({ statusCode: 503, code: 'UND_ERR_REQ_RETRY' }), 1)).outcome).toBe('retry');
    expect((await decide(FAST, failure({ statusCode: 401, code: 'UND_ERR_REQ_RETRY' }), 1)).outcome).toBe('give-up');
    // A retryable network code does not rescue a non-retryable status.
    expect((await decide(FAST, failure({ statusCode: 400, code: 'ECONNRESET' }), 1)).outcome).toBe('give-up');
  });
});

describe('makeRetryCallback: how many times', () => {
  it('retries up to maxRetries decisions (counter 1..maxRetries), then gives up', async () => {
    const outcomes: string[] = [];
    for (let counter = 1; counter <= FAST.maxRetries + 2; counter += 1) {
      outcomes.push((await decide(FAST, failure({ statusCode: 503 }), counter)).outcome);
    }
    expect(outcomes).toEqual(['retry', 'retry', 'retry', 'give-up', 'give-up']);
  });

  it('never retries with maxRetries 0', async () => {
    expect((await decide({ ...FAST, maxRetries: 0 }, failure({ statusCode: 503 }), 1)).outcome).toBe('give-up');
  });
});

describe('makeRetryCallback: how long, and the onRetry hook', () => {
  it('calls onRetry once per retry with attempt, status, code, the backoff delay and the failure itself', async () => {
    const policy: RetryPolicy = { maxRetries: 5, minDelayMs: 8, maxDelayMs: 50 };
    const gateway = failure({ statusCode: 502 });
    const decision = await decide(policy, gateway, 2, { random: () => 0.5 });
    expect(decision.events).toEqual([{ attempt: 2, status: 502, errorCode: undefined, delayMs: 8, failure: gateway }]);
    const reset = failure({ code: 'ECONNRESET' });
    const network = await decide(policy, reset, 3, { random: () => ALMOST_ONE });
    expect(network.events).toEqual([{ attempt: 3, status: undefined, errorCode: 'ECONNRESET', delayMs: 32, failure: reset }]);
  });

  it('does not call onRetry when giving up', async () => {
    expect((await decide(FAST, failure({ statusCode: 503 }), FAST.maxRetries + 1)).events).toEqual([]);
  });

  it('honours a Retry-After below the cap instead of the backoff (even below minDelayMs)', async () => {
    const policy: RetryPolicy = { maxRetries: 3, minDelayMs: 30, maxDelayMs: 50 };
    const decision = await decide(policy, failure({ statusCode: 429, headers: { 'retry-after': '0.02' } }), 1, {
      random: () => ALMOST_ONE,
    });
    expect(decision.outcome).toBe('retry');
    expect(decision.events.map((e) => e.delayMs)).toEqual([20]);
    const zero = await decide(policy, failure({ statusCode: 503, headers: { 'retry-after': '0' } }), 1, {
      random: () => ALMOST_ONE,
    });
    expect(zero.events.map((e) => e.delayMs)).toEqual([0]);
  });

  it('honours a Retry-After exactly at the cap', async () => {
    const policy: RetryPolicy = { maxRetries: 3, minDelayMs: 1, maxDelayMs: 20 };
    const decision = await decide(policy, failure({ statusCode: 429, headers: { 'retry-after': '0.02' } }), 1);
    expect(decision.outcome).toBe('retry');
    expect(decision.events.map((e) => e.delayMs)).toEqual([20]);
  });

  it('gives up at once, without onRetry, when Retry-After (seconds) exceeds maxDelayMs', async () => {
    const err = failure({ statusCode: 429, headers: { 'retry-after': '3600' } });
    const decision = await decide(FAST, err, 1);
    expect(decision).toMatchObject({ outcome: 'give-up', synchronous: true, events: [] });
    expect(decision.error).toBe(err);
  });

  it('gives up at once when Retry-After is an HTTP date further away than maxDelayMs', async () => {
    const later = new Date(Date.now() + 3_600_000).toUTCString();
    const decision = await decide(FAST, failure({ statusCode: 503, headers: { 'retry-after': later } }), 1);
    expect(decision).toMatchObject({ outcome: 'give-up', synchronous: true, events: [] });
  });

  it('falls back to the backoff when Retry-After is unreadable', async () => {
    const decision = await decide(FAST, failure({ statusCode: 503, headers: { 'retry-after': 'soon' } }), 1, {
      random: () => ALMOST_ONE,
    });
    expect(decision.outcome).toBe('retry');
    expect(decision.events.map((e) => e.delayMs)).toEqual([1]);
  });

  it('waits before retrying: the retry decision is never delivered synchronously', async () => {
    const decision = await decide(FAST, failure({ statusCode: 503 }), 1);
    expect(decision).toMatchObject({ outcome: 'retry', synchronous: false });
  });
});

describe('makeRetryCallback: shutdown', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('gives up at once when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort('SIGTERM');
    const decision = await decide(FAST, failure({ statusCode: 503 }), 1, { signal: controller.signal });
    expect(decision).toMatchObject({ outcome: 'give-up', synchronous: true, events: [] });
  });

  it('an abort during the wait gives up with the error, and the pending retry never fires', async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    const policy: RetryPolicy = { maxRetries: 3, minDelayMs: 60_000, maxDelayMs: 60_000 };
    const results: (Error | null | undefined)[] = [];
    const retry = makeRetryCallback(policy, () => undefined, () => ALMOST_ONE, controller.signal);
    const err = failure({ statusCode: 503 });
    retry(err, { state: { counter: 1 }, opts: OPTS }, (result) => results.push(result));
    expect(results).toEqual([]);
    controller.abort('SIGTERM');
    expect(results).toEqual([err]);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(results).toEqual([err]);
  });

  it('an abort raised by the retry hook itself (its endpoint opening) gives up at once: the retry is never sent', async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    const results: (Error | null | undefined)[] = [];
    const retry = makeRetryCallback(FAST, () => controller.abort('endpoint opened'), () => ALMOST_ONE, controller.signal);
    const err = failure({ code: 'ECONNREFUSED' });
    retry(err, { state: { counter: 1 }, opts: OPTS }, (result) => results.push(result));
    expect(results).toEqual([err]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(results).toEqual([err]);
  });

  it('a retry that fires normally is delivered once, and a later abort does not call back again', async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    const results: (Error | null | undefined)[] = [];
    const retry = makeRetryCallback(FAST, () => undefined, () => ALMOST_ONE, controller.signal);
    retry(failure({ statusCode: 503 }), { state: { counter: 1 }, opts: OPTS }, (result) => results.push(result));
    await vi.advanceTimersByTimeAsync(1000);
    controller.abort('SIGTERM');
    expect(results).toEqual([null]);
  });
});
