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
 *   when a page repeats the previous one (a server ignoring `offset` must
 *   not loop us forever). A full last page is confirmed by one more
 *   request, so an under-reported count cannot end the walk early.
 */
import pLimit from 'p-limit';
import type { ClusterRef } from '../plan/cluster-ref.js';
import type { DwsClient, PageQuery, RequestStats } from './dws-client.js';
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

/** What the run has learnt about an endpoint, shared by all its clusters. */
export interface EndpointFacts {
  /** What `offset` counts, once a walk could tell. */
  mode?: OffsetMode;
  /** The largest page the server has answered while `count` said there was more. */
  cap?: number;
}

export type OffsetModeCache = Map<string, EndpointFacts>;

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
  let facts = modeCache.get(cluster.endpoint);
  if (!facts) {
    facts = {};
    modeCache.set(cluster.endpoint, facts);
  }
  // Ask for no more than the server is known to answer: then a first page of
  // exactly that size counts as full (and is confirmed), even if `count` says
  // it was the last one.
  let limit = Math.min(options.pageSize, facts.cap ?? options.pageSize);
  let mode: OffsetMode | null = options.offsetMode === 'auto' ? (facts.mode ?? null) : options.offsetMode;
  let pages = 0;
  let duplicates = 0;
  let apiCount: number | null = null;
  let rowsRead = 0;
  let pageIndex = 0;
  let lastPageFull = false;
  // A cap inferred from this cluster's first page; shared with the endpoint
  // only once a second page of exactly that size confirms it (a lying count
  // on a tiny cluster must not shrink every page of the run).
  let capSeen = false;
  const confirmCap = (pageLength: number): void => {
    if (capSeen && pageLength === limit && limit > 1) {
      facts.cap = Math.min(facts.cap ?? limit, limit);
      capSeen = false;
    }
  };
  let previousKeys: readonly string[] = [];
  // Keys met in this walk (a re-walk re-reads what the first walk stored).
  const walkSeen = new Set<string>();

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
  /**
   * Hands new tasks to the sink; returns how many leading tasks this walk had
   * already met. Not async: a suspended frame would keep the page alive
   * while the sink applies backpressure.
   */
  const accept = (tasks: readonly RawTask[], keys: readonly string[] = tasks.map(keyOf)): Promise<number> => {
    const fresh: RawTask[] = [];
    let leadingRepeats = 0;
    let leading = true;
    for (const [i, task] of tasks.entries()) {
      const key = keys[i] as string;
      if (leading && walkSeen.has(key)) leadingRepeats += 1;
      else leading = false;
      walkSeen.add(key);
      if (seen.has(key)) duplicates += 1;
      else {
        seen.add(key);
        fresh.push(task);
      }
    }
    return fresh.length > 0 ? sink(fresh).then(() => leadingRepeats) : Promise.resolve(leadingRepeats);
  };
  const summary = (stopReason: StopReason): WalkSummary => ({
    apiCount,
    pages,
    duplicates,
    offsetMode: mode,
    stopReason,
  });
  // `count` ends the walk only after a page that was not full: a full last
  // page is confirmed by one more request, so a count that leaves something
  // out (stale, or not counting a running task) cannot hide the last tasks.
  // The cost is one request for clusters whose count is a multiple of the page.
  const finished = (): boolean => apiCount !== null && seen.size >= apiCount && !lastPageFull;

  const first = await fetchPage(0);
  const firstKeys = first.tasks.map(keyOf);
  await accept(first.tasks, firstKeys);
  if (first.tasks.length === 0) return summary('empty_page');
  // A short first page with more to come (or maybe more: no count) reveals the server's cap.
  if (first.tasks.length < limit && (apiCount === null || first.tasks.length < apiCount)) {
    limit = first.tasks.length;
    capSeen = true;
  }
  rowsRead = first.tasks.length;
  lastPageFull = first.tasks.length >= limit;
  previousKeys = firstKeys;

  if (mode === null && !finished()) {
    if (signal?.aborted) return summary('interrupted');
    const probe = await fetchPage(1);
    // Offset 1 answered with the first page again: the server ignores offset.
    const probeKeys = probe.tasks.map(keyOf);
    if (sameKeys(probeKeys, previousKeys)) return summary('no_progress');
    const detected = detectMode(first.tasks, probe.tasks, limit, keyOf);
    mode = detected.mode;
    // Only a clear answer speaks for the whole endpoint.
    if (detected.conclusive) facts.mode = mode;
    if (probe.tasks.length === 0) return summary('empty_page');
    const advanced = probe.tasks.length - detected.leadingRepeat;
    rowsRead = mode === 'rows' ? 1 + Math.min(advanced, limit) : rowsRead + advanced;
    pageIndex = 1;
    lastPageFull = advanced >= limit;
    confirmCap(probe.tasks.length);
    previousKeys = probeKeys;
    await accept(probe.tasks, probeKeys);
  }

  if (options.pageConcurrency > 1 && mode !== null && apiCount !== null && !finished()) {
    // Plan the rest from `count` and fetch it in parallel; what drift or
    // short pages leave out, the page-by-page loop below (or the caller's
    // re-walk) picks up.
    const remaining = Math.ceil((apiCount - (mode === 'rows' ? rowsRead : (pageIndex + 1) * limit)) / limit);
    const offsets = Array.from({ length: Math.max(0, remaining) }, (_, i) =>
      mode === 'rows' ? rowsRead + i * limit : pageIndex + 1 + i,
    );
    const inFlight = pLimit(options.pageConcurrency);
    let lastLength = limit;
    await Promise.all(
      offsets.map((offset, i) =>
        inFlight(async () => {
          if (signal?.aborted) return;
          const page = await fetchPage(offset);
          if (i === offsets.length - 1) lastLength = page.tasks.length;
          confirmCap(page.tasks.length);
          return accept(page.tasks);
        }),
      ),
    );
    rowsRead += offsets.length * limit;
    pageIndex += offsets.length;
    lastPageFull = lastLength >= limit;
    previousKeys = [];
  }

  for (;;) {
    if (finished()) return summary('count_reached');
    if (signal?.aborted) return summary('interrupted');
    // Generous: twice the pages the data needs, plus slack for drift.
    const maxPages = Math.ceil(Math.max(apiCount ?? 1_000_000, seen.size) / limit) * 2 + 5;
    if (pages >= maxPages) return summary('page_limit');

    const page = await fetchPage(mode === 'rows' ? rowsRead : pageIndex + 1);
    if (page.tasks.length === 0) return summary('empty_page');
    const keys = page.tasks.map(keyOf);
    // The same page again: the server ignores offset. Stop instead of looping.
    if (sameKeys(keys, previousKeys)) return summary('no_progress');
    previousKeys = keys;
    const leadingRepeats = await accept(page.tasks, keys);
    // Rows this walk already met at the top of a page (a repeated row, or
    // earlier rows shifted down) do not move the offset.
    const advanced = page.tasks.length - leadingRepeats;
    pageIndex += 1;
    rowsRead += advanced;
    lastPageFull = advanced >= limit;
    confirmCap(page.tasks.length);
  }
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((key, i) => key === b[i]);
}

/**
 * Offset 1 means row 1 (rows) or page 1 (pages). Rows: the probe starts with
 * the first page's second task (possibly after a repeat of its first).
 * With a page size of one the two meanings agree, so the answer holds for
 * this cluster but says nothing about the endpoint.
 */
function detectMode(
  firstPage: readonly RawTask[],
  probe: readonly RawTask[],
  limit: number,
  keyOf: (task: RawTask) => string,
): { readonly mode: OffsetMode; readonly conclusive: boolean; readonly leadingRepeat: number } {
  const firstKey = firstPage[0] && keyOf(firstPage[0]);
  const secondKey = firstPage[1] && keyOf(firstPage[1]);
  const probeKeys = probe.slice(0, 2).map(keyOf);
  const leadingRepeat = probeKeys[0] !== undefined && probeKeys[0] === firstKey ? 1 : 0;
  if (limit === 1 || secondKey === undefined || probe.length === 0) {
    return { mode: 'rows', conclusive: false, leadingRepeat };
  }
  const rows = probeKeys[leadingRepeat] === secondKey;
  return { mode: rows ? 'rows' : 'pages', conclusive: true, leadingRepeat: rows ? leadingRepeat : 0 };
}
