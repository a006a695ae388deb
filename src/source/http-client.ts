/**
 * One undici dispatcher for the whole run (direct or through the proxy:
 * dispatcher.ts) with two interceptors: the run's API budget (every attempt
 * counted) and undici's retry interceptor with our retry decision; a global
 * cap on requests in flight. Bodies come back as text for the caller to check.
 */
import pLimit from 'p-limit';
import { interceptors, type Dispatcher } from 'undici';
import type { ProxyEnv } from '../config/env.js';
import type { ExporterConfig } from '../config/schema.js';
import { createBudget } from './api-budget.js';
import { createDispatcher, usesProxy } from './dispatcher.js';
import { withNetworkHint } from './network-hint.js';
import { makeRetryCallback, type RetryEvent, type RetryPolicy } from './retry-policy.js';

export interface HttpClientOptions {
  /** Connections per origin (keep-alive pool). */
  readonly connections: number;
  readonly timeoutMs: number;
  readonly retry: RetryPolicy;
  /** Attempts per second over the whole run (the gateway's quota is per account and API). */
  readonly maxRequestsPerSecond: number;
  /** Requests in flight over the whole run, all endpoints together. */
  readonly maxInFlight: number;
  /** HTTP(S)_PROXY / NO_PROXY; absent: direct. */
  readonly proxy?: ProxyEnv | undefined;
}

/** What a run's config and environment set: one place for `run` and `discover`. */
export function httpClientOptions(config: Pick<ExporterConfig, 'concurrency' | 'http'>, proxy?: ProxyEnv): HttpClientOptions {
  return {
    proxy,
    connections: config.concurrency,
    timeoutMs: config.http.timeoutMs,
    maxRequestsPerSecond: config.http.maxRequestsPerSecond,
    maxInFlight: config.http.maxInFlight,
    retry: {
      maxRetries: config.http.maxRetries,
      minDelayMs: config.http.retryMinDelayMs,
      maxDelayMs: config.http.retryMaxDelayMs,
    },
  };
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

export interface HttpClient {
  /**
   * `onRetry`: a retry was decided (before its backoff). `onSent`: an
   * attempt (the first or a retry) leaves with its signal not aborted: what
   * api_requests counts; a retry cancelled in its backoff never gets here.
   */
  get(
    url: URL,
    headers: Readonly<Record<string, string>>,
    onRetry: (event: RetryEvent) => void,
    signal?: AbortSignal,
    onSent?: () => void,
  ): Promise<HttpResponse>;
  close(): Promise<void>;
}

/** Rides in undici's dispatch options from get() to the budget interceptor, retries included. */
interface AttemptWatch {
  readonly signal: AbortSignal | undefined;
  readonly onSent: () => void;
}
type WatchedOptions = Dispatcher.DispatchOptions & { readonly attemptWatch: AttemptWatch };

function isWatched(opts: Dispatcher.DispatchOptions): opts is WatchedOptions {
  return 'attemptWatch' in opts;
}

/** Delays each dispatch (each attempt) until the budget allows it (api-budget.ts). */
function apiBudget(perSecond: number): Dispatcher.DispatcherComposeInterceptor {
  const gate = createBudget(perSecond);
  return (dispatch) => (opts, handler) => {
    void gate().then(() => {
      // After the budget's wait: a request stopped meanwhile is not sent (undici aborts it first).
      if (isWatched(opts) && opts.attemptWatch.signal?.aborted !== true) opts.attemptWatch.onSent();
      dispatch(opts, handler);
    });
    return true;
  };
}

export function createHttpClient(options: HttpClientOptions): HttpClient {
  const agent = createDispatcher(options, options.proxy);
  const proxied = usesProxy(options.proxy);
  // compose(a, b): b is outermost, so every retry attempt passes the budget.
  const dispatcher = agent.compose(
    apiBudget(options.maxRequestsPerSecond),
    interceptors.retry({
      // Deliver the last error response instead of throwing, so its
      // error_code / X-Request-Id reach the ledger.
      throwOnError: false,
      methods: ['GET'],
      maxRetries: options.retry.maxRetries,
    }),
  );
  const inFlight = pLimit(options.maxInFlight);
  return {
    get(url, headers, onRetry, signal, onSent = () => undefined) {
      return inFlight(async () => {
        signal?.throwIfAborted();
        const requestOptions: Dispatcher.RequestOptions & {
          retryOptions: { retry: ReturnType<typeof makeRetryCallback> };
          attemptWatch: AttemptWatch;
        } = {
          method: 'GET',
          path: `${url.pathname}${url.search}`,
          origin: url.origin,
          headers: { accept: 'application/json', ...headers },
          signal,
          // Per request, so each cluster counts its own retries.
          retryOptions: {
            // With the hint the final error would get: the breaker records it as the endpoint's last error.
            retry: makeRetryCallback(options.retry, (event) => onRetry({ ...event, failure: withNetworkHint(event.failure, proxied) }), Math.random, signal),
          },
          attemptWatch: { signal, onSent },
        };
        try {
          const response = await dispatcher.request(requestOptions);
          const body = await response.body.text();
          return { status: response.statusCode, headers: response.headers, body };
        } catch (error) {
          throw withNetworkHint(error, proxied);
        }
      });
    },
    async close() {
      await agent.close();
    },
  };
}
