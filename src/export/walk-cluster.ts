/**
 * The page walk of one cluster (src/source/paginate.ts), and one more walk
 * when fewer distinct tasks than the API's count came back: tasks can move
 * between pages while we read, and the listing skips what it has met.
 */
import type { Logger } from '../core/logger.js';
import type { ClusterRef } from '../plan/cluster-ref.js';
import type { DwsClient, RequestStats } from '../source/dws-client.js';
import { walkTasks, type OffsetModeCache, type WalkOptions, type WalkSummary } from '../source/paginate.js';
import { rawTaskKey } from '../transform/task-row.js';
import type { ClusterListing } from '../warehouse/cluster-listing.js';

export interface WalkContext {
  readonly client: DwsClient;
  readonly walk: WalkOptions;
  readonly modeCache: OffsetModeCache;
  readonly logger: Logger;
  /** Aborted on SIGTERM/SIGINT: finish the page in hand, store it, stop. */
  readonly signal: AbortSignal;
}

export interface ClusterWalk {
  /** The last walk that ended normally; null when the first one failed. */
  readonly summary: WalkSummary | null;
  /** Pages and duplicates of the walks that ended normally. */
  readonly pages: number;
  readonly duplicates: number;
  /** Why the walk stopped early (an API error); null when it did not. */
  readonly error: unknown;
}

export async function walkCluster(
  ctx: WalkContext,
  cluster: ClusterRef,
  stats: RequestStats,
  listing: ClusterListing,
): Promise<ClusterWalk> {
  // The first walk may fetch pages in parallel; a re-walk goes page by page,
  // with pages that put identical tasks the first walk found split by a page
  // boundary (which look like drift) on one page.
  const walkOnce = (options: WalkOptions): Promise<WalkSummary> =>
    walkTasks(ctx.client, cluster, options, { stats, keyOf: rawTaskKey, modeCache: ctx.modeCache, signal: ctx.signal }, listing);
  let first: WalkSummary;
  try {
    first = await walkOnce(ctx.walk);
  } catch (error) {
    return { summary: null, pages: 0, duplicates: 0, error };
  }
  const firstOnly: ClusterWalk = { summary: first, pages: first.pages, duplicates: first.duplicates, error: null };
  if (first.apiCount === null || listing.distinct >= first.apiCount || ctx.signal.aborted) return firstOnly;
  ctx.logger.warn(
    { clusterId: cluster.clusterId, apiCount: first.apiCount, fetched: listing.distinct },
    'fewer distinct tasks than count: walking the pages once more',
  );
  try {
    const second = await walkOnce({ ...ctx.walk, pageConcurrency: 1, pageSize: listing.rewalkPageSize(first.limit) });
    return { summary: second, pages: first.pages + second.pages, duplicates: first.duplicates + second.duplicates, error: null };
  } catch (error) {
    return { ...firstOnly, error };
  }
}

/**
 * Complete: every task the API counts was fetched and paging ended normally
 * (more than `count` is fine: the count was stale and paging went on until
 * a short or empty page).
 */
export function walkComplete(walk: ClusterWalk, tasksFetched: number): boolean {
  const { summary } = walk;
  return (
    walk.error === null &&
    summary !== null &&
    (summary.stopReason === 'count_reached' || summary.stopReason === 'empty_page') &&
    (summary.apiCount === null || tasksFetched >= summary.apiCount)
  );
}
