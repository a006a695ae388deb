/**
 * The HTTP calls of credential sources (metadata service, IAM), on a pool of
 * their own, outside the DWS API budget. IAM goes through the egress proxy;
 * the metadata service never does. Connection errors and 5xx are retried
 * twice, 4xx never (IAM locks a user after repeated wrong passwords).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import type { ProxyEnv } from '../../config/env.js';
import { CredentialError, describeCause } from '../../core/errors.js';
import { createDispatcher, usesProxy } from '../dispatcher.js';
import { withNetworkHint } from '../network-hint.js';

export interface AuthHttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

export interface AuthHttpRequest {
  readonly method: 'GET' | 'PUT' | 'POST';
  readonly url: URL;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** For error messages: "the metadata service", "IAM". */
  readonly what: string;
  readonly signal?: AbortSignal | undefined;
  /** Never through the proxy, whatever NO_PROXY says (the metadata service). */
  readonly direct?: boolean;
}

export interface AuthHttp {
  send(request: AuthHttpRequest): Promise<AuthHttpResponse>;
  close(): Promise<void>;
}

const RETRY_DELAYS_MS = [200, 1000] as const;
const TRANSIENT_STATUS = new Set([500, 502, 503, 504]);

/** How a provider of expiring credentials fetches and refreshes them. */
export interface RefreshOptions {
  readonly http: AuthHttp;
  readonly clock: () => number;
  /** Fetch a new one this long before the current one expires. */
  readonly refreshMarginMs?: number;
  /** Between fetches while the source fails and the current one is still valid. Default 30 s. */
  readonly retryIntervalMs?: number;
  readonly onWarning?: (message: string) => void;
}

export function createAuthHttp(timeoutMs: number, proxy?: ProxyEnv): AuthHttp {
  const pool = { connections: 4, timeoutMs };
  let direct: Dispatcher | null = null;
  let proxied: Dispatcher | null = null;
  const dispatcher = (req: AuthHttpRequest): Dispatcher =>
    req.direct === true || !usesProxy(proxy)
      ? (direct ??= createDispatcher(pool, undefined))
      : (proxied ??= createDispatcher(pool, proxy));

  const once = async (req: AuthHttpRequest): Promise<AuthHttpResponse> => {
    const response = await dispatcher(req).request({
      method: req.method,
      origin: req.url.origin,
      path: `${req.url.pathname}${req.url.search}`,
      headers: { accept: 'application/json', ...req.headers },
      body: req.body,
      signal: req.signal,
    });
    return { status: response.statusCode, headers: response.headers, body: await response.body.text() };
  };

  return {
    async send(req) {
      for (let attempt = 0; ; attempt++) {
        const delay = RETRY_DELAYS_MS[attempt];
        let response: AuthHttpResponse;
        try {
          response = await once(req);
        } catch (error) {
          if (req.signal?.aborted || delay === undefined) {
            // The URL is an endpoint (no secret in it); headers and body are never quoted.
            throw new CredentialError(
              'DWS_NETWORK_ERROR',
              `cannot reach ${req.what} at ${req.url.origin}: ${describeCause(withNetworkHint(error, req.direct !== true && usesProxy(proxy)))}`,
              { cause: error },
            );
          }
          await sleep(delay, undefined, { signal: req.signal });
          continue;
        }
        if (!TRANSIENT_STATUS.has(response.status) || delay === undefined) return response;
        await sleep(delay, undefined, { signal: req.signal });
      }
    },
    async close() {
      await Promise.all([direct?.close(), proxied?.close()]);
    },
  };
}

/** `error_msg`/`error_code` (gateway, DWS) or keystone's `{"error": {"message", "code"}}`, for messages. */
export function errorSummary(response: AuthHttpResponse): string {
  try {
    const body: unknown = JSON.parse(response.body);
    if (body && typeof body === 'object') {
      const fields = body as Record<string, unknown>;
      const nested = fields.error && typeof fields.error === 'object' ? (fields.error as Record<string, unknown>) : {};
      const code = fields.error_code ?? nested.code;
      const msg = fields.error_msg ?? nested.message;
      const parts = [code, msg].filter((p) => typeof p === 'string' || typeof p === 'number').map(String);
      if (parts.length > 0) return `${response.status} ${parts.join(': ')}`;
    }
  } catch {
    // not JSON: fall through
  }
  // Never echo a body we cannot read: it could reflect what was sent.
  return `HTTP ${response.status}`;
}
