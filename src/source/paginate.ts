/**
 * The page loop: every page of one cluster, whatever the server does with
 * `offset` (page index or rows: probed) and `limit` (silently capped: learnt),
 * `pageConcurrency` pages at a time once `count` is known; stops at `count`, on
 * an empty page, or when a page repeats the last. Identity: see ListingSink.
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
  /** Entries that were a task already met (the listing shifted, or a re-walk). */
  readonly duplicates: number;
  readonly offsetMode: OffsetMode | null;
  readonly stopReason: StopReason;
  /** The page size the walk used: `pageSize`, or the server's cap if lower. */
  readonly limit: number;
}

/** What the listing made of one page; `accepted` is awaited before the next request. */
export interface PageOutcome {
  readonly accepted: Promise<void>;
  /** Entries that were a task already met. */
  readonly repeats: number;
  /** Of those, how many lead the page and were met earlier in this walk. */
  readonly leadingRepeats: number;
}

/** Receives the pages of one cluster's walks and decides which tasks are new (src/warehouse/cluster-listing.ts). */
export interface ListingSink {
  beginWalk(): void;
  /**
   * One page as a whole (two entries of one page are never the same task);
   * `start`: the listing position of its first task, null if unknown.
   */
  page(tasks: readonly RawTask[], start: number | null): PageOutcome;
  /** Distinct tasks met so far, over every walk of this cluster. */
  readonly distinct: number;
}

/** What the run has learnt about an endpoint, shared by all its clusters. */
export interface EndpointFacts {
  /** What `offset` counts, once a walk could tell. */
  mode?: OffsetMode;
  /** The largest page the server has answered while `count` said there was more. */
  cap?: number;
}

export type OffsetModeCache = Map<string, EndpointFacts>;

export interface WalkContext {
  readonly stats: RequestStats;
  /** The natural key, to compare pages and tell the offset mode. */
  readonly keyOf: (task: RawTask) => string;
  readonly modeCache: OffsetModeCache;
  /** Aborted on shutdown: no new page is requested after that. */
  readonly signal?: AbortSignal;
}

export async function walkTasks(
  client: DwsClient,
  cluster: ClusterRef,
  options: WalkOptions,
  context: WalkContext,
  listing: ListingSink,
): Promise<WalkSummary> {
  listing.beginWalk();
  const { stats, keyOf, modeCache, signal } = context;
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
   * Hands a page to the listing; returns how many leading tasks this walk had
   * already met. Not async: a suspended frame would keep the page alive
   * while the writer applies backpressure.
   */
  const accept = (tasks: readonly RawTask[], offset: number): Promise<number> => {
    // A page longer than asked was padded (a repeated row): where its rows stand is unknown.
    const start = tasks.length > limit ? null : mode === 'rows' ? offset : offset * limit;
    const outcome = listing.page(tasks, start);
    duplicates += outcome.repeats;
    return outcome.accepted.then(() => outcome.leadingRepeats);
  };
  const summary = (stopReason: StopReason): WalkSummary => ({
    apiCount,
    pages,
    duplicates,
    offsetMode: mode,
    stopReason,
    limit,
  });
  // `count` ends the walk only after a page that was not full: a full last
  // page is confirmed by one more request, so a count that leaves something
  // out (stale, or not counting a running task) cannot hide the last tasks.
  // The cost is one request for clusters whose count is a multiple of the page.
  const finished = (): boolean => apiCount !== null && listing.distinct >= apiCount && !lastPageFull;

  const first = await fetchPage(0);
  const firstKeys = first.tasks.map(keyOf);
  await accept(first.tasks, 0);
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
    await accept(probe.tasks, 1);
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
    // The first failure stops the pages not yet sent; those in flight finish
    // and reach the sink before the walk reports it, so nothing is fetched
    // after the cluster is closed and nothing fetched is lost.
    let failure: { readonly error: unknown } | null = null;
    await Promise.all(
      offsets.map((offset, i) =>
        inFlight(async () => {
          if (signal?.aborted || failure) return;
          try {
            const page = await fetchPage(offset);
            if (i === offsets.length - 1) lastLength = page.tasks.length;
            confirmCap(page.tasks.length);
            await accept(page.tasks, offset);
          } catch (error) {
            failure ??= { error };
          }
        }),
      ),
    );
    if (failure) throw (failure as { readonly error: unknown }).error;
    rowsRead += offsets.length * limit;
    pageIndex += offsets.length;
    lastPageFull = lastLength >= limit;
    previousKeys = [];
  }

  for (;;) {
    if (finished()) return summary('count_reached');
    if (signal?.aborted) return summary('interrupted');
    // Generous: twice the pages the data needs, plus slack for drift.
    const maxPages = Math.ceil(Math.max(apiCount ?? 1_000_000, listing.distinct) / limit) * 2 + 5;
    if (pages >= maxPages) return summary('page_limit');

    const offset = mode === 'rows' ? rowsRead : pageIndex + 1;
    const page = await fetchPage(offset);
    if (page.tasks.length === 0) return summary('empty_page');
    const keys = page.tasks.map(keyOf);
    // The same page again: the server ignores offset. Stop instead of looping.
    if (sameKeys(keys, previousKeys)) return summary('no_progress');
    previousKeys = keys;
    const leadingRepeats = await accept(page.tasks, offset);
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
