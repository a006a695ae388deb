/**
 * One undici Agent for the whole run: keep-alive connections sized to the
 * concurrency, the retry interceptor with our retry decision, and timeouts.
 * Returns the body as text: the caller validates it (a proxy's HTML error page
 * must become a clear error, not a JSON.parse stack trace).
 */
import { Agent, interceptors, type Dispatcher } from 'undici';
import { makeRetryCallback, type RetryEvent, type RetryPolicy } from './retry-policy.js';

export interface HttpClientOptions {
  /** Upper bound on requests in flight: one connection per slot per origin. */
  readonly connections: number;
  readonly timeoutMs: number;
  readonly retry: RetryPolicy;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

export interface HttpClient {
  get(
    url: URL,
    headers: Readonly<Record<string, string>>,
    onRetry: (event: RetryEvent) => void,
  ): Promise<HttpResponse>;
  close(): Promise<void>;
}

export function createHttpClient(options: HttpClientOptions): HttpClient {
  const agent = new Agent({
    connections: options.connections,
    keepAliveTimeout: 30_000,
    connectTimeout: Math.min(options.timeoutMs, 10_000),
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
  });
  const dispatcher = agent.compose(
    interceptors.retry({
      // Deliver the last error response instead of throwing, so its
      // error_code / X-Request-Id reach the ledger.
      throwOnError: false,
      methods: ['GET'],
      maxRetries: options.retry.maxRetries,
    }),
  );
  return {
    async get(url, headers, onRetry) {
      const requestOptions: Dispatcher.RequestOptions & {
        retryOptions: { retry: ReturnType<typeof makeRetryCallback> };
      } = {
        method: 'GET',
        path: `${url.pathname}${url.search}`,
        origin: url.origin,
        headers: { accept: 'application/json', ...headers },
        // Per request, so each cluster counts its own retries.
        retryOptions: { retry: makeRetryCallback(options.retry, onRetry) },
      };
      const response = await dispatcher.request(requestOptions);
      const body = await response.body.text();
      return { status: response.statusCode, headers: response.headers, body };
    },
    async close() {
      await agent.close();
    },
  };
}
