/** The human-readable end-of-run report, printed on stdout. */
import type { RunReport } from '../export/run-export.js';

const number = new Intl.NumberFormat('en-US');
const MAX_LISTED = 10;

export function formatRunSummary(report: RunReport): string {
  const t = report.totals;
  const total = report.clusters.length;
  const lines = [
    `Run ${report.runId} ${report.status} in ${(report.durationMs / 1000).toFixed(1)} s: ` +
      `${t.clustersOk}/${total} clusters complete` +
      (t.clustersIncomplete ? `, ${t.clustersIncomplete} incomplete` : '') +
      (t.clustersFailed ? `, ${t.clustersFailed} failed` : '') +
      '.',
    `  tasks fetched ${number.format(t.tasksFetched)}: ${number.format(t.rowsInserted)} inserted, ` +
      `${number.format(t.rowsUpdated)} updated, ${number.format(t.rowsUnchanged)} unchanged; ` +
      `${number.format(t.apiRequests)} API requests (${number.format(t.apiRetries)} retries).`,
  ];
  const problems = report.clusters.filter((c) => c.status !== 'succeeded');
  if (problems.length > 0) lines.push('  Clusters that need attention:');
  // A refused credential or a database outage fails every cluster the same
  // way: show a screenful, the ledger has the rest.
  for (const cluster of problems.slice(0, MAX_LISTED)) {
    const what =
      cluster.status === 'incomplete'
        ? `incomplete: ${cluster.tasksFetched} distinct tasks fetched, API count ${cluster.apiCount ?? 'unknown'} (stopped: ${cluster.stopReason})`
        : `failed: ${cluster.error?.code ?? ''} ${cluster.error?.message ?? ''}`;
    lines.push(`    ${cluster.projectId}/${cluster.clusterId} ${what}`);
  }
  if (problems.length > MAX_LISTED) lines.push(`    … and ${problems.length - MAX_LISTED} more (see the ledger).`);
  lines.push(`  Exit code ${report.exitCode}. Ledger: SELECT * FROM dws.export_cluster_runs WHERE run_id = ${report.runId};`);
  return lines.join('\n');
}
