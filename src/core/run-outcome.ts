/**
 * How a run and each of its clusters ended: the words and shapes the ledger,
 * the run report, the summary document and the metrics share.
 */
import { DwsApiError, DwsPayloadError, ExporterError, describeCause, type ErrorCode } from './errors.js';

export type RunStatus = 'running' | 'succeeded' | 'partial' | 'failed' | 'interrupted' | 'abandoned';
export type FinishedRunStatus = Exclude<RunStatus, 'running'>;
export type ClusterStatus = 'running' | 'succeeded' | 'incomplete' | 'failed' | 'interrupted' | 'abandoned';

/** Why a cluster did not succeed, as dws.export_cluster_runs and the summary document record it. */
export interface ClusterError {
  readonly code: ErrorCode;
  readonly message: string;
  readonly httpStatus: number | null;
  readonly apiErrorCode: string | null;
  readonly requestId: string | null;
}

/** A cluster error with no HTTP answer behind it. */
export function clusterError(code: ErrorCode, message: string): ClusterError {
  return { code, message, httpStatus: null, apiErrorCode: null, requestId: null };
}

/** The cluster error a thrown error stands for: API details when the API answered, INTERNAL for a bug. */
export function clusterErrorFrom(error: unknown): ClusterError {
  if (error instanceof DwsApiError) {
    return {
      code: error.code,
      message: error.message,
      httpStatus: error.details.status,
      apiErrorCode: error.details.errorCode,
      requestId: error.details.requestId,
    };
  }
  return {
    ...clusterError(error instanceof ExporterError ? error.code : 'INTERNAL', describeCause(error)),
    requestId: error instanceof DwsPayloadError ? error.requestId : null,
  };
}

/**
 * How a run's planned clusters ended; the six add up to clustersPlanned. The
 * text summary, the summary document, the metrics and the run ledger all show
 * these numbers, computed once from the ledger's cluster rows.
 */
export interface ClusterCounts {
  readonly clustersPlanned: number;
  readonly clustersOk: number;
  readonly clustersIncomplete: number;
  /** Ended with an error (never interrupted ones). */
  readonly clustersFailed: number;
  /** Stopped by a signal while being exported. */
  readonly clustersInterrupted: number;
  /** Never started: the run was stopped before their turn (or, for an abandoned run, its process died first). */
  readonly clustersNotStarted: number;
}

/** A run's totals, summed from its clusters' ledger rows (the one source of truth). */
export interface RunTotals extends ClusterCounts {
  readonly tasksFetched: number;
  readonly rowsInserted: number;
  readonly rowsUpdated: number;
  readonly rowsUnchanged: number;
  readonly apiRequests: number;
  readonly apiRetries: number;
}

/** A run left `running` by a process that died, as the run that closed it found it. */
export interface AbandonedRun extends ClusterCounts {
  readonly runId: number;
  /** Being exported when the process died. */
  readonly clustersAbandoned: number;
}
