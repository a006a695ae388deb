/**
 * The one log line per cluster: a fixed set of typed fields (ids, counts, the
 * cluster error), logged without pino's path redaction, which cost ~70 µs a
 * line, ~7 % of a tiny cluster's export. None of its fields is a name the
 * redaction paths cover; test/unit/export/cluster-log-line.test.ts proves it.
 */
import { unredactedChild, type Logger } from '../core/logger.js';
import type { ClusterError } from '../core/run-outcome.js';
import type { RowCounts } from '../warehouse/task-writer.js';
import type { ClusterReport } from './export-cluster.js';

export interface ClusterLine extends RowCounts {
  readonly runId: number;
  readonly projectId: string;
  readonly clusterId: string;
  readonly status: ClusterReport['status'];
  readonly apiCount: number | null;
  readonly fetched: number;
  readonly pages: number;
  readonly requests: number;
  readonly retries: number;
  readonly durationMs: number;
  readonly error?: ClusterError;
}

/** The logger for cluster lines, made once per run. */
export function clusterLineLogger(logger: Logger): Logger {
  return unredactedChild(logger);
}

export function clusterLineFields(runId: number, result: ClusterReport): ClusterLine {
  return {
    runId,
    projectId: result.projectId,
    clusterId: result.clusterId,
    status: result.status,
    apiCount: result.apiCount,
    fetched: result.tasksFetched,
    ...result.rows,
    pages: result.pages,
    requests: result.requests,
    retries: result.retries,
    durationMs: Math.round(result.durationMs),
    ...(result.error ? { error: result.error } : {}),
  };
}

/** Clusters the run did not call are told once, not each: per endpoint (run-export.ts), by count in the summary. */
export function logClusterResult(logger: Logger, runId: number, result: ClusterReport): void {
  const fields = clusterLineFields(runId, result);
  const code = result.error?.code;
  if (code === 'NOT_STARTED' || code === 'DWS_ENDPOINT_UNREACHABLE') logger.debug(fields, `cluster ${result.status}`);
  else if (result.status === 'succeeded') logger.info(fields, 'cluster exported');
  else if (result.status === 'failed') logger.error(fields, 'cluster failed');
  else logger.warn(fields, `cluster ${result.status}`);
}
