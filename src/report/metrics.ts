/**
 * The metrics a run pushes at its end (see pushgateway.ts): gauges about the
 * last run of a shard, for "the nightly export silently stopped" alerts.
 * Built as plain data from the summary document, then as a prom-client registry.
 */
import { Gauge, Registry } from 'prom-client';
import type { ClusterHealth } from '../warehouse/export-health.js';
import type { RunSummaryDocument } from './summary-json.js';

export interface Sample {
  readonly labels?: Readonly<Record<string, string>>;
  readonly value: number;
}

/** Every metric is a gauge describing the last run. */
export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly samples: readonly Sample[];
}

export interface RunMetricsInput {
  readonly summary: RunSummaryDocument;
  /** dws_exporter_api_responses, from api-traffic.ts. */
  readonly apiResponses: ReadonlyMap<string, number>;
  /** From dws.v_export_health; empty when the database could not be read. */
  readonly clusters: readonly ClusterHealth[];
}

const RUN_STATUSES = ['succeeded', 'partial', 'failed', 'interrupted', 'error'] as const;

/** Every metric name is documented with the Pushgateway setup (docs: Metrics). */
export function runMetrics(input: RunMetricsInput): MetricFamily[] {
  const { summary } = input;
  const finished = Date.parse(summary.finishedAt) / 1000;
  const t = summary.totals;
  const family = (name: string, help: string, samples: readonly Sample[]): MetricFamily => ({ name, help, samples });
  const families: MetricFamily[] = [
    family('dws_exporter_last_run_timestamp_seconds', 'When the last run finished (Unix time), whatever its outcome.', [{ value: finished }]),
    family('dws_exporter_last_run_status', 'Outcome of the last run: 1 for its status, 0 for the others.', RUN_STATUSES.map((status) => ({ labels: { status }, value: summary.status === status ? 1 : 0 }))),
    family('dws_exporter_last_run_exit_code', 'Exit code of the last run (0 ok, 2 config, 3 partial, 4 failed, 5 database, 6 auth, 130/143 interrupted).', [{ value: summary.exitCode }]),
    family('dws_exporter_last_run_duration_seconds', 'Wall time of the last run.', [{ value: summary.durationMs / 1000 }]),
  ];
  if (summary.status === 'succeeded') {
    families.push(family('dws_exporter_last_success_timestamp_seconds', 'When a run last exported every cluster of this shard completely (Unix time). Pushed only by such runs.', [{ value: finished }]));
  }
  if (t) {
    families.push(
      family('dws_exporter_clusters', 'Clusters of the last run by how they ended: planned = succeeded + incomplete + failed + interrupted + not_started.', [
        { labels: { status: 'planned' }, value: t.clustersPlanned },
        { labels: { status: 'succeeded' }, value: t.clustersOk },
        { labels: { status: 'incomplete' }, value: t.clustersIncomplete },
        { labels: { status: 'failed' }, value: t.clustersFailed },
        { labels: { status: 'interrupted' }, value: t.clustersInterrupted },
        { labels: { status: 'not_started' }, value: t.clustersNotStarted },
      ]),
      family('dws_exporter_tasks_fetched', 'Distinct tasks fetched by the last run.', [{ value: t.tasksFetched }]),
      family('dws_exporter_rows', 'Task rows written by the last run, by operation.', [
        { labels: { operation: 'inserted' }, value: t.rowsInserted },
        { labels: { operation: 'updated' }, value: t.rowsUpdated },
        { labels: { operation: 'unchanged' }, value: t.rowsUnchanged },
      ]),
      family('dws_exporter_api_requests', 'DWS API requests sent by the last run, retries included (from the ledger).', [{ value: t.apiRequests }]),
      family('dws_exporter_api_retries', 'DWS API requests of the last run that were retries (after 429, 5xx, network errors).', [{ value: t.apiRetries }]),
      family('dws_exporter_abandoned_runs_closed', 'Runs left running by a dead exporter process (kill -9, OOM) that the last run closed as abandoned.', [{ value: summary.abandonedRuns.length }]),
    );
  }
  const responses = [...input.apiResponses.entries()].sort(([a], [b]) => a.localeCompare(b));
  families.push(
    family(
      'dws_exporter_api_responses',
      'DWS API attempts of the last run by HTTP status; "network_error" when no response came. Retried attempts count under the status that caused the retry.',
      responses.map(([code, value]) => ({ labels: { code }, value })),
    ),
    family(
      'dws_exporter_endpoint_unreachable',
      'Whether the last run stopped calling the endpoint because it was unreachable (1), for every endpoint the run used.',
      summary.endpoints.map((e) => ({ labels: { endpoint: e.endpoint }, value: e.unreachable ? 1 : 0 })),
    ),
  );
  const succeeded = new Set(summary.clusters.filter((c) => c.status === 'succeeded').map((c) => c.clusterId));
  const perCluster = (name: string, help: string, value: (c: ClusterHealth) => number): MetricFamily =>
    family(name, help, input.clusters.map((c) => ({ labels: { project_id: c.projectId, cluster_id: c.clusterId }, value: value(c) })));
  families.push(
    perCluster(
      'dws_exporter_cluster_last_success_timestamp_seconds',
      'When each cluster was last exported completely (Unix time; 0 if never), from dws.v_export_health.',
      (c) => (c.lastSuccessAt === null ? 0 : c.lastSuccessAt.getTime() / 1000),
    ),
    perCluster('dws_exporter_cluster_last_run_succeeded', 'Whether the last run exported each cluster completely (1) or not (0).', (c) =>
      succeeded.has(c.clusterId) ? 1 : 0,
    ),
    perCluster(
      'dws_exporter_cluster_failures_since_success',
      "Attempts at each cluster that did not succeed since its last complete export (or ever), from dws.v_export_health.failures_since_success.",
      (c) => c.failuresSinceSuccess,
    ),
  );
  return families.filter((f) => f.samples.length > 0);
}

/** The families as a prom-client registry, ready to push or expose. */
export function metricsRegistry(families: readonly MetricFamily[]): Registry {
  const registry = new Registry();
  for (const { name, help, samples } of families) {
    const labelNames = [...new Set(samples.flatMap((s) => Object.keys(s.labels ?? {})))];
    const gauge = new Gauge({ name, help, labelNames, registers: [registry] });
    for (const sample of samples) {
      if (sample.labels) gauge.set(sample.labels, sample.value);
      else gauge.set(sample.value);
    }
  }
  return registry;
}
