/**
 * Which task a listed entry is. The API has no task id, and two tasks may share
 * the natural key (a command retried at once, a double submit), so a task is
 * its natural key plus an `occurrence` (1, 2, …) among the tasks sharing it.
 * One instance per cluster export; the rule is spelled out on TaskIdentities.
 */

/** A listed task as the rule sees it: natural key, content fingerprint, and what to write. */
export interface ListedTask<T> {
  readonly key: string;
  readonly fingerprint: number;
  readonly running: boolean;
  readonly payload: T;
}

/** A task already stored (its fingerprint is null for rows written before fingerprints existed). */
export interface StoredTask {
  readonly key: string;
  readonly occurrence: number;
  readonly fingerprint: number | null;
  readonly running: boolean;
}

/** new: insert; changed: the stored occurrence differs; unchanged: stored exactly so. */
export type Verdict = 'new' | 'changed' | 'unchanged';

export interface Identified<T> {
  readonly verdict: Verdict;
  readonly occurrence: number;
  readonly task: ListedTask<T>;
}

export interface PageIdentities<T> {
  /** The page's tasks that are not repeats, in page order. */
  readonly tasks: readonly Identified<T>[];
  /** Entries that were a task met before in this export (drift, or a re-walk). */
  readonly repeats: number;
  /** Of those, how many lead the page and were met earlier in this same walk. */
  readonly leadingRepeats: number;
}

/** A stored or listed task; `walk`/`page`/`position` tell where it was last met. */
class Occupant {
  walk = 0;
  page = 0;
  position: number | null = null;
  /** Counted in this export already (as new, changed or unchanged). */
  counted = false;
  constructor(
    readonly occurrence: number,
    public fingerprint: number | null,
    public running: boolean,
    /** In the database before this export started. */
    readonly stored: boolean,
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
export class TaskIdentities<T> {
  private readonly groups = new Map<string, Group>();
  private walk = 0;
  private page = 0;
  private distinctTasks = 0;
  /** Listing positions of rule-2 repeats and what they repeated, in this walk. */
  private splitPairs: (readonly [number, number])[] = [];

  constructor(stored: Iterable<StoredTask>) {
    for (const task of stored) this.add(task.key, new Occupant(task.occurrence, task.fingerprint, task.running, true));
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
   * One page, as a whole; `start`: the listing position of its first task
   * (null if unknown, e.g. the server sent more than asked).
   */
  identifyPage(tasks: readonly ListedTask<T>[], start: number | null): PageIdentities<T> {
    const page = ++this.page;
    const found: (Identified<T> | 'walk' | 'export' | undefined)[] = new Array(tasks.length);
    const usedHere = new Set<Occupant>();
    const later: number[] = [];
    const at = (i: number): number | null => (start === null ? null : start + i);
    tasks.forEach((task, i) => {
      const group = this.groups.get(task.key);
      if (group === undefined) {
        found[i] = this.claim(task, this.add(task.key, new Occupant(1, task.fingerprint, task.running, false)), page, at(i));
        return;
      }
      const occupants = list(group);
      const same = occupants.find((o) => o.fingerprint === task.fingerprint && o.walk !== this.walk);
      if (same) {
        usedHere.add(same);
        found[i] = this.claim(task, same, page, at(i));
        return;
      }
      const met = this.metOnOtherPage(occupants, task, page, at(i), usedHere);
      if (met) {
        usedHere.add(met);
        found[i] = 'walk';
        return;
      }
      later.push(i);
    });
    for (const i of later) {
      const task = tasks[i] as ListedTask<T>;
      const candidates = list(this.groups.get(task.key) as Group).filter((o) => o.walk !== this.walk);
      const unmet = candidates.filter((o) => !o.counted);
      const changed = unmet.find((o) => o.running) ?? lowestOccurrence(unmet) ?? candidates.find((o) => o.running);
      found[i] = this.claim(task, changed ?? this.addNext(task), page, at(i));
    }
    let leadingRepeats = 0;
    while (found[leadingRepeats] === 'walk') leadingRepeats += 1;
    const identified = found.filter((f): f is Identified<T> => typeof f === 'object');
    return { tasks: identified, repeats: tasks.length - identified.length, leadingRepeats };
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
    task: ListedTask<T>,
    page: number,
    position: number | null,
    usedHere: ReadonlySet<Occupant>,
  ): Occupant | undefined {
    const met = occupants.filter(
      (o) => o.fingerprint === task.fingerprint && o.walk === this.walk && o.page !== page && !usedHere.has(o),
    );
    // The same position again is a re-read (overlapping offsets), not a shift.
    const found = met.find((o) => o.position === position) ?? met[0];
    if (found && position !== null && found.position !== null && found.position !== position) {
      this.splitPairs.push([Math.min(position, found.position), Math.max(position, found.position)]);
    }
    return found;
  }

  /** Marks `occupant` as met by `task`; a repeat if this export counted it already. */
  private claim(task: ListedTask<T>, occupant: Occupant, page: number, position: number | null): Identified<T> | 'export' {
    occupant.walk = this.walk;
    occupant.page = page;
    occupant.position = position;
    if (occupant.counted) return 'export';
    occupant.counted = true;
    this.distinctTasks += 1;
    const verdict: Verdict = !occupant.stored ? 'new' : occupant.fingerprint === task.fingerprint ? 'unchanged' : 'changed';
    occupant.fingerprint = task.fingerprint;
    occupant.running = task.running;
    return { verdict, occurrence: occupant.occurrence, task };
  }

  private addNext(task: ListedTask<T>): Occupant {
    const occurrences = list(this.groups.get(task.key) as Group).map((o) => o.occurrence);
    return this.add(task.key, new Occupant(Math.max(0, ...occurrences) + 1, task.fingerprint, task.running, false));
  }

  private add(key: string, occupant: Occupant): Occupant {
    const group = this.groups.get(key);
    if (group === undefined) this.groups.set(key, occupant);
    else if (Array.isArray(group)) group.push(occupant);
    else this.groups.set(key, [group, occupant]);
    return occupant;
  }
}
