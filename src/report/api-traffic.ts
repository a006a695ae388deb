/**
 * DWS API attempts by HTTP status, counted from undici's diagnostics channels
 * (every attempt, retries included) for the configured endpoints only,
 * without touching the HTTP client. Pushed as dws_exporter_api_responses.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';

/** Responses of the DWS API by HTTP status ("network_error" when none came), counted while watching. */
export interface ApiResponseCounter {
  /** Requests sent so far (every attempt). */
  requests(): number;
  byStatus(): ReadonlyMap<string, number>;
  stop(): void;
}

interface UndiciRequestMessage {
  readonly request: { readonly origin?: unknown; readonly path?: unknown };
  readonly response?: { readonly statusCode?: unknown };
}

/**
 * Counts undici requests to the given origins (e.g. "https://dws.cn-north-4.myhuaweicloud.com");
 * an empty list counts every origin.
 */
export function watchApiResponses(endpoints: readonly string[]): ApiResponseCounter {
  const origins = new Set(endpoints.map((endpoint) => new URL(endpoint).origin));
  const counts = new Map<string, number>();
  let sent = 0;
  const ours = (message: UndiciRequestMessage): boolean => {
    if (origins.size === 0) return true;
    const { origin, path } = message.request;
    // Through an HTTP proxy (absolute-form) a request goes to the proxy's origin, with the full URL as its path.
    const target = typeof path === 'string' && /^https?:\/\//.test(path) ? path : origin;
    try {
      return target !== undefined && origins.has(new URL(String(target)).origin);
    } catch {
      return false;
    }
  };
  const add = (key: string): void => {
    counts.set(key, (counts.get(key) ?? 0) + 1);
  };
  const onCreate = (message: unknown): void => {
    if (ours(message as UndiciRequestMessage)) sent += 1;
  };
  const onHeaders = (message: unknown): void => {
    const m = message as UndiciRequestMessage;
    if (ours(m)) add(String(m.response?.statusCode ?? 'unknown'));
  };
  const onError = (message: unknown): void => {
    if (ours(message as UndiciRequestMessage)) add('network_error');
  };
  subscribe('undici:request:create', onCreate);
  subscribe('undici:request:headers', onHeaders);
  subscribe('undici:request:error', onError);
  let stopped = false;
  return {
    requests: () => sent,
    byStatus: () => new Map(counts),
    stop() {
      if (stopped) return;
      stopped = true;
      unsubscribe('undici:request:create', onCreate);
      unsubscribe('undici:request:headers', onHeaders);
      unsubscribe('undici:request:error', onError);
    },
  };
}
