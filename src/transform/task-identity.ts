/**
 * Which task a listed entry is. The API has no task id, and two tasks may share
 * the natural key (a command retried at once, a double submit), so a task is
 * its natural key plus an `occurrence` (1, 2, …) among the tasks sharing it.
 * One instance per cluster export; the rule is spelled out on TaskIdentities.
 */

import { COUNTED, FLAGGED, NONE, Occupants, RUNNING, STORED, UNKNOWN } from './task-occupants.js';

/** One page as the rule sees it: per entry, its natural key, content fingerprint and whether it runs. */
export interface ListedPage {
  readonly keys: readonly string[];
  readonly fingerprints: readonly number[];
  readonly running: readonly boolean[];
}

/** A task already stored (its fingerprint is null for rows written before fingerprints existed). */
export interface StoredTask {
  readonly key: string;
  readonly occurrence: number;
  readonly fingerprint: number | null;
  readonly running: boolean;
  /** Stored with parse issues: counted as flagged again when listed unchanged. */
  readonly flagged: boolean;
}

/** A cluster's stored tasks; `size`, when known, sizes the identity state once instead of growing it. */
export type StoredTasks = Iterable<StoredTask> & { readonly size?: number };

/** How many tasks `stored` holds (0 when it does not say). */
export function storedCount(stored: StoredTasks): number {
  return Array.isArray(stored) ? stored.length : (stored.size ?? 0);
}

/** An entry to write: `new` (insert) or `changed` (its stored occurrence differs). */
export interface ToWrite {
  readonly index: number;
  readonly occurrence: number;
  readonly verdict: 'new' | 'changed';
}

export interface PageIdentities {
  /** The page's entries to write, in page order. */
  readonly toWrite: readonly ToWrite[];
  /** Entries that are stored exactly so already, and of those the ones stored with parse issues. */
  readonly unchanged: number;
  readonly unchangedFlagged: number;
  /** Entries that were a task met before in this export (drift, or a re-walk). */
  readonly repeats: number;
  /** Of those, how many lead the page and were met earlier in this same walk. */
  readonly leadingRepeats: number;
}

type Verdict = 'new' | 'changed' | 'unchanged';

/**
 * The identity rule, applied page by page (pages may arrive in any order):
 * 1. Within one page every entry is a task of its own.
 * 2. An entry with the key and content of a task this walk met on another
 *    page is that task again (the listing shifted between the requests).
 * 3. Otherwise it is a task of its key not yet met in this walk: first one
 *    with identical content (unchanged), else a stored one not yet met in
 *    this export (running ones first, then lowest occurrence: it changed),
 *    else one met in an earlier walk that was running (it finished since;
 *    the next export updates it).
 * 4. Otherwise it is new: the next occurrence of its key.
 * Identical tasks split by a page boundary look like drift to rule 2: a
 * re-walk uses pages that put each such pair on one page (rewalkPageSize).
 */
export class TaskIdentities {
  /** Each key's first occupant; the rest follow through `occupants.next`. */
  private readonly groups = new Map<string, number>();
  private readonly occupants: Occupants;
  private walk = 0;
  private page = 0;
  private distinctTasks = 0;
  /** Listing positions of rule-2 repeats and what they repeated, in this walk. */
  private splitPairs: (readonly [number, number])[] = [];

  constructor(stored: StoredTasks) {
    this.occupants = new Occupants(storedCount(stored));
    for (const task of stored) {
      const flags = STORED | (task.running ? RUNNING : 0) | (task.flagged ? FLAGGED : 0);
      this.add(task.key, task.occurrence, task.fingerprint, flags);
    }
  }

  /** Distinct tasks met in this export so far, over every walk. */
  get distinct(): number {
    return this.distinctTasks;
  }

  beginWalk(): void {
    this.walk += 1;
    this.splitPairs = [];
  }

  /**
   * One page, as a whole; `start`: the listing position of its first entry
   * (null if unknown, e.g. the server sent more than asked).
   */
  identifyPage(listed: ListedPage, start: number | null): PageIdentities {
    const page = ++this.page;
    const { keys, fingerprints, running } = listed;
    const toWrite: ToWrite[] = [];
    let unchanged = 0;
    let unchangedFlagged = 0;
    let repeats = 0;
    let leadingRepeats = 0;
    let leading = true;
    let later: number[] | null = null;
    const take = (i: number, o: number): void => {
      const verdict = this.claim(o, fingerprints[i] as number, running[i] as boolean, page, start === null ? null : start + i);
      if (verdict === 'repeat') repeats += 1;
      else if (verdict === 'unchanged') {
        unchanged += 1;
        if (this.occupants.flags[o]! & FLAGGED) unchangedFlagged += 1;
      } else toWrite.push({ index: i, occurrence: this.occupants.occurrence[o]!, verdict });
    };
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      const fingerprint = fingerprints[i] as number;
      const first = this.groups.get(key);
      if (first === undefined) {
        leading = false;
        take(i, this.add(key, 1, fingerprint, running[i] ? RUNNING : 0));
        continue;
      }
      const same = this.sameContentNotMet(first, fingerprint);
      if (same !== NONE) {
        leading = false;
        take(i, same);
        continue;
      }
      const met = this.metOnOtherPage(first, fingerprint, page, start === null ? null : start + i);
      if (met !== NONE) {
        this.occupants.repeatedOn[met] = page;
        repeats += 1;
        if (leading) leadingRepeats += 1;
        continue;
      }
      leading = false;
      (later ??= []).push(i);
    }
    for (const i of later ?? []) {
      const key = keys[i] as string;
      const changed = this.changedCandidate(this.groups.get(key) as number);
      take(i, changed !== NONE ? changed : this.addNext(key, fingerprints[i] as number, running[i] as boolean));
    }
    if (later) toWrite.sort((a, b) => a.index - b.index);
    return { toWrite, unchanged, unchangedFlagged, repeats, leadingRepeats };
  }

  /** Rule 3's first choice: an occupant with this content not yet met in this walk (the common case: one). */
  private sameContentNotMet(first: number, fingerprint: number): number {
    const { fingerprint: fingerprints, walk, next } = this.occupants;
    for (let o = first; o !== NONE; o = next[o]!) {
      if (fingerprints[o] === fingerprint && walk[o] !== this.walk) return o;
    }
    return NONE;
  }

  /**
   * Rule 3's other choices, among the occupants not met in this walk: a stored
   * one not yet counted (running first, else the lowest occurrence), else one
   * that was running.
   */
  private changedCandidate(first: number): number {
    const { occurrence, flags, walk, next } = this.occupants;
    let unmetRunning = NONE;
    let lowestUnmet = NONE;
    let running = NONE;
    for (let o = first; o !== NONE; o = next[o]!) {
      if (walk[o] === this.walk) continue;
      const f = flags[o]!;
      if (!(f & COUNTED)) {
        if (f & RUNNING && unmetRunning === NONE) unmetRunning = o;
        if (lowestUnmet === NONE || occurrence[o]! <= occurrence[lowestUnmet]!) lowestUnmet = o;
      }
      if (f & RUNNING && running === NONE) running = o;
    }
    return unmetRunning !== NONE ? unmetRunning : lowestUnmet !== NONE ? lowestUnmet : running;
  }

  /**
   * A page size up to `limit` (and not below half of it) with which every
   * rule-2 repeat of the last walk and the task it repeated fall on one page
   * (pages starting at multiples of the size), so that identical tasks split
   * by a page boundary are told apart by rule 1.
   */
  rewalkPageSize(limit: number): number {
    const near = this.splitPairs.filter(([a, b]) => b - a < limit / 2);
    for (let size = limit; size >= Math.max(1, Math.ceil(limit / 2)); size--) {
      if (near.every(([a, b]) => Math.floor(a / size) === Math.floor(b / size))) return size;
    }
    return limit;
  }

  private metOnOtherPage(first: number, fingerprint: number, page: number, position: number | null): number {
    const { fingerprint: fingerprints, walk, page: pages, repeatedOn, position: positions, next } = this.occupants;
    const at = position ?? UNKNOWN;
    let found = NONE;
    for (let o = first; o !== NONE; o = next[o]!) {
      if (fingerprints[o] !== fingerprint || walk[o] !== this.walk || pages[o] === page || repeatedOn[o] === page) continue;
      // The same position again is a re-read (overlapping offsets), not a shift.
      if (positions[o] === at) return o;
      if (found === NONE) found = o;
    }
    const foundAt = found === NONE ? UNKNOWN : positions[found]!;
    if (position !== null && foundAt !== UNKNOWN) {
      this.splitPairs.push([Math.min(position, foundAt), Math.max(position, foundAt)]);
    }
    return found;
  }

  /** Marks occupant `o` as met by an entry; a repeat if this export counted it already. */
  private claim(o: number, fingerprint: number, running: boolean, page: number, position: number | null): Verdict | 'repeat' {
    const occupants = this.occupants;
    occupants.walk[o] = this.walk;
    occupants.page[o] = page;
    occupants.position[o] = position ?? UNKNOWN;
    const flags = occupants.flags[o]!;
    if (flags & COUNTED) return 'repeat';
    this.distinctTasks += 1;
    const verdict: Verdict = !(flags & STORED) ? 'new' : occupants.fingerprint[o] === fingerprint ? 'unchanged' : 'changed';
    occupants.fingerprint[o] = fingerprint;
    occupants.flags[o] = (flags & ~RUNNING) | COUNTED | (running ? RUNNING : 0);
    return verdict;
  }

  private addNext(key: string, fingerprint: number, running: boolean): number {
    const { occurrence, next } = this.occupants;
    let highest = 0;
    for (let o = this.groups.get(key) as number; o !== NONE; o = next[o]!) highest = Math.max(highest, occurrence[o]!);
    return this.add(key, highest + 1, fingerprint, running ? RUNNING : 0);
  }

  private add(key: string, occurrence: number, fingerprint: number | null, flags: number): number {
    const o = this.occupants.push(occurrence, fingerprint, flags);
    const first = this.groups.get(key);
    if (first === undefined) {
      this.groups.set(key, o);
      return o;
    }
    const next = this.occupants.next;
    let last = first;
    while (next[last] !== NONE) last = next[last]!;
    next[last] = o;
    return o;
  }
}
