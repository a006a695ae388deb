/**
 * Which task a listed entry is. The API has no task id, and two tasks may share
 * the natural key (a command retried at once, a double submit), so a task is
 * its natural key plus an `occurrence` (1, 2, …) among the tasks sharing it.
 * One instance per cluster export; the rule is spelled out on TaskIdentities.
 */

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

/** A stored or listed task; `walk`/`page`/`position` tell where it was last met. */
class Occupant {
  walk = 0;
  page = 0;
  position: number | null = null;
  /** The page on which an entry last repeated it (rule 2): one repeat per page. */
  repeatedOn = 0;
  /** Counted in this export already (as new, changed or unchanged). */
  counted = false;
  constructor(
    readonly occurrence: number,
    public fingerprint: number | null,
    public running: boolean,
    /** In the database before this export started. */
    readonly stored: boolean,
    readonly flagged = false,
  ) {}
}

type Group = Occupant | Occupant[];

const list = (group: Group): readonly Occupant[] => (Array.isArray(group) ? group : [group]);

function lowestOccurrence(occupants: readonly Occupant[]): Occupant | undefined {
  return occupants.reduce<Occupant | undefined>((low, o) => (low && low.occurrence < o.occurrence ? low : o), undefined);
}

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
  private readonly groups = new Map<string, Group>();
  private walk = 0;
  private page = 0;
  private distinctTasks = 0;
  /** Listing positions of rule-2 repeats and what they repeated, in this walk. */
  private splitPairs: (readonly [number, number])[] = [];

  constructor(stored: Iterable<StoredTask>) {
    for (const task of stored) {
      this.add(task.key, new Occupant(task.occurrence, task.fingerprint, task.running, true, task.flagged));
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
    const take = (i: number, occupant: Occupant): void => {
      const verdict = this.claim(occupant, fingerprints[i] as number, running[i] as boolean, page, start === null ? null : start + i);
      if (verdict === 'repeat') repeats += 1;
      else if (verdict === 'unchanged') {
        unchanged += 1;
        if (occupant.flagged) unchangedFlagged += 1;
      } else toWrite.push({ index: i, occurrence: occupant.occurrence, verdict });
    };
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      const fingerprint = fingerprints[i] as number;
      const group = this.groups.get(key);
      if (group === undefined) {
        leading = false;
        take(i, this.add(key, new Occupant(1, fingerprint, running[i] as boolean, false)));
        continue;
      }
      const same = this.sameContentNotMet(group, fingerprint);
      if (same) {
        leading = false;
        take(i, same);
        continue;
      }
      const met = this.metOnOtherPage(list(group), fingerprint, page, start === null ? null : start + i);
      if (met) {
        met.repeatedOn = page;
        repeats += 1;
        if (leading) leadingRepeats += 1;
        continue;
      }
      leading = false;
      (later ??= []).push(i);
    }
    for (const i of later ?? []) {
      const key = keys[i] as string;
      const candidates = list(this.groups.get(key) as Group).filter((o) => o.walk !== this.walk);
      const unmet = candidates.filter((o) => !o.counted);
      const changed = unmet.find((o) => o.running) ?? lowestOccurrence(unmet) ?? candidates.find((o) => o.running);
      take(i, changed ?? this.addNext(key, fingerprints[i] as number, running[i] as boolean));
    }
    if (later) toWrite.sort((a, b) => a.index - b.index);
    return { toWrite, unchanged, unchangedFlagged, repeats, leadingRepeats };
  }

  /** Rule 3's first choice: an occupant with this content not yet met in this walk (the common case: one). */
  private sameContentNotMet(group: Group, fingerprint: number): Occupant | undefined {
    if (!Array.isArray(group)) return group.fingerprint === fingerprint && group.walk !== this.walk ? group : undefined;
    return group.find((o) => o.fingerprint === fingerprint && o.walk !== this.walk);
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

  private metOnOtherPage(
    occupants: readonly Occupant[],
    fingerprint: number,
    page: number,
    position: number | null,
  ): Occupant | undefined {
    const met = occupants.filter(
      (o) => o.fingerprint === fingerprint && o.walk === this.walk && o.page !== page && o.repeatedOn !== page,
    );
    // The same position again is a re-read (overlapping offsets), not a shift.
    const found = met.find((o) => o.position === position) ?? met[0];
    if (found && position !== null && found.position !== null && found.position !== position) {
      this.splitPairs.push([Math.min(position, found.position), Math.max(position, found.position)]);
    }
    return found;
  }

  /** Marks `occupant` as met by an entry; a repeat if this export counted it already. */
  private claim(
    occupant: Occupant,
    fingerprint: number,
    running: boolean,
    page: number,
    position: number | null,
  ): Verdict | 'repeat' {
    occupant.walk = this.walk;
    occupant.page = page;
    occupant.position = position;
    if (occupant.counted) return 'repeat';
    occupant.counted = true;
    this.distinctTasks += 1;
    const verdict: Verdict = !occupant.stored ? 'new' : occupant.fingerprint === fingerprint ? 'unchanged' : 'changed';
    occupant.fingerprint = fingerprint;
    occupant.running = running;
    return verdict;
  }

  private addNext(key: string, fingerprint: number, running: boolean): Occupant {
    const occurrences = list(this.groups.get(key) as Group).map((o) => o.occurrence);
    return this.add(key, new Occupant(Math.max(0, ...occurrences) + 1, fingerprint, running, false));
  }

  private add(key: string, occupant: Occupant): Occupant {
    const group = this.groups.get(key);
    if (group === undefined) this.groups.set(key, occupant);
    else if (Array.isArray(group)) group.push(occupant);
    else this.groups.set(key, [group, occupant]);
    return occupant;
  }
}
