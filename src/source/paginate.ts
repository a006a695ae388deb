/**
 * The page loop: collects every task of one cluster exactly once, whatever
 * the server does with `offset` (documented as a page index, may count rows)
 * and `limit` (may be capped silently).
 *
 * - The first page tells `count` and, if shorter than asked, the server's cap;
 *   later pages ask for exactly that many so both offset meanings line up.
 * - In `auto` mode the second request asks for offset=1: if it starts with
 *   the first page's second task the server counts rows, otherwise pages.
 *   The answer is remembered per endpoint for the rest of the run.
 * - Once `count` and the offset meaning are known, the remaining pages of a
 *   large cluster are fetched `pageConcurrency` at a time (within the run's
 *   request budget), so one huge cluster does not dominate the run.
 * - Then it goes on page by page, advancing by what was actually returned,
 *   deduplicating by natural key, and stops at `count`, on an empty page, or
 *   when pages stop bringing anything new (a server ignoring `offset` must
 *   not loop us forever).
 */
import pLimit from 'p-limit';
import type { ClusterRef, DwsClient, PageQuery, RequestStats } from './dws-client.js';
import type { RawTask, TasksPage } from './task-page.js';

export type OffsetMode = 'rows' | 'pages';

export interface WalkOptions {
  readonly pageSize: number;
  readonly offsetMode: 'auto' | OffsetMode;
  readonly orderBy: string | null;
  readonly logicalClusterName: string | null;
  readonly type: string | null;
  /** Pages of one cluster in flight at once once `count` is known (1: strictly sequential). */
  readonly pageConcurrency: number;
}

export type StopReason = 'count_reached' | 'empty_page' | 'no_progress' | 'page_limit' | 'interrupted';

export interface WalkSummary {
  /** Last `count` the API reported; null if it never sent one. */
  readonly apiCount: number | null;
  readonly pages: number;
  /** Tasks returned that had already been seen (same natural key). */
  readonly duplicates: number;
  readonly offsetMode: OffsetMode | null;
  readonly stopReason: StopReason;
}

/** Receives each page's tasks not seen before; awaited before the next request. */
export type PageSink = (tasks: readonly RawTask[]) => Promise<void>;

/** Offset meaning learnt per endpoint, shared by all clusters of a run. */
export type OffsetModeCache = Map<string, OffsetMode>;

// Pages bringing nothing new in a row before we call the server stuck.
const MAX_STALE_PAGES = 2;

export async function walkTasks(
  client: DwsClient,
  cluster: ClusterRef,
  options: WalkOptions,
  context: {
    readonly stats: RequestStats;
    readonly seen: Set<string>;
    readonly keyOf: (task: RawTask) => string;
    readonly modeCache: OffsetModeCache;
    /** Aborted on shutdown: no new page is requested after that. */
    readonly signal?: AbortSignal;
  },
  sink: PageSink,
): Promise<WalkSummary> {
  const { stats, seen, keyOf, modeCache, signal } = context;
  let limit = options.pageSize;
  let mode: OffsetMode | null =
    options.offsetMode === 'auto' ? (modeCache.get(cluster.endpoint) ?? null) : options.offsetMode;
  let pages = 0;
  let duplicates = 0;
  let stalePages = 0;
  let apiCount: number | null = null;
  let rowsRead = 0;
  let pageIndex = 0;

  const fetchPage = async (offset: number): Promise<TasksPage> => {
    const query: PageQuery = {
      offset,
      limit,
      orderBy: options.orderBy,
      logicalClusterName: options.logicalClusterName,
      type: options.type,
    };
    const page = await client.listTasksPage(cluster, query, stats, signal);
    pages += 1;
    if (page.count !== null) apiCount = page.count;
    return page;
  };
  const accept = async (tasks: readonly RawTask[]): Promise<number> => {
    const fresh: RawTask[] = [];
    for (const task of tasks) {
      const key = keyOf(task);
      if (seen.has(key)) duplicates += 1;
      else {
        seen.add(key);
        fresh.push(task);
      }
    }
    if (fresh.length > 0) await sink(fresh);
    return fresh.length;
  };
  const summary = (stopReason: StopReason): WalkSummary => ({
    apiCount,
    pages,
    duplicates,
    offsetMode: mode,
    stopReason,
  });

  const first = await fetchPage(0);
  await accept(first.tasks);
  if (first.tasks.length === 0) return summary('empty_page');
  // A short first page with more to come reveals the server's cap.
  if (first.tasks.length < limit) limit = first.tasks.length;
  rowsRead = first.tasks.length;
  const done = (): boolean => apiCount !== null && seen.size >= apiCount;

  if (mode === null && !done()) {
    if (signal?.aborted) return summary('interrupted');
    const probe = await fetchPage(1);
    mode = detectMode(first.tasks, probe.tasks, limit, keyOf);
    if (mode !== null) modeCache.set(cluster.endpoint, mode);
    if (probe.tasks.length === 0) return summary('empty_page');
    rowsRead = mode === 'rows' ? 1 + probe.tasks.length : rowsRead + probe.tasks.length;
    pageIndex = 1;
    await accept(probe.tasks);
  }

  if (options.pageConcurrency > 1 && mode !== null && apiCount !== null && !done()) {
    // Plan the rest from `count` and fetch it in parallel; what drift or
    // short pages leave out, the page-by-page loop below picks up.
    const remaining = Math.ceil((apiCount - (mode === 'rows' ? rowsRead : (pageIndex + 1) * limit)) / limit);
    const offsets = Array.from({ length: Math.max(0, remaining) }, (_, i) =>
      mode === 'rows' ? rowsRead + i * limit : pageIndex + 1 + i,
    );
    const inFlight = pLimit(options.pageConcurrency);
    await Promise.all(
      offsets.map((offset) =>
        inFlight(async () => {
          if (signal?.aborted) return;
          await accept((await fetchPage(offset)).tasks);
        }),
      ),
    );
    rowsRead += offsets.length * limit;
    pageIndex += offsets.length;
  }

  for (;;) {
    if (done()) return summary('count_reached');
    if (signal?.aborted) return summary('interrupted');
    // Generous: twice the pages `count` needs, plus slack for drift.
    const maxPages = apiCount === null ? 1_000_000 : Math.ceil(apiCount / limit) * 2 + 5;
    if (pages >= maxPages) return summary('page_limit');

    const page = await fetchPage(mode === 'rows' ? rowsRead : pageIndex + 1);
    if (page.tasks.length === 0) return summary('empty_page');
    pageIndex += 1;
    rowsRead += page.tasks.length;
    const fresh = await accept(page.tasks);
    stalePages = fresh === 0 ? stalePages + 1 : 0;
    if (stalePages >= MAX_STALE_PAGES) return summary('no_progress');
  }
}

/**
 * Offset 1 means row 1 (rows) or page 1 (pages). With a page size of one the
 * two agree, so either answer is right; an unrecognisable answer is treated
 * as pages, and the stale-page guard catches a server that ignores offset.
 */
function detectMode(
  firstPage: readonly RawTask[],
  probe: readonly RawTask[],
  limit: number,
  keyOf: (task: RawTask) => string,
): OffsetMode | null {
  if (limit === 1) return 'rows';
  const second = firstPage[1];
  const probeFirst = probe[0];
  if (second === undefined || probeFirst === undefined) return null;
  return keyOf(probeFirst) === keyOf(second) ? 'rows' : 'pages';
}
