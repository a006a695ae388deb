/** The human-readable end-of-run report, printed on stdout. */
import type { ClusterCounts } from '../core/run-outcome.js';
import { failedForEndpoint } from '../export/endpoint-report.js';
import type { RunReport } from '../export/run-export.js';

const number = new Intl.NumberFormat('en-US');
const MAX_LISTED = 10;

/** "9/60 clusters complete, 8 interrupted, 43 not started": the counts the ledger and the summary JSON hold. */
export function formatClusterCounts(counts: ClusterCounts, abandoned = 0): string {
  const parts: [number, string][] = [
    [counts.clustersIncomplete, 'incomplete'],
    [counts.clustersFailed, 'failed'],
    [counts.clustersInterrupted, 'interrupted'],
    [abandoned, 'abandoned'],
    [counts.clustersNotStarted, 'not started'],
  ];
  return (
    `${counts.clustersOk}/${counts.clustersPlanned} clusters complete` +
    parts.map(([n, what]) => (n > 0 ? `, ${n} ${what}` : '')).join('')
  );
}

export function formatRunSummary(report: RunReport): string {
  const t = report.totals;
  const lines = [
    `Run ${report.runId} ${report.status} in ${(report.durationMs / 1000).toFixed(1)} s: ${formatClusterCounts(t)}.`,
    `  tasks fetched ${number.format(t.tasksFetched)}: ${number.format(t.rowsInserted)} inserted, ` +
      `${number.format(t.rowsUpdated)} updated, ${number.format(t.rowsUnchanged)} unchanged; ` +
      `${number.format(t.apiRequests)} API requests (${number.format(t.apiRetries)} retries).`,
  ];
  // Told once per endpoint, not once per cluster.
  for (const endpoint of report.endpoints.filter((e) => e.unreachable)) {
    lines.push(
      `  Endpoint ${endpoint.endpoint} unreachable (last error: ${endpoint.lastError ?? 'unknown'}): ` +
        `${endpoint.clustersNotExported} clusters not exported.`,
    );
  }
  const unreachable = new Set(report.endpoints.filter((e) => e.unreachable).map((e) => e.endpoint));
  const problems = report.clusters.filter(
    (c) => c.status !== 'succeeded' && c.error?.code !== 'NOT_STARTED' && !(unreachable.has(c.endpoint) && failedForEndpoint(c)),
  );
  if (problems.length > 0) lines.push('  Clusters that need attention:');
  // A refused credential or a database outage fails every cluster the same
  // way: show a screenful, the ledger has the rest.
  for (const cluster of problems.slice(0, MAX_LISTED)) {
    const what =
      cluster.status === 'incomplete'
        ? `incomplete: ${cluster.tasksFetched} distinct tasks fetched, API count ${cluster.apiCount ?? 'unknown'} (stopped: ${cluster.stopReason})`
        : `${cluster.status}: ${cluster.error?.code ?? ''} ${cluster.error?.message ?? ''}`;
    lines.push(`    ${cluster.projectId}/${cluster.clusterId} ${what}`);
  }
  if (problems.length > MAX_LISTED) lines.push(`    … and ${problems.length - MAX_LISTED} more (see the ledger).`);
  for (const run of report.abandonedRuns) {
    lines.push(`  Closed run ${run.runId} as abandoned (its process died): ${formatClusterCounts(run, run.clustersAbandoned)}.`);
  }
  lines.push(`  Exit code ${report.exitCode}. Ledger: SELECT * FROM dws.export_cluster_runs WHERE run_id = ${report.runId};`);
  return lines.join('\n');
}
