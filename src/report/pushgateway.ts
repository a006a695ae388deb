/**
 * Pushing the run metrics to a Prometheus Pushgateway (prom-client): a POST
 * to {PUSHGATEWAY_URL}/metrics/job/{PUSHGATEWAY_JOB}/shard/{index} replaces
 * only the names it carries, so last_success survives failed runs. A failed
 * push is logged and never changes the exit code.
 */
import type { RequestOptions } from 'node:http';
import { Pushgateway } from 'prom-client';
import { USERINFO_ADVICE, userinfoDecodes } from '../config/env.js';
import { ConfigError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { metricsRegistry, runMetrics, type MetricFamily, type RunMetricsInput } from './metrics.js';

export const DEFAULT_PUSH_JOB = 'dws_task_exporter';
export const PUSH_TIMEOUT_MS = 10_000;

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
function gatewayBase(target: PushTarget): string {
  const url = new URL(target.url);
  url.username = '';
  url.password = '';
  return url.toString().replace(/\/+$/, '');
}

/** user:password for Basic auth, decoded; null when none. Throws URIError on bad encoding (refused at start). */
function basicAuth(target: PushTarget): string | null {
  const url = new URL(target.url);
  return url.username || url.password ? `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` : null;
}

/** {url}/metrics/job/{job}/shard/{index}, never with credentials: safe to log; never throws (nothing is decoded). */
export function pushUrl(target: PushTarget): string {
  return `${gatewayBase(target)}/metrics/job/${encodeURIComponent(target.job)}/shard/${target.shardIndex}`;
}

/** POSTs the metrics; resolves to a problem description instead of throwing. */
export async function pushMetrics(
  target: PushTarget,
  families: readonly MetricFamily[],
  options: { readonly timeoutMs?: number } = {},
): Promise<string | null> {
  try {
    const registry = metricsRegistry(families);
    const base = gatewayBase(target);
    const auth = basicAuth(target);
    const timeoutMs = options.timeoutMs ?? PUSH_TIMEOUT_MS;
    // Passed to http(s).request: idle and overall time bounds, and a one-off
    // connection, so nothing keeps the process alive after the push.
    const request: RequestOptions = {
      headers: { 'Content-Type': registry.contentType },
      ...(auth === null ? {} : { auth }),
      timeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
      agent: false,
    };
    const gateway = new Pushgateway(base, request, registry);
    await gateway.pushAdd({ jobName: target.job, groupings: { shard: String(target.shardIndex) } });
    return null;
  } catch (error) {
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    const refused = /push failed with status (\d+), ([\s\S]*)$/.exec(message);
    return refused ? `Pushgateway answered ${refused[1]}: ${(refused[2] ?? '').slice(0, 200)}` : message;
  }
}

/** Builds and pushes; logs the outcome. Never throws: a push must not turn a finished run into an error. */
export async function publishRunMetrics(target: PushTarget, input: RunMetricsInput, logger: Logger): Promise<boolean> {
  let families: readonly MetricFamily[];
  try {
    families = runMetrics(input);
  } catch (error) {
    logger.error({ err: String(error) }, 'could not build the run metrics');
    return false;
  }
  const problem = await pushMetrics(target, families);
  const where = pushUrl(target);
  if (problem) {
    logger.warn({ pushgateway: where, problem }, 'could not push metrics to the Pushgateway');
    return false;
  }
  logger.info({ pushgateway: where, metrics: families.length }, 'metrics pushed');
  return true;
}
