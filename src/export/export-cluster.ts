/**
 * One cluster, start to finish: walk its pages while the run's writer stores
 * the rows, wait until they are committed, close the cluster's ledger row.
 * Never throws for a cluster-level problem: an API or database error becomes
 * a `failed` cluster, after whatever was fetched is stored.
 */
import type { LimitFunction } from 'p-limit';
import type pg from 'pg';
import { DbError, describeCause } from '../core/errors.js';
import { clusterError, clusterErrorFrom, type ClusterError } from '../core/run-outcome.js';
import type { ClusterRef } from '../plan/cluster-ref.js';
import type { RequestStats } from '../source/dws-client.js';
import { storedCount, type StoredTasks } from '../transform/task-identity.js';
import type { ClusterLedger } from '../warehouse/cluster-ledger.js';
import { ClusterListing } from '../warehouse/cluster-listing.js';
import { withDbRetry, type DbRetryPolicy } from '../warehouse/db-retry.js';
import { recordNotStarted, type FinishedClusterRun } from '../warehouse/ledger.js';
import type { RowCounts, TaskWriter } from '../warehouse/task-writer.js';
import { takeSlot, type FetchSlot } from './fetch-slot.js';
import type { OpenAhead } from './open-ahead.js';
import { walkCluster, walkComplete, type ClusterWalk, type WalkContext } from './walk-cluster.js';

export interface ClusterExportContext extends WalkContext {
  readonly pool: pg.Pool;
  readonly dbRetry: DbRetryPolicy;
  readonly runId: number;
  /** Per-cluster ledger rows and stored-task reads, shared by the run's clusters. */
  readonly ledger: ClusterLedger;
  readonly writer: TaskWriter;
  readonly sourceTimeZone: string;
  /** The run's `concurrency` slots, held while a cluster is being fetched (not while its requests are held). */
  readonly fetchSlots: LimitFunction;
  /** Clusters opened (ledger row written, stored tasks read) while waiting for a fetch slot, so opening overlaps walks. */
  readonly openAhead: OpenAhead;
  /** Called once per cluster when it will fetch nothing more (walked, or not started). */
  readonly walked: () => void;
}

/** How one cluster's export ended: its ledger row, and what the run report adds to it. */
export interface ClusterReport extends FinishedClusterRun {
  readonly endpoint: string;
  readonly projectId: string;
  readonly clusterId: string;
  readonly tasksFetched: number;
  readonly rows: RowCounts;
  /** Set when the ledger itself could not be written (database trouble). */
  readonly ledgerError: string | null;
}

/** What happened while the cluster held a fetch slot. */
type FetchStage =
  | { readonly kind: 'not-started'; readonly status: 'interrupted' | 'failed'; readonly error: ClusterError }
  | { readonly kind: 'ledger-failed'; readonly error: unknown }
  | { readonly kind: 'walked'; readonly walk: ClusterWalk };

const NO_ROWS: RowCounts = { inserted: 0, updated: 0, unchanged: 0 };

export async function exportCluster(ctx: ClusterExportContext, cluster: ClusterRef): Promise<ClusterReport> {
  const started = performance.now();
  let slot: FetchSlot | null = null;
  // While the endpoint breaker holds a request, the cluster's slot goes to others (fetch-slot.ts).
  const stats: RequestStats = { requests: 0, retries: 0, whileHeld: (wait) => (slot ? slot.lend(wait) : wait()) };
  const rowContext = { projectId: cluster.projectId, clusterId: cluster.clusterId, sourceTimeZone: ctx.sourceTimeZone };
  // Opened before the walk; the cast keeps TypeScript from narrowing it to null here.
  let listing = null as ClusterListing | null;
  const stage = await fetchStage(ctx, cluster, async (taken, storedTasks) => {
    slot = taken;
    listing = new ClusterListing(ctx.writer, rowContext, storedTasks);
    try {
      return await walkCluster(ctx, cluster, stats, listing);
    } finally {
      slot = null;
    }
  });
  ctx.walked();
  if (stage.kind === 'not-started') return recordUnexported(ctx, cluster, stage.status, stage.error);
  if (stage.kind === 'ledger-failed') return ledgerFailure(cluster, stage.error, performance.now() - started);

  // Everything fetched, also before an error, is stored before the cluster is closed.
  const tasksFetched = listing?.distinct ?? 0;
  const stored = (await listing?.settled()) ?? [];
  const storeFailure = stored.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  let error = stage.walk.error;
  if (storeFailure) {
    ctx.logger.error({ clusterId: cluster.clusterId, err: describeCause(storeFailure.reason) }, 'could not store fetched tasks');
    error ??= new DbError(`storing tasks of cluster ${cluster.clusterId} failed`, storeFailure.reason);
  }
  const { summary } = stage.walk;
  const outcome: FinishedClusterRun = {
    ...classify(error, walkComplete(stage.walk, tasksFetched), ctx.signal.aborted),
    durationMs: performance.now() - started,
    apiCount: summary?.apiCount ?? null,
    duplicates: stage.walk.duplicates,
    pages: stage.walk.pages,
    requests: stats.requests,
    retries: stats.retries,
    offsetMode: summary?.offsetMode ?? null,
    stopReason: summary?.stopReason ?? null,
  };
  let ledgerError: string | null = null;
  try {
    await withDbRetry(ctx.dbRetry, () => ctx.ledger.finish(cluster.clusterId, outcome));
  } catch (finishError) {
    ledgerError = describeCause(finishError);
  }
  return { ...outcome, ...identity(cluster), tasksFetched, rows: sumCounts(stored), ledgerError };
}

/**
 * Takes one of the run's fetch slots and walks the cluster, unless the run
 * is shutting down or the cluster's endpoint is not being called. While the
 * endpoint is open the cluster waits without a slot (before it starts, and
 * while its requests are held), so other endpoints' clusters go on at full
 * speed.
 */
async function fetchStage(
  ctx: ClusterExportContext,
  cluster: ClusterRef,
  walk: (slot: FetchSlot, storedTasks: StoredTasks) => Promise<ClusterWalk>,
): Promise<FetchStage> {
  const notStarted = (): FetchStage | null => {
    if (!ctx.signal.aborted) return null;
    const reason = `not started: the run was interrupted (${String(ctx.signal.reason)})`;
    return { kind: 'not-started', status: 'interrupted', error: clusterError('NOT_STARTED', reason) };
  };
  for (;;) {
    const unreachable = await ctx.client.endpoints.clusterTurn(cluster.endpoint, ctx.signal);
    // Opened (ledger row, stored tasks) while other clusters still hold the
    // fetch slots, so that round trip overlaps their walks.
    const opening = await takeSlot(ctx.openAhead.slots);
    let slot: FetchSlot | null = null;
    try {
      const stopped = notStarted();
      if (stopped) return stopped;
      if (unreachable) return { kind: 'not-started', status: 'failed', error: clusterErrorFrom(unreachable) };
      if (ctx.client.endpoints.isOpen(cluster.endpoint)) continue;
      let storedTasks: StoredTasks;
      try {
        storedTasks = await withDbRetry(ctx.dbRetry, () => ctx.ledger.open(cluster));
      } catch (error) {
        return { kind: 'ledger-failed', error };
      }
      ctx.openAhead.opened(storedCount(storedTasks));
      slot = await takeSlot(ctx.fetchSlots);
      opening.release();
      // The endpoint opened while this cluster waited for its slot: give the slot back.
      if (ctx.client.endpoints.isOpen(cluster.endpoint)) continue;
      return notStarted() ?? { kind: 'walked', walk: await walk(slot, storedTasks) };
    } finally {
      opening.release();
      slot?.release();
    }
  }
}

/** A shutdown that cut the walk short is an interruption, even if it surfaced as an aborted request. */
function classify(error: unknown, complete: boolean, aborted: boolean): Pick<FinishedClusterRun, 'status' | 'error'> {
  if (complete && error === null) return { status: 'succeeded', error: null };
  if (aborted) {
    return { status: 'interrupted', error: clusterError('INTERRUPTED', 'the run was interrupted; tasks fetched before that were stored') };
  }
  if (error !== null) return { status: 'failed', error: clusterErrorFrom(error) };
  return { status: 'incomplete', error: null };
}

/** A cluster the run did not call: recorded in the ledger with its reason, nothing fetched. */
async function recordUnexported(
  ctx: ClusterExportContext,
  cluster: ClusterRef,
  status: 'interrupted' | 'failed',
  error: ClusterError,
): Promise<ClusterReport> {
  let ledgerError: string | null = null;
  try {
    await withDbRetry(ctx.dbRetry, () => recordNotStarted(ctx.pool, ctx.runId, cluster, status, error));
  } catch (writeError) {
    ctx.logger.error({ clusterId: cluster.clusterId, err: describeCause(writeError) }, 'ledger write failed');
    // A missing row of a cluster that was never started still counts as not
    // started (planned minus rows); a missing `failed` row would not add up.
    if (status === 'failed') ledgerError = describeCause(writeError);
  }
  return unexported(cluster, status, error, 0, ledgerError);
}

function ledgerFailure(cluster: ClusterRef, error: unknown, durationMs: number): ClusterReport {
  const message = describeCause(error);
  return unexported(cluster, 'failed', clusterError('DB_ERROR', message), durationMs, message);
}

function unexported(
  cluster: ClusterRef,
  status: 'interrupted' | 'failed',
  error: ClusterError,
  durationMs: number,
  ledgerError: string | null,
): ClusterReport {
  return {
    ...identity(cluster),
    status,
    durationMs,
    apiCount: null,
    duplicates: 0,
    pages: 0,
    requests: 0,
    retries: 0,
    offsetMode: null,
    stopReason: null,
    error,
    tasksFetched: 0,
    rows: NO_ROWS,
    ledgerError,
  };
}

function identity(cluster: ClusterRef): Pick<ClusterReport, 'endpoint' | 'projectId' | 'clusterId'> {
  return { endpoint: new URL(cluster.endpoint).origin, projectId: cluster.projectId, clusterId: cluster.clusterId };
}

function sumCounts(results: readonly PromiseSettledResult<RowCounts>[]): RowCounts {
  let { inserted, updated, unchanged } = NO_ROWS;
  for (const result of results) {
    if (result.status !== 'fulfilled') continue;
    inserted += result.value.inserted;
    updated += result.value.updated;
    unchanged += result.value.unchanged;
  }
  return { inserted, updated, unchanged };
}
