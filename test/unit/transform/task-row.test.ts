/**
 * toTaskRow never throws and never drops a task: what cannot be read becomes
 * null (or '' for key fields) and is named in `issues`. naturalKey/rawTaskKey
 * identify a task within a cluster without building the row.
 */
import { seededRandom } from '../../../src/simulator/random.js';
import { describe, expect, it } from 'vitest';
import type { RawTask } from '../../../src/source/task-page.js';
import { KEY_SEPARATOR, naturalKey, rawTaskKey, toTaskRow, type RowContext } from '../../../src/transform/task-row.js';

const UTC: RowContext = { projectId: 'p-1', clusterId: 'c-1', sourceTimeZone: 'UTC' };
const SHANGHAI: RowContext = { ...UTC, sourceTimeZone: 'Asia/Shanghai' };
const BERLIN: RowContext = { ...UTC, sourceTimeZone: 'Europe/Berlin' };

const NUL = '\u0000';
/** What a NUL becomes: the six characters backslash, u, 0, 0, 0, 0. */
const ESCAPED_NUL = '\\u0000';

function task(overrides: Record<string, unknown> = {}): RawTask {
  return {
    type: 'Expand',
    logical_cluster_name: 'lc_sales',
    start_time: '2023-06-15 08:00:00',
    end_time: '2023-06-15 08:05:30',
    result: 'success',
    log: 'expanded by 2 nodes',
    ...overrides,
  };
}

/** An ISO 8601 instant (ms precision) as epoch microseconds, the form TaskRow holds. */
function micros(iso: string): number {
  return Date.parse(iso) * 1000;
}

/** A task as JSON.parse would hand it over (own keys exactly as sent). */
function fromJson(json: string): RawTask {
  return JSON.parse(json) as RawTask;
}


describe('a complete, finished task', () => {
  it('maps every documented field, with instants read in the configured zone', () => {
    expect(toTaskRow(task(), SHANGHAI)).toEqual({
      projectId: 'p-1',
      clusterId: 'c-1',
      logicalClusterName: 'lc_sales',
      taskType: 'Expand',
      startTimeRaw: '2023-06-15 08:00:00',
      startTime: micros('2023-06-15T00:00:00Z'),
      endTimeRaw: '2023-06-15 08:05:30',
      endTime: micros('2023-06-15T00:05:30Z'),
      durationSeconds: 330,
      result: 'success',
      log: 'expanded by 2 nodes',
      isRunning: false,
      issues: [],
      extra: null,
    });
  });

  it('keeps the raw time strings verbatim whatever the zone', () => {
    const row = toTaskRow(task(), BERLIN);
    expect(row.startTimeRaw).toBe('2023-06-15 08:00:00');
    expect(row.endTimeRaw).toBe('2023-06-15 08:05:30');
  });

  it('measures duration in real elapsed seconds across a DST change (Berlin 01:30 → 03:30 is one hour)', () => {
    const row = toTaskRow(task({ start_time: '2023-03-26 01:30:00', end_time: '2023-03-26 03:30:00' }), BERLIN);
    expect(row.durationSeconds).toBe(3600);
  });

  it('gives a zero duration when the task ended in the second it started', () => {
    const row = toTaskRow(task({ end_time: '2023-06-15 08:00:00' }), UTC);
    expect(row.durationSeconds).toBe(0);
    expect(row.issues).toEqual([]);
  });

  it('keeps fractional seconds in the duration of ISO times', () => {
    const row = toTaskRow(task({ start_time: '2023-06-15T08:00:00.250Z', end_time: '2023-06-15T08:00:01.000Z' }), UTC);
    expect(row.durationSeconds).toBe(0.75);
  });

  it('reads the SQL shapes servers send (fraction after a space, explicit offset) to the microsecond, raw text kept', () => {
    const row = toTaskRow(task({ start_time: '2023-06-05 01:58:43.123', end_time: '2023-06-05 01:58:44.000001+08:00' }), SHANGHAI);
    expect(row.issues).toEqual([]);
    expect(row.startTimeRaw).toBe('2023-06-05 01:58:43.123');
    expect(row.endTimeRaw).toBe('2023-06-05 01:58:44.000001+08:00');
    expect(row.startTime).toBe(micros('2023-06-04T17:58:43.123Z'));
    expect(row.endTime).toBe(micros('2023-06-04T17:58:44Z') + 1);
    // 0.877001 s: the microsecond survives into the duration.
    expect(row.durationSeconds).toBe(0.877001);
  });

  it('measures a duration of one microsecond', () => {
    const row = toTaskRow(task({ start_time: '2023-06-05 01:58:43.123456', end_time: '2023-06-05 01:58:43.123457' }), UTC);
    expect(row.durationSeconds).toBe(0.000001);
  });

  it('keeps open-set values (new types, lower-case types, unknown results) unchanged', () => {
    const row = toTaskRow(task({ type: 'elasticExpand', result: 'cancelled' }), UTC);
    expect(row.taskType).toBe('elasticExpand');
    expect(row.result).toBe('cancelled');
    expect(row.issues).toEqual([]);
  });

  it('keeps a long log with newlines, quotes and non-ASCII text verbatim', () => {
    const log = `第一行\n"quoted" \\n 'single'\t${'x'.repeat(100_000)} 🚀`;
    expect(toTaskRow(task({ log }), UTC).log).toBe(log);
  });
});

describe('running tasks', () => {
  it.each([
    ['end_time ""', { end_time: '' }],
    ['end_time "  " (blank)', { end_time: '  ' }],
    ['end_time null', { end_time: null }],
    ['end_time absent', { end_time: undefined }],
  ])('%s: is_running, with null end and duration and no issue', (_label, overrides) => {
    const row = toTaskRow(task({ result: '', ...overrides }), UTC);
    expect(row.isRunning).toBe(true);
    expect(row.endTime).toBeNull();
    expect(row.durationSeconds).toBeNull();
    expect(row.issues).toEqual([]);
    expect(row.startTime).toEqual(micros('2023-06-15T08:00:00Z'));
  });

  it('keeps the raw end_time of a running task: "" stays "", null and absent become null', () => {
    expect(toTaskRow(task({ end_time: '' }), UTC).endTimeRaw).toBe('');
    expect(toTaskRow(task({ end_time: null }), UTC).endTimeRaw).toBeNull();
    const { end_time: _omitted, ...withoutEnd } = task();
    expect(toTaskRow(withoutEnd, UTC).endTimeRaw).toBeNull();
  });

  it('keeps result "" of a running task as "" (not null)', () => {
    expect(toTaskRow(task({ result: '', end_time: '' }), UTC).result).toBe('');
  });
});

describe('times that cannot be used', () => {
  it('flags end before start, keeps both instants, and gives no duration', () => {
    const row = toTaskRow(task({ start_time: '2023-06-15 08:00:00', end_time: '2023-06-15 07:59:59' }), UTC);
    expect(row.issues).toEqual(['end_before_start']);
    expect(row.durationSeconds).toBeNull();
    expect(row.startTime).toEqual(micros('2023-06-15T08:00:00Z'));
    expect(row.endTime).toEqual(micros('2023-06-15T07:59:59Z'));
    expect(row.isRunning).toBe(false);
  });

  it('flags an unparsable start_time, keeps it raw, and gives no start instant nor duration', () => {
    const row = toTaskRow(task({ start_time: '2023-02-30 10:00:00' }), UTC);
    expect(row.issues).toEqual(['start_time_unparsable']);
    expect(row.startTimeRaw).toBe('2023-02-30 10:00:00');
    expect(row.startTime).toBeNull();
    expect(row.durationSeconds).toBeNull();
    expect(row.endTime).toEqual(micros('2023-06-15T08:05:30Z'));
  });

  it('flags an unparsable end_time: the task is finished (not running) but has no end instant', () => {
    const row = toTaskRow(task({ end_time: 'yesterday' }), UTC);
    expect(row.issues).toEqual(['end_time_unparsable']);
    expect(row.isRunning).toBe(false);
    expect(row.endTimeRaw).toBe('yesterday');
    expect(row.endTime).toBeNull();
    expect(row.durationSeconds).toBeNull();
  });

  it('flags a blank (whitespace) start_time as unparsable', () => {
    const row = toTaskRow(task({ start_time: '   ' }), UTC);
    expect(row.issues).toContain('start_time_unparsable');
    expect(row.startTime).toBeNull();
  });

  it('flags an empty start_time: a row with a null start_time always names why', () => {
    const row = toTaskRow(task({ start_time: '' }), UTC);
    expect(row.startTime).toBeNull();
    expect(row.issues.filter((issue) => issue.startsWith('start_time_'))).not.toEqual([]);
  });
});

describe('missing key fields', () => {
  it.each([
    ['logical_cluster_name', 'logicalClusterName', 'logical_cluster_name_missing'],
    ['type', 'taskType', 'type_missing'],
    ['start_time', 'startTimeRaw', 'start_time_missing'],
  ] as const)('%s absent or null becomes "" with the issue %s', (field, property, issue) => {
    for (const value of [undefined, null]) {
      const source: Record<string, unknown> = { ...task() };
      if (value === undefined) delete source[field];
      else source[field] = value;
      const row = toTaskRow(source, UTC);
      expect(row[property]).toBe('');
      expect(row.issues).toContain(issue);
    }
  });

  it('a task with no fields at all is still a row, with every key issue named', () => {
    const row = toTaskRow({}, UTC);
    expect(row).toMatchObject({
      logicalClusterName: '',
      taskType: '',
      startTimeRaw: '',
      startTime: null,
      endTimeRaw: null,
      endTime: null,
      durationSeconds: null,
      result: null,
      log: null,
      isRunning: true,
      extra: null,
    });
    expect([...row.issues].sort()).toEqual(['logical_cluster_name_missing', 'start_time_missing', 'type_missing']);
  });

  it('result and log absent or null are null without an issue (they are optional)', () => {
    const row = toTaskRow(task({ result: null, log: undefined }), UTC);
    expect(row.result).toBeNull();
    expect(row.log).toBeNull();
    expect(row.issues).toEqual([]);
  });
});

describe('fields that are not strings', () => {
  it('are stringified (objects as JSON) and flagged <field>_not_string', () => {
    const row = toTaskRow(
      task({ type: 5, logical_cluster_name: { name: 'lc' }, result: true, log: ['a', 1] }),
      UTC,
    );
    expect(row.taskType).toBe('5');
    expect(row.logicalClusterName).toBe('{"name":"lc"}');
    expect(row.result).toBe('true');
    expect(row.log).toBe('["a",1]');
    expect([...row.issues].sort()).toEqual([
      'log_not_string',
      'logical_cluster_name_not_string',
      'result_not_string',
      'type_not_string',
    ]);
  });

  it('a numeric start_time is flagged not_string and unparsable; a numeric end_time makes the task finished', () => {
    const row = toTaskRow(task({ start_time: 1686816000, end_time: 0 }), UTC);
    expect(row.startTimeRaw).toBe('1686816000');
    expect(row.endTimeRaw).toBe('0');
    expect(row.isRunning).toBe(false);
    expect(row.issues).toEqual(
      expect.arrayContaining(['start_time_not_string', 'start_time_unparsable', 'end_time_not_string', 'end_time_unparsable']),
    );
  });

  it('false and 0 are values, not missing', () => {
    const row = toTaskRow(task({ type: false, logical_cluster_name: 0 }), UTC);
    expect(row.taskType).toBe('false');
    expect(row.logicalClusterName).toBe('0');
    expect(row.issues).not.toContain('type_missing');
    expect(row.issues).not.toContain('logical_cluster_name_missing');
  });
});

describe('NUL characters (PostgreSQL text cannot hold U+0000)', () => {
  it('in the log are escaped as the six characters \\u0000 and flagged log_nul_escaped', () => {
    const row = toTaskRow(task({ log: `before${NUL}after${NUL}` }), UTC);
    expect(row.log).toBe(`before${ESCAPED_NUL}after${ESCAPED_NUL}`);
    expect(row.log).not.toContain(NUL);
    expect(row.issues).toEqual(['log_nul_escaped']);
  });

  it('in key fields are escaped and flagged, and the natural key holds no NUL from the data', () => {
    const row = toTaskRow(task({ logical_cluster_name: `lc${NUL}x`, type: `${NUL}Expand` }), UTC);
    expect(row.logicalClusterName).toBe(`lc${ESCAPED_NUL}x`);
    expect(row.taskType).toBe(`${ESCAPED_NUL}Expand`);
    expect([...row.issues].sort()).toEqual(['logical_cluster_name_nul_escaped', 'type_nul_escaped']);
    // The key holds the escaped text, never a NUL.
    expect(naturalKey(row)).not.toContain(NUL);
  });

  it('in start_time are escaped; the time is then unparsable and flagged too', () => {
    const row = toTaskRow(task({ start_time: `2023-06-15 08:00:00${NUL}` }), UTC);
    expect(row.startTimeRaw).toBe(`2023-06-15 08:00:00${ESCAPED_NUL}`);
    expect(row.issues).toEqual(['start_time_nul_escaped', 'start_time_unparsable']);
  });

  it('in a non-string (object) field come out as \\u0000 through JSON.stringify: flagged not_string only', () => {
    const row = toTaskRow(task({ result: { code: `x${NUL}` } }), UTC);
    expect(row.result).not.toContain(NUL);
    expect(row.issues).toEqual(['result_not_string']);
    // JSON.stringify already writes U+0000 as the six characters \u0000.
    expect(row.result).toBe(`{"code":"x${ESCAPED_NUL}"}`);
  });

  it('in extra fields (values, nested values, array items, and keys) are escaped and flagged extra_nul_escaped once', () => {
    const row = toTaskRow(
      task({
        [`k${NUL}ey`]: `v${NUL}`,
        nested: { [`in${NUL}ner`]: [`a${NUL}`, 1, null, { deep: `${NUL}` }] },
      }),
      UTC,
    );
    expect(row.extra).toEqual({
      [`k${ESCAPED_NUL}ey`]: `v${ESCAPED_NUL}`,
      nested: { [`in${ESCAPED_NUL}ner`]: [`a${ESCAPED_NUL}`, 1, null, { deep: ESCAPED_NUL }] },
    });
    expect(row.issues).toEqual(['extra_nul_escaped']);
  });

  it('does not touch text that already contains the six characters \\u0000 (no issue)', () => {
    const row = toTaskRow(task({ log: `literal ${ESCAPED_NUL}` }), UTC);
    expect(row.log).toBe(`literal ${ESCAPED_NUL}`);
    expect(row.issues).toEqual([]);
  });
});

describe('fields beyond the documented six', () => {
  it('are kept verbatim in extra, with their JSON types', () => {
    const row = toTaskRow(task({ id: 'abc', progress: 42, flags: [true, null], detail: { a: { b: 1 } } }), UTC);
    expect(row.extra).toEqual({ id: 'abc', progress: 42, flags: [true, null], detail: { a: { b: 1 } } });
    expect(row.issues).toEqual([]);
  });

  it('extra is null when the API sent only documented fields', () => {
    expect(toTaskRow(task(), UTC).extra).toBeNull();
  });

  it('an extra field whose value is null is kept as null', () => {
    expect(toTaskRow(task({ new_field: null }), UTC).extra).toEqual({ new_field: null });
  });

  // Unreachable through parseTasksPage today (zod's z.record drops the key),
  // but toTaskRow's own contract is "kept verbatim".
  it('keeps an extra field named "__proto__" as a field', () => {
    const row = toTaskRow(fromJson('{"type":"Create","logical_cluster_name":"lc","start_time":"2023-06-15 08:00:00","__proto__":{"x":1}}'), UTC);
    expect(Object.keys(row.extra ?? {})).toEqual(['__proto__']);
    expect(JSON.stringify(row.extra)).toBe('{"__proto__":{"x":1}}');
  });
});

describe('issues', () => {
  it('are deduplicated: each distinct issue appears once', () => {
    const row = toTaskRow(
      task({ a: `${NUL}`, b: `${NUL}`, c: { d: `${NUL}` }, [`${NUL}`]: 1, log: `${NUL}${NUL}` }),
      UTC,
    );
    expect(row.issues).toEqual(['log_nul_escaped', 'extra_nul_escaped']);
    expect(new Set(row.issues).size).toBe(row.issues.length);
  });

  it('on many generated odd tasks, never repeat and never throw', () => {
    const random = seededRandom(7);
    const values: unknown[] = [null, undefined, '', ' ', 'x', `a${NUL}b`, 0, 1.5, true, [], [NUL], {}, { k: NUL }, '2023-06-15 08:00:00'];
    const pick = (): unknown => values[Math.floor(random() * values.length)];
    for (let i = 0; i < 2000; i += 1) {
      const raw: Record<string, unknown> = {};
      for (const field of ['type', 'logical_cluster_name', 'start_time', 'end_time', 'result', 'log', 'extra_one']) {
        const value = pick();
        if (value !== undefined) raw[field] = value;
      }
      const row = toTaskRow(raw, UTC);
      expect(new Set(row.issues).size).toBe(row.issues.length);
      expect(JSON.stringify(row)).not.toContain(NUL);
    }
  });
});

describe('the natural key', () => {
  it('is logical cluster name, type and raw start string joined by U+001F', () => {
    expect(naturalKey({ logicalClusterName: 'lc', taskType: 'Create', startTimeRaw: '2023-06-15 08:00:00' })).toBe(
      `lc${KEY_SEPARATOR}Create${KEY_SEPARATOR}2023-06-15 08:00:00`,
    );
  });

  it('stays one key per part triple when the parts hold the separator themselves', () => {
    const S = KEY_SEPARATOR;
    const triples: [string, string, string][] = [
      [`a${S}b`, 'c', 'd'],
      ['a', `b${S}c`, 'd'],
      ['a', 'b', `c${S}d`],
      [`a${S}b${S}c`, '', 'd'],
      ['["a","b","c"]', '', ''],
      ['a', 'b', 'c'],
      [`a${S}`, 'b', 'c'],
      ['a', `${S}b`, 'c'],
    ];
    const keys = triples.map(([logicalClusterName, taskType, startTimeRaw]) => naturalKey({ logicalClusterName, taskType, startTimeRaw }));
    expect(new Set(keys).size).toBe(triples.length);
    expect(rawTaskKey(task({ logical_cluster_name: `a${S}b`, type: 'c', start_time: 'd' }))).toBe(keys[0]);
  });

  it('uses the raw start string, so the configured zone never changes it', () => {
    expect(naturalKey(toTaskRow(task(), UTC))).toBe(naturalKey(toTaskRow(task(), SHANGHAI)));
  });

  it('does not depend on end_time, result, log or extra fields (a running task keeps its key when it finishes)', () => {
    const running = task({ end_time: '', result: '', log: '' });
    const finished = task({ end_time: '2023-06-15 09:00:00', result: 'failed', log: 'boom', retries: 3 });
    expect(rawTaskKey(running)).toBe(rawTaskKey(finished));
  });

  it('separates fields so that shifting text between them gives another key', () => {
    const a = rawTaskKey(task({ logical_cluster_name: 'ab', type: 'c' }));
    const b = rawTaskKey(task({ logical_cluster_name: 'a', type: 'bc' }));
    expect(a).not.toBe(b);
  });

  it('rawTaskKey agrees with naturalKey(toTaskRow(...)) on hand-picked odd tasks', () => {
    const odd: RawTask[] = [
      task(),
      {},
      task({ type: null, start_time: undefined }),
      task({ logical_cluster_name: 7, type: { t: 1 }, start_time: ['2023'] }),
      task({ logical_cluster_name: `x${NUL}y`, start_time: `${NUL}` }),
      task({ start_time: '' }),
    ];
    for (const raw of odd) {
      expect(rawTaskKey(raw)).toBe(naturalKey(toTaskRow(raw, UTC)));
    }
  });

  it('rawTaskKey agrees with naturalKey(toTaskRow(...)) on 2000 generated tasks', () => {
    const random = seededRandom(11);
    const values: unknown[] = [null, undefined, '', 'Create', 'lc', `n${NUL}`, 3, false, { a: NUL }, ['x'], '2023-06-15 08:00:00'];
    const pick = (): unknown => values[Math.floor(random() * values.length)];
    for (let i = 0; i < 2000; i += 1) {
      const raw: Record<string, unknown> = {};
      for (const field of ['type', 'logical_cluster_name', 'start_time', 'end_time']) {
        const value = pick();
        if (value !== undefined) raw[field] = value;
      }
      expect(rawTaskKey(raw)).toBe(naturalKey(toTaskRow(raw, BERLIN)));
    }
  });
});
