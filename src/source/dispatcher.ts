/**
 * The undici dispatcher requests go out on: an Agent, or with an egress proxy
 * configured undici's EnvHttpProxyAgent with the same pool options (https://
 * URLs through a CONNECT tunnel, http:// ones as absolute-form requests,
 * hosts in NO_PROXY direct).
 */
import { Agent, EnvHttpProxyAgent, Pool, type Dispatcher } from 'undici';
import type { ProxyEnv } from '../config/env.js';

export interface PoolOptions {
  /** Connections per origin (keep-alive pool). */
  readonly connections: number;
  readonly timeoutMs: number;
}

/** Whether any request may go through a proxy. */
export function usesProxy(proxy: ProxyEnv | undefined): proxy is ProxyEnv {
  return proxy?.httpProxy !== undefined || proxy?.httpsProxy !== undefined;
}

/** `proxy` undefined or empty: direct. */
export function createDispatcher(pool: PoolOptions, proxy: ProxyEnv | undefined): Dispatcher {
  const options = {
    connections: pool.connections,
    keepAliveTimeout: 30_000,
    connectTimeout: Math.min(pool.timeoutMs, 10_000),
    headersTimeout: pool.timeoutMs,
    bodyTimeout: pool.timeoutMs,
  };
  if (!usesProxy(proxy)) return new Agent(options);
  return new EnvHttpProxyAgent({
    ...options,
    // '' rather than undefined: undici would read process.env itself, and the
    // validated values (src/config/env.ts) are the ones that count.
    httpProxy: proxy.httpProxy ?? '',
    httpsProxy: proxy.httpsProxy ?? '',
    noProxy: proxy.noProxy ?? '',
    // http:// URLs as absolute-form requests, as curl sends them.
    proxyTunnel: false,
    // undici builds the pool to the proxy with its own defaults: keep our timeouts there too.
    factory: (origin, opts) => new Pool(origin, { ...options, ...opts }),
  });
}

/** For the run log: which proxy serves which URLs, credentials masked; null when none is configured. */
export function describeProxy(proxy: ProxyEnv | undefined): Readonly<Record<string, string>> | null {
  if (!usesProxy(proxy)) return null;
  return {
    https: maskProxyUrl(proxy.httpsProxy ?? proxy.httpProxy) ?? 'direct',
    http: maskProxyUrl(proxy.httpProxy) ?? 'direct',
    noProxy: proxy.noProxy ?? '',
  };
}

/** `http://user:secret@proxy:3128` → `http://***:***@proxy:3128`. */
export function maskProxyUrl(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const url = new URL(value);
  return `${url.protocol}//${url.username || url.password ? '***:***@' : ''}${url.host}`;
}
