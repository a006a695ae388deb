/**
 * Pushing the run metrics to a Prometheus Pushgateway (prom-client): a POST
 * to {PUSHGATEWAY_URL}/metrics/job/{PUSHGATEWAY_JOB}/shard/{index} replaces
 * only the names it carries, so last_success survives failed runs. A failed
 * push is logged and never changes the exit code. Where to push: push-target.ts.
 */
import type { RequestOptions } from 'node:http';
import { Pushgateway } from 'prom-client';
import type { Logger } from '../core/logger.js';
import { metricsRegistry, runMetrics, type MetricFamily, type RunMetricsInput } from './metrics.js';
import { basicAuth, gatewayBase, pushUrl, type PushTarget } from './push-target.js';

export const PUSH_TIMEOUT_MS = 10_000;

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
