/**
 * Metrics for "the nightly export silently stopped" alerts: at the end of a
 * run, pushed to a Prometheus Pushgateway when PUSHGATEWAY_URL is set.
 *
 * POST to {PUSHGATEWAY_URL}/metrics/job/{PUSHGATEWAY_JOB}/shard/{index}: a
 * POST replaces only the metric names it carries, so
 * `dws_exporter_last_success_timestamp_seconds`, pushed only by runs that
 * succeeded, keeps its value through failed runs. A push that fails is
 * logged and never changes the exit code.
 *
 * API responses by HTTP status are counted from undici's diagnostics
 * channels (every attempt, retries included), for the configured endpoints
 * only, without touching the HTTP client.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Logger } from '../core/logger.js';
import type { ClusterLastSuccess } from '../warehouse/export-health.js';
import type { RunSummaryDocument } from './summary-json.js';

export type MetricType = 'gauge' | 'counter';

export interface Sample {
  readonly labels?: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  readonly samples: readonly Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Prometheus text exposition format 0.0.4. */
export function formatExposition(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    if (!METRIC_NAME.test(family.name)) throw new Error(`invalid metric name ${family.name}`);
    lines.push(`# HELP ${family.name} ${family.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`);
    lines.push(`# TYPE ${family.name} ${family.type}`);
    for (const sample of family.samples) {
      const labels = Object.entries(sample.labels ?? {});
      for (const [name] of labels) {
        if (!LABEL_NAME.test(name)) throw new Error(`invalid label name ${name} on ${family.name}`);
      }
      const labelText =
        labels.length === 0
          ? ''
          : `{${labels.map(([name, value]) => `${name}="${value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`).join(',')}}`;
      lines.push(`${family.name}${labelText} ${formatValue(sample.value)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

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

const RUN_STATUSES = ['succeeded', 'partial', 'failed', 'interrupted', 'error'] as const;

export interface RunMetricsInput {
  readonly summary: RunSummaryDocument;
  readonly apiResponses: ReadonlyMap<string, number>;
  /** Empty when the database could not be read. */
  readonly clusters: readonly ClusterLastSuccess[];
}

/** Every metric name is documented in the README (Observability → Metrics). */
export function runMetrics(input: RunMetricsInput): MetricFamily[] {
  const { summary } = input;
  const finished = Date.parse(summary.finishedAt) / 1000;
  const t = summary.totals;
  const gauge = (name: string, help: string, samples: readonly Sample[]): MetricFamily => ({ name, help, type: 'gauge', samples });
  const families: MetricFamily[] = [
    gauge('dws_exporter_last_run_timestamp_seconds', 'When the last run finished (Unix time), whatever its outcome.', [{ value: finished }]),
    gauge('dws_exporter_last_run_status', 'Outcome of the last run: 1 for its status, 0 for the others.', RUN_STATUSES.map((status) => ({ labels: { status }, value: summary.status === status ? 1 : 0 }))),
    gauge('dws_exporter_last_run_exit_code', 'Exit code of the last run (0 ok, 2 config, 3 partial, 4 failed, 5 database, 6 auth).', [{ value: summary.exitCode }]),
    gauge('dws_exporter_last_run_duration_seconds', 'Wall time of the last run.', [{ value: summary.durationMs / 1000 }]),
  ];
  if (summary.status === 'succeeded') {
    families.push(gauge('dws_exporter_last_success_timestamp_seconds', 'When a run last exported every cluster of this shard completely (Unix time). Pushed only by such runs.', [{ value: finished }]));
  }
  if (t) {
    families.push(
      gauge('dws_exporter_clusters', 'Clusters of the last run by outcome (failed includes interrupted).', [
        { labels: { status: 'planned' }, value: t.clustersPlanned },
        { labels: { status: 'succeeded' }, value: t.clustersOk },
        { labels: { status: 'incomplete' }, value: t.clustersIncomplete },
        { labels: { status: 'failed' }, value: t.clustersFailed },
      ]),
      gauge('dws_exporter_tasks_fetched', 'Distinct tasks fetched by the last run.', [{ value: t.tasksFetched }]),
      gauge('dws_exporter_rows', 'Task rows written by the last run, by operation.', [
        { labels: { operation: 'inserted' }, value: t.rowsInserted },
        { labels: { operation: 'updated' }, value: t.rowsUpdated },
        { labels: { operation: 'unchanged' }, value: t.rowsUnchanged },
      ]),
      gauge('dws_exporter_api_requests', 'DWS API requests sent by the last run, retries included (from the ledger).', [{ value: t.apiRequests }]),
      gauge('dws_exporter_api_retries', 'DWS API requests of the last run that were retries (after 429, 5xx, network errors).', [{ value: t.apiRetries }]),
    );
  }
  const responses = [...input.apiResponses.entries()].sort(([a], [b]) => a.localeCompare(b));
  families.push(
    gauge(
      'dws_exporter_api_responses',
      'DWS API attempts of the last run by HTTP status; "network_error" when no response came. Retried attempts count under the status that caused the retry.',
      responses.map(([code, value]) => ({ labels: { code }, value })),
    ),
  );
  if (input.clusters.length > 0) {
    const succeeded = new Set(summary.clusters.filter((c) => c.status === 'succeeded').map((c) => c.clusterId));
    families.push(
      gauge(
        'dws_exporter_cluster_last_success_timestamp_seconds',
        'When each cluster was last exported completely (Unix time; 0 if never), from dws.v_export_health.',
        input.clusters.map((c) => ({
          labels: { project_id: c.projectId, cluster_id: c.clusterId },
          value: c.lastSuccessAt === null ? 0 : c.lastSuccessAt.getTime() / 1000,
        })),
      ),
      gauge(
        'dws_exporter_cluster_last_run_succeeded',
        'Whether the last run exported each cluster completely (1) or not (0).',
        input.clusters.map((c) => ({
          labels: { project_id: c.projectId, cluster_id: c.clusterId },
          value: succeeded.has(c.clusterId) ? 1 : 0,
        })),
      ),
    );
  }
  return families.filter((family) => family.samples.length > 0);
}

export interface PushTarget {
  /** PUSHGATEWAY_URL, e.g. http://pushgateway.monitoring.svc:9091 */
  readonly url: string;
  /** PUSHGATEWAY_JOB; default dws_task_exporter. */
  readonly job: string;
  readonly shardIndex: number;
}

/** {url}/metrics/job/{job}/shard/{index}, without any user:password (sent as Basic auth instead). */
export function pushUrl(target: PushTarget): string {
  const url = new URL(target.url);
  url.username = '';
  url.password = '';
  const base = url.toString().replace(/\/+$/, '');
  return `${base}/metrics/job/${encodeURIComponent(target.job)}/shard/${target.shardIndex}`;
}

function basicAuth(target: PushTarget): Record<string, string> {
  const url = new URL(target.url);
  if (!url.username && !url.password) return {};
  const pair = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
  return { authorization: `Basic ${Buffer.from(pair).toString('base64')}` };
}

/** PUSHGATEWAY_URL and PUSHGATEWAY_JOB, or null when no push is configured. */
export function pushTargetFromEnv(env: Readonly<Record<string, string | undefined>>, shardIndex: number): PushTarget | null {
  const url = env.PUSHGATEWAY_URL?.trim();
  if (!url) return null;
  const job = env.PUSHGATEWAY_JOB?.trim() || 'dws_task_exporter';
  return { url, job, shardIndex };
}

/** POSTs the metrics; resolves to an error message instead of throwing. */
export async function pushMetrics(
  target: PushTarget,
  families: readonly MetricFamily[],
  options: { readonly timeoutMs?: number } = {},
): Promise<string | null> {
  try {
    const url = pushUrl(target);
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', ...basicAuth(target) },
      body: formatExposition(families),
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    const text = await response.text().catch(() => '');
    if (!response.ok) return `Pushgateway answered ${response.status}: ${text.slice(0, 200)}`;
    return null;
  } catch (error) {
    return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  }
}

/** Builds and pushes; logs the outcome. */
export async function publishRunMetrics(
  target: PushTarget,
  input: RunMetricsInput,
  logger: Logger,
): Promise<boolean> {
  const families = runMetrics(input);
  const problem = await pushMetrics(target, families);
  let where: string;
  try {
    where = pushUrl(target);
  } catch {
    where = '(unparsable PUSHGATEWAY_URL)';
  }
  if (problem) {
    logger.warn({ pushgateway: where, problem }, 'could not push metrics to the Pushgateway');
    return false;
  }
  logger.info({ pushgateway: where, metrics: families.length }, 'metrics pushed');
  return true;
}
