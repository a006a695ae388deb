/**
 * One cluster, start to finish: walk every page, turn tasks into rows, hand
 * them to the run's writer (which batches and stores them while the next
 * pages are fetched), wait until they are committed, and close the cluster's
 * ledger row. The walk holds one of the run's `concurrency` slots; waiting
 * for the commit does not, so the next cluster starts fetching meanwhile.
 * Never throws for a cluster-level problem: an API or database error becomes
 * a `failed` outcome, after whatever was fetched is stored.
 */
import type { LimitFunction } from 'p-limit';
import type pg from 'pg';
import { DbError, describeCause } from '../core/errors.js';
import { clusterError, clusterErrorFrom, type ClusterError } from '../core/run-outcome.js';
import type { Logger } from '../core/logger.js';
import type { ClusterRef } from '../plan/cluster-ref.js';
import type { DwsClient, RequestStats } from '../source/dws-client.js';
import { walkTasks, type OffsetModeCache, type WalkOptions, type WalkSummary } from '../source/paginate.js';
import type { StoredTask } from '../transform/task-identity.js';
import { rawTaskKey } from '../transform/task-row.js';
import { ClusterListing } from '../warehouse/cluster-listing.js';
import { withDbRetry, type DbRetryPolicy } from '../warehouse/db-retry.js';
import { finishClusterRun, recordNotStarted, startClusterRun, type ClusterOutcome } from '../warehouse/ledger.js';
import { readStoredTasks } from '../warehouse/stored-tasks.js';
import type { RowCounts, TaskWriter } from '../warehouse/task-writer.js';

export interface ClusterExportContext {
  readonly client: DwsClient;
  readonly pool: pg.Pool;
  readonly dbRetry: DbRetryPolicy;
  readonly runId: number;
  readonly walk: WalkOptions;
  readonly writer: TaskWriter;
  readonly sourceTimeZone: string;
  readonly modeCache: OffsetModeCache;
  readonly logger: Logger;
  /** Aborted on SIGTERM/SIGINT: finish the page in hand, store it, stop. */
  readonly signal: AbortSignal;
  /** The run's `concurrency` slots, held while a cluster is being fetched. */
  readonly fetchSlots: LimitFunction;
}

export interface ClusterResult extends ClusterOutcome {
  readonly projectId: string;
  readonly clusterId: string;
  readonly tasksFetched: number;
  readonly rows: RowCounts;
  /** Set when the ledger itself could not be written (database trouble). */
  readonly ledgerError: string | null;
}

/** Null when the run was interrupted before this cluster's turn. */
export async function exportCluster(ctx: ClusterExportContext, cluster: ClusterRef): Promise<ClusterResult | null> {
  const started = performance.now();
  const stats: RequestStats = { requests: 0, retries: 0 };
  const rowContext = { projectId: cluster.projectId, clusterId: cluster.clusterId, sourceTimeZone: ctx.sourceTimeZone };
  // Created in the fetch slot; the cast keeps TypeScript from narrowing it to null here.
  let listing = null as ClusterListing | null;
  // The first walk may fetch pages in parallel; a re-walk goes page by page,
  // with pages that put identical tasks the first walk found split by a page
  // boundary (which look like drift) on one page.
  const walkOnce = (into: ClusterListing, rewalkOf?: WalkSummary): Promise<WalkSummary> =>
    walkTasks(
      ctx.client,
      cluster,
      rewalkOf ? { ...ctx.walk, pageConcurrency: 1, pageSize: into.rewalkPageSize(rewalkOf.limit) } : ctx.walk,
      { stats, keyOf: rawTaskKey, modeCache: ctx.modeCache, signal: ctx.signal },
      into,
    );

  let pages = 0;
  let duplicates = 0;
  // Assigned inside walkAll(); the cast keeps TypeScript from narrowing it to null here.
  let walk = null as WalkSummary | null;
  let error: unknown = null;
  const turn = await ctx.fetchSlots(async (): Promise<'skipped' | 'started' | { failed: unknown }> => {
    if (ctx.signal.aborted) return 'skipped';
    let stored: StoredTask[];
    try {
      await withDbRetry(ctx.dbRetry, () => startClusterRun(ctx.pool, ctx.runId, cluster));
      stored = await withDbRetry(ctx.dbRetry, () => readStoredTasks(ctx.pool, cluster.clusterId));
    } catch (startError) {
      return { failed: startError };
    }
    listing = new ClusterListing(ctx.writer, rowContext, stored);
    try {
      await walkAll();
    } catch (caught) {
      error = caught;
    }
    return 'started';
  });
  if (turn === 'skipped') {
    await withDbRetry(ctx.dbRetry, () =>
      recordNotStarted(ctx.pool, ctx.runId, cluster, `not started: the run was interrupted (${String(ctx.signal.reason)})`),
    ).catch((ledgerError: unknown) =>
      ctx.logger.error({ clusterId: cluster.clusterId, err: describeCause(ledgerError) }, 'ledger write failed'),
    );
    return null;
  }
  if (turn !== 'started') return ledgerFailure(cluster, turn.failed, performance.now() - started);

  async function walkAll(): Promise<void> {
    if (!listing) return;
    walk = await walkOnce(listing);
    pages += walk.pages;
    duplicates += walk.duplicates;
    if (walk.apiCount !== null && listing.distinct < walk.apiCount && !ctx.signal.aborted) {
      // Tasks can move between pages while we read (new ones, deletions):
      // one more pass picks up what slipped through; the listing skips the rest.
      ctx.logger.warn(
        { clusterId: cluster.clusterId, apiCount: walk.apiCount, fetched: listing.distinct },
        'fewer distinct tasks than count: walking the pages once more',
      );
      walk = await walkOnce(listing, walk);
      pages += walk.pages;
      duplicates += walk.duplicates;
    }
  }
  // Everything fetched, also before an error, is stored before the cluster is closed.
  const fetched = listing?.distinct ?? 0;
  const stored = (await listing?.settled()) ?? [];
  const rows = sumCounts(stored);
  const storeFailure = stored.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (storeFailure) {
    ctx.logger.error({ clusterId: cluster.clusterId, err: describeCause(storeFailure.reason) }, 'could not store fetched tasks');
    error ??= new DbError(`storing tasks of cluster ${cluster.clusterId} failed`, storeFailure.reason);
  }

  // Complete: every task the API counts was fetched and paging ended normally
  // (more than `count` is fine: the count was stale and paging went on until
  // a short or empty page).
  const complete =
    walk !== null &&
    (walk.stopReason === 'count_reached' || walk.stopReason === 'empty_page') &&
    (walk.apiCount === null || fetched >= walk.apiCount);
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
  return { ...outcome, projectId: cluster.projectId, clusterId: cluster.clusterId, tasksFetched: fetched, rows, ledgerError };
}

/** A shutdown that cut the walk short is an interruption, even if it surfaced as an aborted request. */
function classify(
  error: unknown,
  complete: boolean,
  aborted: boolean,
): { readonly status: ClusterOutcome['status']; readonly errorInfo: ClusterError | null } {
  if (complete && error === null) return { status: 'succeeded', errorInfo: null };
  if (aborted) {
    return {
      status: 'interrupted',
      errorInfo: clusterError('INTERRUPTED', 'the run was interrupted; tasks fetched before that were stored'),
    };
  }
  if (error !== null) return { status: 'failed', errorInfo: clusterErrorFrom(error) };
  return { status: 'incomplete', errorInfo: null };
}

function sumCounts(results: readonly PromiseSettledResult<RowCounts>[]): RowCounts {
  let inserted = 0;
  let updated = 0;
  let unchanged = 0;
  for (const result of results) {
    if (result.status !== 'fulfilled') continue;
    inserted += result.value.inserted;
    updated += result.value.updated;
    unchanged += result.value.unchanged;
  }
  return { inserted, updated, unchanged };
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
    error: clusterError('DB_ERROR', message),
    tasksFetched: 0,
    rows: { inserted: 0, updated: 0, unchanged: 0 },
    ledgerError: message,
  };
}
