/**
 * Reading storedTasksSql's one text value per cluster: each record's key is
 * the key the listing computes for the same task, and its numbers are read
 * exactly (a fingerprint up to 2^53 - 1), or as no match when they are not
 * numbers. The database round trip is test/integration/stored-tasks.test.ts.
 */
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { naturalKey, rawTaskKey } from '../../../src/transform/task-row.js';
import type { StoredTask } from '../../../src/transform/task-identity.js';
import { storedTasksOf } from '../../../src/warehouse/stored-tasks.js';

const F = '\u001f';
const R = '\u001e';
// Never used: every text below is well formed, so no cluster is read row by row.
const NO_POOL = null as unknown as pg.Pool;

async function read(text: string): Promise<StoredTask[]> {
  const [stored] = await storedTasksOf(NO_POOL, ['c'], [['c', text]]);
  return [...(stored ?? [])];
}

describe('stored tasks read from one text value', () => {
  it('give each record the key rawTaskKey gives the same task, with its occurrence, fingerprint and flags', async () => {
    const text = [
      ['lc', 'Create', '2023-06-15 08:00:00', String(2 ** 53 - 1), String(1 * 4 + 2)].join(F),
      ['', 'Expand', '2023-06-15 09:00:00', '0', String(3 * 4 + 1)].join(F),
    ].join(R);
    expect(await read(text)).toEqual([
      { key: rawTaskKey({ logical_cluster_name: 'lc', type: 'Create', start_time: '2023-06-15 08:00:00' }), occurrence: 1, fingerprint: 2 ** 53 - 1, running: true, flagged: false },
      { key: naturalKey({ logicalClusterName: '', taskType: 'Expand', startTimeRaw: '2023-06-15 09:00:00' }), occurrence: 3, fingerprint: 0, running: false, flagged: true },
    ]);
  });

  it('say how many they are before they are read, so the identity state is sized once', async () => {
    const [stored] = await storedTasksOf(NO_POOL, ['c'], [['c', [['a', 'b', 'c', '1', '4'].join(F), ['a', 'b', 'd', '2', '4'].join(F)].join(R)]]);
    expect(stored?.size).toBe(2);
  });

  it('read an empty fingerprint as none, and one that is not digits as one that matches no task', async () => {
    const [none, edited] = await read([['a', 'b', 'c', '', '4'].join(F), ['a', 'b', 'd', '-17', '4'].join(F)].join(R));
    expect(none?.fingerprint).toBeNull();
    expect(edited?.fingerprint).toBeNaN();
  });
});
