/**
 * One cluster, start to finish: walk every page, turn tasks into rows, store
 * them in batches (one transaction each), and close the cluster's ledger row.
 * Never throws for a cluster-level problem: an API or database error becomes
 * a `failed` outcome, after whatever was already fetched has been stored.
 */
import type pg from 'pg';
import { DwsApiError, DwsPayloadError, ExporterError, describeCause } from '../errors.js';
import type { Logger } from '../report/logger.js';
import type { ClusterRef, DwsClient, RequestStats } from '../source/dws-client.js';
import { walkTasks, type OffsetModeCache, type WalkOptions, type WalkSummary } from '../source/paginate.js';
import { rawTaskKey, toTaskRow, type TaskRow } from '../transform/task-row.js';
import { withDbRetry, type DbRetryPolicy } from '../warehouse/db-retry.js';
import { finishClusterRun, startClusterRun, type ClusterOutcome } from '../warehouse/ledger.js';
import { loadBatch } from '../warehouse/load-batch.js';
import type { UpsertCounts } from '../warehouse/upsert-tasks.js';

export interface ClusterExportContext {
  readonly client: DwsClient;
  readonly pool: pg.Pool;
  readonly dbRetry: DbRetryPolicy;
  readonly runId: number;
  readonly walk: WalkOptions;
  readonly batchSize: number;
  readonly sourceTimeZone: string;
  readonly modeCache: OffsetModeCache;
  readonly logger: Logger;
  /** Aborted on SIGTERM/SIGINT: finish the page in hand, store it, stop. */
  readonly signal: AbortSignal;
}

export interface ClusterResult extends ClusterOutcome {
  readonly projectId: string;
  readonly clusterId: string;
  readonly tasksFetched: number;
  readonly rows: UpsertCounts;
  /** Set when the ledger itself could not be written (database trouble). */
  readonly ledgerError: string | null;
}

export async function exportCluster(ctx: ClusterExportContext, cluster: ClusterRef): Promise<ClusterResult> {
  const started = performance.now();
  const stats: RequestStats = { requests: 0, retries: 0 };
  const seen = new Set<string>();
  const rows = { inserted: 0, updated: 0, unchanged: 0 };
  const rowContext = { projectId: cluster.projectId, clusterId: cluster.clusterId, sourceTimeZone: ctx.sourceTimeZone };
  let buffer: TaskRow[] = [];

  const flush = async (): Promise<void> => {
    if (buffer.length === 0) return;
    const batch = buffer;
    buffer = [];
    const counts = await loadBatch(ctx.pool, ctx.dbRetry, ctx.runId, cluster.clusterId, batch);
    rows.inserted += counts.inserted;
    rows.updated += counts.updated;
    rows.unchanged += counts.unchanged;
  };
  const sink = async (tasks: readonly Parameters<typeof toTaskRow>[0][]): Promise<void> => {
    for (const task of tasks) buffer.push(toTaskRow(task, rowContext));
    if (buffer.length >= ctx.batchSize) await flush();
  };
  const walkOnce = (): Promise<WalkSummary> =>
    walkTasks(
      ctx.client,
      cluster,
      ctx.walk,
      { stats, seen, keyOf: rawTaskKey, modeCache: ctx.modeCache, signal: ctx.signal },
      sink,
    );

  let pages = 0;
  let duplicates = 0;
  let walk: WalkSummary | null = null;
  let error: unknown = null;
  try {
    await withDbRetry(ctx.dbRetry, () => startClusterRun(ctx.pool, ctx.runId, cluster));
  } catch (startError) {
    return ledgerFailure(cluster, startError, performance.now() - started);
  }
  try {
    walk = await walkOnce();
    pages += walk.pages;
    duplicates += walk.duplicates;
    if (walk.apiCount !== null && seen.size < walk.apiCount && !ctx.signal.aborted) {
      // Tasks can move between pages while we read (new ones, deletions):
      // one more pass picks up what slipped through; `seen` skips the rest.
      ctx.logger.warn(
        { clusterId: cluster.clusterId, apiCount: walk.apiCount, fetched: seen.size },
        'fewer distinct tasks than count: walking the pages once more',
      );
      walk = await walkOnce();
      pages += walk.pages;
      duplicates += walk.duplicates;
    }
    await flush();
  } catch (caught) {
    error = caught;
    // Keep everything fetched before the error.
    await flush().catch((flushError: unknown) => {
      ctx.logger.error({ clusterId: cluster.clusterId, err: describeCause(flushError) }, 'could not store fetched tasks');
    });
  }

  const complete =
    walk !== null && (walk.apiCount === null ? walk.stopReason === 'empty_page' : seen.size === walk.apiCount);
  const { status, errorInfo } = classify(error, complete, ctx.signal.aborted);
  const outcome: ClusterOutcome = {
    status,
    durationMs: performance.now() - started,
    apiCount: walk?.apiCount ?? null,
    duplicates,
    pages,
    requests: stats.requests,
    retries: stats.retries,
    offsetMode: walk?.offsetMode ?? null,
    stopReason: walk?.stopReason ?? null,
    error: errorInfo,
  };
  let ledgerError: string | null = null;
  try {
    await withDbRetry(ctx.dbRetry, () => finishClusterRun(ctx.pool, ctx.runId, cluster.clusterId, outcome));
  } catch (finishError) {
    ledgerError = describeCause(finishError);
  }
  return { ...outcome, projectId: cluster.projectId, clusterId: cluster.clusterId, tasksFetched: seen.size, rows, ledgerError };
}

type ErrorInfo = NonNullable<ClusterOutcome['error']>;

/** A shutdown that cut the walk short is an interruption, even if it surfaced as an aborted request. */
function classify(
  error: unknown,
  complete: boolean,
  aborted: boolean,
): { readonly status: ClusterOutcome['status']; readonly errorInfo: ErrorInfo | null } {
  if (complete && error === null) return { status: 'succeeded', errorInfo: null };
  if (aborted) {
    return {
      status: 'interrupted',
      errorInfo: {
        code: 'INTERRUPTED',
        message: 'the run was interrupted; tasks fetched before that were stored',
        httpStatus: null,
        apiErrorCode: null,
        requestId: null,
      },
    };
  }
  if (error !== null) return { status: 'failed', errorInfo: errorDetails(error) };
  return { status: 'incomplete', errorInfo: null };
}

function errorDetails(error: unknown): ErrorInfo {
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
    code: error instanceof ExporterError ? error.code : 'INTERNAL',
    message: describeCause(error),
    httpStatus: null,
    apiErrorCode: null,
    requestId: error instanceof DwsPayloadError ? error.requestId : null,
  };
}

function ledgerFailure(cluster: ClusterRef, error: unknown, durationMs: number): ClusterResult {
  const message = describeCause(error);
  return {
    projectId: cluster.projectId,
    clusterId: cluster.clusterId,
    status: 'failed',
    durationMs,
    apiCount: null,
    duplicates: 0,
    pages: 0,
    requests: 0,
    retries: 0,
    offsetMode: null,
    stopReason: null,
    error: { code: 'DB_ERROR', message, httpStatus: null, apiErrorCode: null, requestId: null },
    tasksFetched: 0,
    rows: { inserted: 0, updated: 0, unchanged: 0 },
    ledgerError: message,
  };
}
