/**
 * The identity rule for tasks that share a natural key (src/transform/
 * task-identity.ts): every listed task is one row, a drift repeat or a
 * re-walk is never a second one, and an unchanged listing keeps every
 * stored occurrence whatever order the API lists equal keys in.
 */
import { describe, expect, it } from 'vitest';
import { TaskIdentities, type PageIdentities, type StoredTask } from '../../../src/transform/task-identity.js';

/** A listed entry: key `k`, content `c` (its fingerprint), optionally running. */
interface Entry {
  readonly k: string;
  readonly c: number;
  readonly running: boolean;
}

function t(k: string, c: number, running = false): Entry {
  return { k, c, running };
}

function stored(k: string, occurrence: number, c: number | null, running = false, flagged = false): StoredTask {
  return { key: k, occurrence, fingerprint: c, running, flagged };
}

/** Identifies `entries` as one page starting at listing position `start`. */
function page(ids: TaskIdentities, entries: readonly Entry[], start: number | null): PageIdentities & { readonly writes: string[] } {
  const found = ids.identifyPage(
    { keys: entries.map((e) => e.k), fingerprints: entries.map((e) => e.c), running: entries.map((e) => e.running) },
    start,
  );
  const writes = found.toWrite.map((w) => `${(entries[w.index] as Entry).k}/${(entries[w.index] as Entry).c}:${w.verdict}#${w.occurrence}`);
  return { ...found, writes };
}

describe('a first export (nothing stored)', () => {
  it('two entries with one key on one page are two tasks, numbered in page order, whatever their content', () => {
    const ids = new TaskIdentities([]);
    ids.beginWalk();
    const found = page(ids, [t('a', 1), t('a', 2), t('b', 1), t('b', 1)], 0);
    expect(found.writes).toEqual(['a/1:new#1', 'a/2:new#2', 'b/1:new#1', 'b/1:new#2']);
    expect(found.repeats).toBe(0);
    expect(ids.distinct).toBe(4);
  });

  it('a key group straddling a page boundary is two tasks, whichever page arrives first', () => {
    const ids = new TaskIdentities([]);
    ids.beginWalk();
    const second = page(ids, [t('a', 2), t('c', 1)], 2);
    const first = page(ids, [t('x', 1), t('a', 1)], 0);
    expect([...first.writes, ...second.writes]).toEqual(['x/1:new#1', 'a/1:new#2', 'a/2:new#1', 'c/1:new#1']);
    expect(ids.distinct).toBe(4);
  });

  it('the same task shifted onto the next page is one task, and a leading repeat', () => {
    const ids = new TaskIdentities([]);
    ids.beginWalk();
    page(ids, [t('x', 1), t('a', 1)], 0);
    const next = page(ids, [t('a', 1), t('b', 1)], 2);
    expect(next.writes).toEqual(['b/1:new#1']);
    expect(next).toMatchObject({ repeats: 1, leadingRepeats: 1 });
    expect(ids.distinct).toBe(3);
  });

  it('a drift repeat next to a twin of it on the same page leaves the twin a task of its own', () => {
    const ids = new TaskIdentities([]);
    ids.beginWalk();
    page(ids, [t('a', 1)], 0);
    expect(page(ids, [t('a', 1), t('a', 1)], 1).writes).toEqual(['a/1:new#2']);
    expect(ids.distinct).toBe(2);
  });

  it('a re-walk re-reads every task as a repeat and adds nothing', () => {
    const ids = new TaskIdentities([]);
    ids.beginWalk();
    page(ids, [t('a', 1), t('a', 2)], 0);
    page(ids, [t('b', 1)], 2);
    ids.beginWalk();
    const again = [page(ids, [t('a', 2), t('a', 1)], 0), page(ids, [t('b', 1)], 2)];
    expect(again.flatMap((p) => p.writes)).toEqual([]);
    expect(again.map((p) => [p.repeats, p.leadingRepeats, p.unchanged])).toEqual([[2, 0, 0], [1, 0, 0]]);
    expect(ids.distinct).toBe(3);
  });
});

describe('identical twins split by a page boundary', () => {
  /** Pages of 4: x0 x1 x2 a3 | a4 y5 y6 y7 — the twins a3, a4 straddle the boundary. */
  function twinsWalk(ids: TaskIdentities): void {
    ids.beginWalk();
    page(ids, [t('x', 0), t('x', 1), t('x', 2), t('a', 1)], 0);
    page(ids, [t('a', 1), t('y', 5), t('y', 6), t('y', 7)], 4);
  }

  it('are one task in a walk, which cannot tell them from drift', () => {
    const ids = new TaskIdentities([]);
    twinsWalk(ids);
    expect(ids.distinct).toBe(7);
  });

  it('make the re-walk use pages that hold both, and there they are two', () => {
    const ids = new TaskIdentities([]);
    twinsWalk(ids);
    // Pages of 3: x0 x1 x2 | a3 a4 y5 | y6 y7.
    const size = ids.rewalkPageSize(4);
    expect(size).toBe(3);
    ids.beginWalk();
    const listing = [t('x', 0), t('x', 1), t('x', 2), t('a', 1), t('a', 1), t('y', 5), t('y', 6), t('y', 7)];
    const writes: string[] = [];
    for (let start = 0; start < listing.length; start += size) writes.push(...page(ids, listing.slice(start, start + size), start).writes);
    expect(writes).toEqual(['a/1:new#2']);
    expect(ids.distinct).toBe(8);
  });

  it('a re-read of the same listing position (overlapping offsets) is not taken for a split pair', () => {
    const ids = new TaskIdentities([]);
    ids.beginWalk();
    page(ids, [t('x', 0), t('a', 1)], 0);
    page(ids, [t('a', 1), t('y', 2)], 1);
    expect(ids.rewalkPageSize(10)).toBe(10);
  });

  it('once stored as two, a rerun finds both in one walk', () => {
    const xs = [stored('x', 1, 0), stored('x', 2, 1), stored('x', 3, 2)];
    const ys = [stored('y', 1, 5), stored('y', 2, 6), stored('y', 3, 7)];
    const ids = new TaskIdentities([...xs, stored('a', 1, 1), stored('a', 2, 1), ...ys]);
    twinsWalk(ids);
    expect(ids.distinct).toBe(8);
  });
});

describe('a rerun against stored tasks', () => {
  const night1 = [stored('a', 1, 10), stored('a', 2, 20, true), stored('b', 1, 30, false, true)];

  it('an unchanged listing is unchanged throughout, with equal keys listed in another order and split over pages', () => {
    const ids = new TaskIdentities(night1);
    ids.beginWalk();
    const pages = [page(ids, [t('b', 30), t('a', 20, true)], 1), page(ids, [t('a', 10)], 0)];
    expect(pages.map((p) => [p.writes.length, p.unchanged, p.unchangedFlagged])).toEqual([[0, 2, 1], [0, 1, 0]]);
    expect(ids.distinct).toBe(3);
  });

  it('a running task that finished is its stored occurrence, changed, even when it arrives before its unchanged twin', () => {
    const ids = new TaskIdentities(night1);
    ids.beginWalk();
    const first = page(ids, [t('a', 21)], 5);
    const second = page(ids, [t('a', 10), t('b', 30)], 0);
    expect(first.writes).toEqual(['a/21:changed#2']);
    expect(second).toMatchObject({ writes: [], unchanged: 2 });
  });

  it('a new task sharing a stored key gets the next occurrence', () => {
    const ids = new TaskIdentities(night1);
    ids.beginWalk();
    const found = page(ids, [t('a', 10), t('a', 20, true), t('a', 99), t('b', 30)], 0);
    expect(found).toMatchObject({ writes: ['a/99:new#3'], unchanged: 3 });
  });

  it('rows stored before fingerprints existed are their task, changed (so the fingerprint gets written)', () => {
    const ids = new TaskIdentities([stored('a', 1, null), stored('b', 1, null)]);
    ids.beginWalk();
    expect(page(ids, [t('b', 1), t('a', 1)], 0).writes).toEqual(['b/1:changed#1', 'a/1:changed#1']);
  });

  it('a task whose content changes between two walks of one export is not written twice', () => {
    const ids = new TaskIdentities(night1);
    ids.beginWalk();
    page(ids, [t('a', 10), t('a', 20, true), t('b', 30)], 0);
    ids.beginWalk();
    const again = page(ids, [t('a', 10), t('a', 21), t('b', 30)], 0);
    expect(again).toMatchObject({ writes: [], unchanged: 0, repeats: 3 });
    expect(ids.distinct).toBe(3);
  });

  it('in a re-walk, a twin of a task met in the first walk is not taken for that task changed', () => {
    // First walk: x (twin of x' split off by a page boundary) and y of the same key.
    const ids = new TaskIdentities([]);
    ids.beginWalk();
    page(ids, [t('k', 1)], 0);
    page(ids, [t('k', 1), t('k', 2)], 1);
    ids.beginWalk();
    expect(page(ids, [t('k', 1), t('k', 1)], 0).writes).toEqual(['k/1:new#3']);
    expect(page(ids, [t('k', 2)], 2).writes).toEqual([]);
    expect(ids.distinct).toBe(3);
  });
});
