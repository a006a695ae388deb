/**
 * The retry decision handed to undici's retry interceptor. undici's default
 * backs off without jitter and does not retry timeouts; this keeps undici's
 * machinery (re-dispatch, body handling) and only replaces the decision:
 * which failures are transient, how long to wait (exponential, full jitter,
 * `Retry-After` honoured up to a cap), and a hook so each retry is counted.
 */
import type { RetryHandler } from 'undici';
import { isTunnelOutage } from './connection-failure.js';

export const RETRYABLE_STATUS = [429, 500, 502, 503, 504] as const;

export const RETRYABLE_ERROR_CODES = [
  'ECONNRESET',
  'ECONNREFUSED',
  'ENOTFOUND',
  'ENETDOWN',
  'ENETUNREACH',
  'EHOSTDOWN',
  'EHOSTUNREACH',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
] as const;

export interface RetryPolicy {
  readonly maxRetries: number;
  readonly minDelayMs: number;
  readonly maxDelayMs: number;
}

export interface RetryEvent {
  readonly attempt: number;
  readonly status: number | undefined;
  readonly errorCode: string | undefined;
  readonly delayMs: number;
  /** What failed, as undici reported it (the HTTP client adds its hint). */
  readonly failure: Error;
}

/** Full jitter (AWS architecture blog): uniform in [0, min(max, min·2^(n-1))]. */
export function backoffDelay(policy: RetryPolicy, attempt: number, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.minDelayMs * 2 ** (attempt - 1));
  return Math.round(random() * ceiling);
}

const HTTP_DATE = /^[A-Za-z]{3,9},? [\w :-]+ GMT$|^[A-Za-z]{3} [A-Za-z]{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$/;

/** `Retry-After` as seconds or an HTTP date, in ms; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined || raw.trim() === '') return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(raw)) return Math.round(Number(raw) * 1000);
  // Only an HTTP date (RFC 9110: IMF-fixdate, or the obsolete forms, all in
  // GMT); Date.parse would also read "-1" or "Retry 5" as some past date.
  if (!HTTP_DATE.test(raw.trim())) return undefined;
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

interface RetryableError extends Error {
  readonly statusCode?: number;
  readonly code?: string;
  readonly headers?: Record<string, string | string[] | undefined>;
}

export function makeRetryCallback(
  policy: RetryPolicy,
  onRetry: (event: RetryEvent) => void,
  random: () => number = Math.random,
  signal?: AbortSignal,
): RetryHandler.RetryCallback {
  return (err, { state }, callback) => {
    // Shutting down: no more attempts, and no sleeping through the grace period.
    if (signal?.aborted) {
      callback(err);
      return;
    }
    const { statusCode, code, headers } = err as RetryableError;
    const statusRetryable =
      statusCode !== undefined && (RETRYABLE_STATUS as readonly number[]).includes(statusCode);
    // A proxy answering CONNECT with 502/503/504 has no statusCode: the host behind it is down, like a refused connection.
    const codeRetryable =
      statusCode === undefined &&
      ((code !== undefined && (RETRYABLE_ERROR_CODES as readonly string[]).includes(code)) || isTunnelOutage(err));
    if ((!statusRetryable && !codeRetryable) || state.counter > policy.maxRetries) {
      callback(err);
      return;
    }
    const retryAfter = parseRetryAfter(headers?.['retry-after'], Date.now());
    // A server asking for more than we are willing to wait: give up on this
    // request now rather than hold a worker for an hour.
    if (retryAfter !== undefined && retryAfter > policy.maxDelayMs) {
      callback(err);
      return;
    }
    const delayMs = retryAfter ?? backoffDelay(policy, state.counter, random);
    onRetry({ attempt: state.counter, status: statusCode, errorCode: code, delayMs, failure: err });
    // The hook may itself stop the request (its endpoint opened): that abort
    // fired before the listener below existed, so look again.
    if (signal?.aborted) {
      callback(err);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      callback(null);
    }, delayMs);
    const onAbort = (): void => {
      clearTimeout(timer);
      callback(err);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  };
}
