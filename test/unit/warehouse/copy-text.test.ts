/**
 * The writer queues pages as COPY text; the unnest path decodes that text.
 * Whatever a task holds (tabs, newlines, backslashes, the two characters
 * `\N`), decoding gives back exactly the values COPY would store.
 */
import { describe, expect, it } from 'vitest';
import { COPY_COLUMNS, copyLine, decodeCopyText, fingerprintText, identityEnd, isoInstant } from '../../../src/warehouse/copy-text.js';
import { COLUMN_NAMES } from '../../../src/warehouse/task-columns.js';
import { seededRandom } from '../../../src/simulator/random.js';
import type { TaskRow } from '../../../src/transform/task-row.js';

const ROW: TaskRow = {
  projectId: 'p-1',
  clusterId: 'c-1',
  logicalClusterName: 'lc_sales',
  taskType: 'Expand',
  startTimeRaw: '2023-06-15 08:00:00',
  startTime: Date.parse('2023-06-15T00:00:00Z') * 1000,
  endTimeRaw: '2023-06-15 08:05:30',
  endTime: Date.parse('2023-06-15T00:05:30Z') * 1000 + 123_456,
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
      'p-1\tc-1\tlc_sales\tExpand\t2023-06-15 08:00:00\t2023-06-15T00:00:00.000000Z\t\\N\t\\N\t\\N\tt\t\\N\texpanded by 2 nodes\t{}\t\\N\n',
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
    const columns = decodeCopyText(copyLine(ROW, identityEnd(1, 7)) + copyLine(hostile, identityEnd(2, 9)));
    const byName = Object.fromEntries(COLUMN_NAMES.map((name, i) => [name, columns[i]]));
    expect(byName.logical_cluster_name).toEqual(['lc_sales', HOSTILE]);
    expect(byName.log).toEqual(['expanded by 2 nodes', HOSTILE]);
    expect(byName.result).toEqual(['success', '\\N']);
    expect(byName.start_time).toEqual(['2023-06-15T00:00:00.000000Z', '2023-06-15T00:00:00.000000Z']);
    expect(byName.end_time).toEqual(['2023-06-15T00:05:30.123456Z', '2023-06-15T00:05:30.123456Z']);
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

describe('fingerprintText', () => {
  it('is String(n) for every whole number a fingerprint can be, halves with leading zeros included', () => {
    const edges = [0, 1, 9, 99_999_999, 1e8, 1e8 + 1, 1e8 + 9_999_999, 1e8 + 10_000_000, 123_400_000_001, 2 ** 31, 2 ** 32 + 7, 2 ** 53 - 1, 2 ** 53 - 100_000_000];
    const random = seededRandom(5);
    const draws = Array.from({ length: 20_000 }, () => Math.floor(random() * 2 ** 21) * 2 ** 32 + Math.floor(random() * 2 ** 32));
    for (const n of [...edges, ...draws]) expect(fingerprintText(n), String(n)).toBe(String(n));
  });
});

describe('isoInstant', () => {
  /** toISOString's text with the microseconds that Date cannot hold: the reference. */
  function reference(micros: number): string {
    const seconds = Math.floor(micros / 1e6);
    const iso = new Date(seconds * 1000).toISOString();
    return `${iso.slice(0, -5)}.${String(micros - seconds * 1e6).padStart(6, '0')}Z`;
  }

  it('writes toISOString\'s text with six fraction digits, for 20,000 instants of years 1685–2255 and around the edges', () => {
    const random = seededRandom(5);
    // Where every microsecond is a safe integer (what parseApiTime hands over with a fraction).
    const first = Date.parse('1685-01-01T00:00:00.000Z') * 1000;
    const last = Date.parse('2255-06-01T00:00:00.000Z') * 1000;
    const instants = [first, last, 0, -1, 1, 999_999, 1_000_000, -999_999, -1_000_000, -86_400_000_000, 86_399_999_999, 86_400_000_000];
    for (let i = 0; i < 20_000; i++) {
      const micros = Math.floor(first + random() * (last - first));
      // Whole seconds (the documented shape) as well as microseconds.
      instants.push(i % 2 === 0 ? micros - (((micros % 1e6) + 1e6) % 1e6) : micros);
    }
    for (const micros of instants) expect(isoInstant(micros), String(micros)).toBe(reference(micros));
  });

  it('writes whole seconds of years 1–9999 exactly (beyond 2^53 µs, multiples of 10^6 are still exact doubles)', () => {
    const random = seededRandom(6);
    const first = Date.parse('0001-01-01T00:00:00Z') / 1000;
    const last = Date.parse('9999-12-31T23:59:59Z') / 1000;
    const seconds = [first, last, first + 86_399, last - 86_399];
    for (let i = 0; i < 5000; i++) seconds.push(Math.floor(first + random() * (last - first)));
    for (const s of seconds) expect(isoInstant(s * 1e6), String(s)).toBe(reference(s * 1e6));
  });

  it('writes 1 µs before midnight in the day it belongs to (no rounding of the day number)', () => {
    const midnight = Date.parse('2255-01-01T00:00:00Z') * 1000;
    expect(isoInstant(midnight - 1)).toBe('2254-12-31T23:59:59.999999Z');
    expect(isoInstant(midnight)).toBe('2255-01-01T00:00:00.000000Z');
  });
});
