/**
 * Times in the shapes servers really send, end to end: tasks served by the
 * simulator, exported by the real pipeline (transform → COPY text → merge)
 * into PostgreSQL, land with start_time, end_time and duration_seconds exact
 * to the microsecond (checked against PostgreSQL's own reading of the raw
 * text), and anything else is stored raw, NULL and flagged, never guessed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimFleet, type SimTask } from '../../src/simulator/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { exportOnce, fleetConfig, withSimulator } from '../support/exporter.js';

const ZONE = 'Asia/Shanghai';

function task(start: string, end: string | null, log: string): SimTask {
  return { type: 'Expand', logical_cluster_name: 'lc_sales', start_time: start, end_time: end, result: end ? 'success' : '', log };
}

/** [start_time, end_time, expected start (UTC), expected end (UTC), expected duration in seconds] */
const READABLE: readonly (readonly [string, string | null, string, string | null, number | null])[] = [
  ['2023-06-05 01:58:43', '2023-06-05 02:00:00', '2023-06-04 17:58:43', '2023-06-04 18:00:00', 77],
  ['2023-06-05 01:58:43.123', '2023-06-05 01:58:44.5', '2023-06-04 17:58:43.123', '2023-06-04 17:58:44.5', 1.377],
  ['2023-06-05 01:58:43.123456', '2023-06-05 01:58:43.123457', '2023-06-04 17:58:43.123456', '2023-06-04 17:58:43.123457', 0.000001],
  ['2023-06-05 01:58:43+08:00', '2023-06-05 01:58:43.25Z', '2023-06-04 17:58:43', '2023-06-05 01:58:43.25', 28800.25],
  ['2023-06-05T01:58:43.123456789-0530', null, '2023-06-05 07:28:43.123457', null, null],
  ['2023-06-05 03:00:00.9999999+01', '2023-06-05T10:00:01.000001+08', '2023-06-05 02:00:01', '2023-06-05 02:00:01.000001', 0.000001],
];

const FLAGGED: readonly (readonly [string, string])[] = [
  ['1685930323', 'start_time_unparsable'],
  ['2023-06-05 24:00:00', 'start_time_unparsable'],
  ['2023-06-05 01:58:43.1234567890', 'start_time_unparsable'],
  ['2023-06-05', 'start_time_unparsable'],
  ['2023-02-30 10:00:00.5', 'start_time_unparsable'],
];

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  const tasks = [
    ...READABLE.map(([start, end], i) => task(start, end, `readable ${i}`)),
    ...FLAGGED.map(([start], i) => task(start, '2023-06-05 02:00:00', `flagged ${i}`)),
  ];
  const fleet = new SimFleet([{ projectId: '7e1e5000000000000000000000000001', id: '7e1e5000-0000-4000-8000-000000000001', name: 'times', status: 'AVAILABLE', tasks }]);
  await withSimulator({ fleet, pageSizeCap: 4 }, async (simulator) => {
    const report = await exportOnce(db.url, fleetConfig(simulator, fleet, { sourceTimeZone: ZONE }));
    expect(report.status).toBe('succeeded');
  });
});

afterAll(async () => {
  await db.drop();
});

interface Row {
  readonly start_time_raw: string;
  readonly end_time_raw: string | null;
  readonly start_utc: string | null;
  readonly end_utc: string | null;
  readonly duration_seconds: number | null;
  readonly parse_issues: string[];
  readonly start_as_postgres_reads_it: boolean | null;
  readonly end_as_postgres_reads_it: boolean | null;
}

async function rows(): Promise<Map<string, Row>> {
  const client = await db.pool.connect();
  try {
    await client.query(`SET TimeZone = '${ZONE}'`);
    const result = await client.query<Row>(
      `SELECT start_time_raw, end_time_raw,
              to_char(start_time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS start_utc,
              to_char(end_time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS end_utc,
              duration_seconds, parse_issues,
              CASE WHEN log LIKE 'readable%' THEN start_time = start_time_raw::timestamptz END AS start_as_postgres_reads_it,
              CASE WHEN log LIKE 'readable%' AND end_time_raw IS NOT NULL
                   THEN end_time = end_time_raw::timestamptz END AS end_as_postgres_reads_it
         FROM dws.logical_cluster_tasks`,
    );
    return new Map(result.rows.map((row) => [row.start_time_raw, row]));
  } finally {
    client.release();
  }
}

/** `2023-06-04 17:58:43.123` → to_char's six-digit form. */
function micros(text: string | null): string | null {
  if (text === null) return null;
  const [whole = '', fraction = ''] = text.split('.');
  return `${whole}.${fraction.padEnd(6, '0')}`;
}

describe('tasks whose times come in the SQL shapes', () => {
  it('land with start_time, end_time and duration_seconds exact to the microsecond, raw text kept', async () => {
    const stored = await rows();
    for (const [start, end, startUtc, endUtc, duration] of READABLE) {
      const row = stored.get(start);
      expect(row, start).toBeDefined();
      expect({ ...row }, start).toMatchObject({
        end_time_raw: end,
        start_utc: micros(startUtc),
        end_utc: micros(endUtc),
        duration_seconds: duration,
        parse_issues: [],
      });
    }
  });

  it('land exactly where PostgreSQL reads the raw text in the sourceTimeZone session', async () => {
    const stored = await rows();
    for (const [start, end] of READABLE) {
      expect(stored.get(start)?.start_as_postgres_reads_it, start).toBe(true);
      if (end !== null) expect(stored.get(start)?.end_as_postgres_reads_it, end).toBe(true);
    }
  });
});

describe('tasks whose times are in no accepted shape', () => {
  it('are stored with the raw text, start_time NULL, no duration, and flagged', async () => {
    const stored = await rows();
    for (const [start, issue] of FLAGGED) {
      const row = stored.get(start);
      expect(row, start).toBeDefined();
      expect(row?.start_utc, start).toBeNull();
      expect(row?.duration_seconds, start).toBeNull();
      expect(row?.parse_issues, start).toEqual([issue]);
      expect(row?.end_utc, start).toBe('2023-06-04 18:00:00.000000');
    }
  });
});
