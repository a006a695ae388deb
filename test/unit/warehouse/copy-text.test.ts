/**
 * The writer queues pages as COPY text; the unnest path decodes that text.
 * Whatever a task holds (tabs, newlines, backslashes, the two characters
 * `\N`), decoding gives back exactly the values COPY would store.
 */
import { describe, expect, it } from 'vitest';
import { COPY_COLUMNS, copyLine, decodeCopyText, identifiedLine, isoInstant } from '../../../src/warehouse/copy-text.js';
import { COLUMN_NAMES } from '../../../src/warehouse/task-columns.js';
import { seededRandom } from '../../../src/simulator/random.js';
import type { TaskRow } from '../../../src/transform/task-row.js';

const ROW: TaskRow = {
  projectId: 'p-1',
  clusterId: 'c-1',
  logicalClusterName: 'lc_sales',
  taskType: 'Expand',
  startTimeRaw: '2023-06-15 08:00:00',
  startTime: new Date('2023-06-15T00:00:00Z'),
  endTimeRaw: '2023-06-15 08:05:30',
  endTime: new Date('2023-06-15T00:05:30Z'),
  durationSeconds: 330.5,
  result: 'success',
  log: 'expanded by 2 nodes',
  isRunning: false,
  issues: [],
  extra: null,
};

const HOSTILE = 'tab\there\nnew line\r\\back\\slash \\N end';

describe('COPY text', () => {
  it('writes one line per row, fields in the staging table order, nulls as \\N', () => {
    const running: TaskRow = { ...ROW, endTimeRaw: null, endTime: null, durationSeconds: null, isRunning: true, result: null };
    expect(copyLine(running)).toBe(
      'p-1\tc-1\tlc_sales\tExpand\t2023-06-15 08:00:00\t2023-06-15T00:00:00.000Z\t\\N\t\\N\t\\N\tt\t\\N\texpanded by 2 nodes\t{}\t\\N\n',
    );
    expect(copyLine(running).split('\t')).toHaveLength(COPY_COLUMNS.length);
  });

  it('decodes back to the text of every field, special characters and \\N-lookalikes included', () => {
    const hostile: TaskRow = {
      ...ROW,
      logicalClusterName: HOSTILE,
      log: HOSTILE,
      result: '\\N',
      issues: ['a"quote', 'back\\slash'],
      extra: { note: HOSTILE },
    };
    const columns = decodeCopyText(identifiedLine(copyLine(ROW), 1, 7) + identifiedLine(copyLine(hostile), 2, 9));
    const byName = Object.fromEntries(COLUMN_NAMES.map((name, i) => [name, columns[i]]));
    expect(byName.logical_cluster_name).toEqual(['lc_sales', HOSTILE]);
    expect(byName.log).toEqual(['expanded by 2 nodes', HOSTILE]);
    expect(byName.result).toEqual(['success', '\\N']);
    expect(byName.start_time).toEqual(['2023-06-15T00:00:00.000Z', '2023-06-15T00:00:00.000Z']);
    expect(byName.duration_seconds).toEqual(['330.5', '330.5']);
    expect(byName.is_running).toEqual(['f', 'f']);
    expect(byName.parse_issues).toEqual(['{}', '{"a\\"quote","back\\\\slash"}']);
    expect(JSON.parse(byName.extra?.[1] ?? 'null')).toEqual({ note: HOSTILE });
    expect(byName.extra?.[0]).toBeNull();
    expect(byName.occurrence).toEqual(['1', '2']);
    expect(byName.row_fingerprint).toEqual(['7', '9']);
  });

  it('decodes empty text to empty columns', () => {
    expect(decodeCopyText('')).toEqual(COLUMN_NAMES.map(() => []));
  });
});

describe('isoInstant', () => {
  it('writes exactly what toISOString writes, for 20,000 instants from year 0 to 9999 and around the edges', () => {
    const random = seededRandom(5);
    const first = Date.parse('0000-01-01T00:00:00.000Z');
    const last = Date.parse('9999-12-31T23:59:59.999Z');
    const instants = [first, first - 1, last, last + 1, 0, -1, 1, Date.parse('1969-12-31T23:59:59.999Z'), 8.64e15, -8.64e15];
    for (let i = 0; i < 20_000; i++) {
      const ms = Math.floor(first + random() * (last - first));
      // Whole seconds (what the API sends) as well as milliseconds.
      instants.push(i % 2 === 0 ? ms - (((ms % 1000) + 1000) % 1000) : ms);
    }
    for (const ms of instants) {
      const date = new Date(ms);
      expect(isoInstant(date)).toBe(date.toISOString());
    }
  });
});
