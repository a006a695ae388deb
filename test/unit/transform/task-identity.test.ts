/**
 * The identity rule for tasks that share a natural key (src/transform/
 * task-identity.ts): every listed task is one row, a drift repeat or a
 * re-walk is never a second one, and an unchanged listing keeps every
 * stored occurrence whatever order the API lists equal keys in.
 */
import { describe, expect, it } from 'vitest';
import { TaskIdentities, type Identified, type ListedTask, type StoredTask } from '../../../src/transform/task-identity.js';

/** A listed task: key `k`, content `c` (its fingerprint), optionally running. */
function t(k: string, c: number, running = false): ListedTask<string> {
  return { key: k, fingerprint: c, running, payload: `${k}/${c}` };
}

function stored(k: string, occurrence: number, c: number | null, running = false): StoredTask {
  return { key: k, occurrence, fingerprint: c, running };
}

const brief = (found: readonly Identified<string>[]): string[] => found.map((f) => `${f.task.payload}:${f.verdict}#${f.occurrence}`);

describe('a first export (nothing stored)', () => {
  it('two entries with one key on one page are two tasks, numbered in page order, whatever their content', () => {
    const ids = new TaskIdentities<string>([]);
    ids.beginWalk();
    const page = ids.identifyPage([t('a', 1), t('a', 2), t('b', 1), t('b', 1)], 0);
    expect(brief(page.tasks)).toEqual(['a/1:new#1', 'a/2:new#2', 'b/1:new#1', 'b/1:new#2']);
    expect(page.repeats).toBe(0);
    expect(ids.distinct).toBe(4);
  });

  it('a key group straddling a page boundary is two tasks, whichever page arrives first', () => {
    const ids = new TaskIdentities<string>([]);
    ids.beginWalk();
    const second = ids.identifyPage([t('a', 2), t('c', 1)], 2);
    const first = ids.identifyPage([t('x', 1), t('a', 1)], 0);
    expect([...brief(first.tasks), ...brief(second.tasks)]).toEqual(['x/1:new#1', 'a/1:new#2', 'a/2:new#1', 'c/1:new#1']);
    expect(ids.distinct).toBe(4);
  });

  it('the same task shifted onto the next page is one task, and a leading repeat', () => {
    const ids = new TaskIdentities<string>([]);
    ids.beginWalk();
    ids.identifyPage([t('x', 1), t('a', 1)], 0);
    const next = ids.identifyPage([t('a', 1), t('b', 1)], 2);
    expect(brief(next.tasks)).toEqual(['b/1:new#1']);
    expect(next).toMatchObject({ repeats: 1, leadingRepeats: 1 });
    expect(ids.distinct).toBe(3);
  });

  it('a drift repeat next to a twin of it on the same page leaves the twin a task of its own', () => {
    const ids = new TaskIdentities<string>([]);
    ids.beginWalk();
    ids.identifyPage([t('a', 1)], 0);
    const next = ids.identifyPage([t('a', 1), t('a', 1)], 1);
    expect(brief(next.tasks)).toEqual(['a/1:new#2']);
    expect(ids.distinct).toBe(2);
  });

  it('a re-walk re-reads every task as a repeat and adds nothing', () => {
    const ids = new TaskIdentities<string>([]);
    ids.beginWalk();
    ids.identifyPage([t('a', 1), t('a', 2)], 0);
    ids.identifyPage([t('b', 1)], 2);
    ids.beginWalk();
    const again = [ids.identifyPage([t('a', 2), t('a', 1)], 0), ids.identifyPage([t('b', 1)], 2)];
    expect(again.flatMap((p) => p.tasks)).toEqual([]);
    expect(again.map((p) => p.repeats)).toEqual([2, 1]);
    expect(again.map((p) => p.leadingRepeats)).toEqual([0, 0]);
    expect(ids.distinct).toBe(3);
  });
});

describe('identical twins split by a page boundary', () => {
  /** Pages of 4: x0 x1 x2 a3 | a4 y5 y6 y7 — the twins a3, a4 straddle the boundary. */
  function twinsWalk(ids: TaskIdentities<string>): void {
    ids.beginWalk();
    ids.identifyPage([t('x', 0), t('x', 1), t('x', 2), t('a', 1)], 0);
    ids.identifyPage([t('a', 1), t('y', 5), t('y', 6), t('y', 7)], 4);
  }

  it('are one task in a walk, which cannot tell them from drift', () => {
    const ids = new TaskIdentities<string>([]);
    twinsWalk(ids);
    expect(ids.distinct).toBe(7);
  });

  it('make the re-walk use pages that hold both, and there they are two', () => {
    const ids = new TaskIdentities<string>([]);
    twinsWalk(ids);
    // Pages of 3: x0 x1 x2 | a3 a4 y5 | y6 y7.
    const size = ids.rewalkPageSize(4);
    expect(size).toBe(3);
    ids.beginWalk();
    const pages = [];
    const listing = [t('x', 0), t('x', 1), t('x', 2), t('a', 1), t('a', 1), t('y', 5), t('y', 6), t('y', 7)];
    for (let start = 0; start < listing.length; start += size) pages.push(ids.identifyPage(listing.slice(start, start + size), start));
    expect(pages.flatMap((p) => brief(p.tasks))).toEqual(['a/1:new#2']);
    expect(ids.distinct).toBe(8);
  });

  it('a re-read of the same listing position (overlapping offsets) is not taken for a split pair', () => {
    const ids = new TaskIdentities<string>([]);
    ids.beginWalk();
    ids.identifyPage([t('x', 0), t('a', 1)], 0);
    ids.identifyPage([t('a', 1), t('y', 2)], 1);
    expect(ids.rewalkPageSize(10)).toBe(10);
  });

  it('once stored as two, a rerun finds both in one walk', () => {
    const stored4 = [stored('x', 1, 0), stored('x', 2, 1), stored('x', 3, 2), stored('a', 1, 1), stored('a', 2, 1)];
    const ids = new TaskIdentities<string>([...stored4, stored('y', 1, 5), stored('y', 2, 6), stored('y', 3, 7)]);
    twinsWalk(ids);
    expect(ids.distinct).toBe(8);
  });
});

describe('a rerun against stored tasks', () => {
  const night1 = [stored('a', 1, 10), stored('a', 2, 20, true), stored('b', 1, 30)];

  it('an unchanged listing is unchanged throughout, with equal keys listed in another order and split over pages', () => {
    const ids = new TaskIdentities<string>(night1);
    ids.beginWalk();
    const pages = [ids.identifyPage([t('b', 30), t('a', 20, true)], 0), ids.identifyPage([t('a', 10)], 0)];
    expect(pages.flatMap((p) => brief(p.tasks))).toEqual(['b/30:unchanged#1', 'a/20:unchanged#2', 'a/10:unchanged#1']);
    expect(ids.distinct).toBe(3);
  });

  it('a running task that finished is its stored occurrence, changed, even when it arrives before its unchanged twin', () => {
    const ids = new TaskIdentities<string>(night1);
    ids.beginWalk();
    const first = ids.identifyPage([t('a', 21)], 0);
    const second = ids.identifyPage([t('a', 10), t('b', 30)], 0);
    expect([...brief(first.tasks), ...brief(second.tasks)]).toEqual(['a/21:changed#2', 'a/10:unchanged#1', 'b/30:unchanged#1']);
  });

  it('a new task sharing a stored key gets the next occurrence', () => {
    const ids = new TaskIdentities<string>(night1);
    ids.beginWalk();
    const page = ids.identifyPage([t('a', 10), t('a', 20, true), t('a', 99), t('b', 30)], 0);
    expect(brief(page.tasks)).toEqual(['a/10:unchanged#1', 'a/20:unchanged#2', 'a/99:new#3', 'b/30:unchanged#1']);
  });

  it('rows stored before fingerprints existed are their task, changed (so the fingerprint gets written)', () => {
    const ids = new TaskIdentities<string>([stored('a', 1, null), stored('b', 1, null)]);
    ids.beginWalk();
    expect(brief(ids.identifyPage([t('b', 1), t('a', 1)], 0).tasks)).toEqual(['b/1:changed#1', 'a/1:changed#1']);
  });

  it('a task whose content changes between two walks of one export is not written twice', () => {
    const ids = new TaskIdentities<string>(night1);
    ids.beginWalk();
    ids.identifyPage([t('a', 10), t('a', 20, true), t('b', 30)], 0);
    ids.beginWalk();
    const again = ids.identifyPage([t('a', 10), t('a', 21), t('b', 30)], 0);
    expect(again.tasks).toEqual([]);
    expect(again.repeats).toBe(3);
    expect(ids.distinct).toBe(3);
  });
});
