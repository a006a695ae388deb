/**
 * Where run metrics go: PUSHGATEWAY_URL and PUSHGATEWAY_JOB, checked before
 * any work, and the push URL. Free of prom-client: a run loads pushgateway.ts
 * (and prom-client with it) only when a push is configured.
 */
import { USERINFO_ADVICE, userinfoDecodes } from '../config/env.js';
import { ConfigError } from '../core/errors.js';

export const DEFAULT_PUSH_JOB = 'dws_task_exporter';

export interface PushTarget {
  /** PUSHGATEWAY_URL, e.g. http://pushgateway.monitoring.svc:9091; user:password in it is sent as Basic auth. */
  readonly url: string;
  /** PUSHGATEWAY_JOB; default dws_task_exporter. */
  readonly job: string;
  readonly shardIndex: number;
}

/** PUSHGATEWAY_URL and PUSHGATEWAY_JOB, checked before any work; null when no push is configured. */
export function pushTargetFromEnv(env: Readonly<Record<string, string | undefined>>, shardIndex: number): PushTarget | null {
  const url = env.PUSHGATEWAY_URL?.trim();
  if (!url) return null;
  let parsed: URL | null = null;
  try {
    parsed = new URL(url);
  } catch {
    // reported below
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || parsed.hostname === '' || parsed.search || parsed.hash) {
    throw new ConfigError('must be an http(s) URL without query, such as http://pushgateway.monitoring.svc:9091', 'PUSHGATEWAY_URL');
  }
  if (!userinfoDecodes(parsed)) throw new ConfigError(USERINFO_ADVICE, 'PUSHGATEWAY_URL');
  const job = env.PUSHGATEWAY_JOB?.trim() || DEFAULT_PUSH_JOB;
  // The Pushgateway reads the job from the URL path: a "/" would split it.
  if (job.includes('/') || /\p{Cc}/u.test(job)) {
    throw new ConfigError('must not contain "/" or control characters, e.g. dws_task_exporter', 'PUSHGATEWAY_JOB');
  }
  return { url, job, shardIndex };
}

/** The gateway URL without user:password (sent as Basic auth instead) and without trailing slashes. */
export function gatewayBase(target: PushTarget): string {
  const url = new URL(target.url);
  url.username = '';
  url.password = '';
  return url.toString().replace(/\/+$/, '');
}

/** user:password for Basic auth, decoded; null when none. Throws URIError on bad encoding (refused at start). */
export function basicAuth(target: PushTarget): string | null {
  const url = new URL(target.url);
  return url.username || url.password ? `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` : null;
}

/** {url}/metrics/job/{job}/shard/{index}, never with credentials: safe to log; never throws (nothing is decoded). */
export function pushUrl(target: PushTarget): string {
  return `${gatewayBase(target)}/metrics/job/${encodeURIComponent(target.job)}/shard/${target.shardIndex}`;
}
