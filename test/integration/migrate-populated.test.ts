/**
 * The migrations after 0005 applied to a warehouse that already holds tasks
 * in the old schema: every row is kept as it was, gets its new columns, the
 * key moves to the "C" collation with the views on it intact, and the next
 * export recognises each stored task (nothing inserted or updated), then
 * writes nothing at all.
 */
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimFleet } from '../../src/simulator/index.js';
import { MIGRATIONS_DIR, migrate } from '../../src/warehouse/migrate.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { exportOnce, fleetConfig, fleetTasks, storedTasks, withSimulator } from '../support/exporter.js';

const OLD_SCHEMA_UP_TO = '0005';

let oldDir: string;

beforeAll(async () => {
  oldDir = await mkdtemp(join(tmpdir(), 'dws-exporter-old-schema-'));
  for (const name of await readdir(MIGRATIONS_DIR)) {
    if (name.endsWith('.sql') && name.slice(0, 4) <= OLD_SCHEMA_UP_TO) await copyFile(join(MIGRATIONS_DIR, name), join(oldDir, name));
  }
});
afterAll(async () => {
  await rm(oldDir, { recursive: true, force: true });
});

async function migrateWith(pool: pg.Pool, dir?: string): Promise<void> {
  const client = await pool.connect();
  try {
    await migrate(client, dir === undefined ? {} : { dir });
  } finally {
    client.release();
  }
}

async function relfilenode(pool: pg.Pool): Promise<string> {
  return (await pool.query<{ f: string }>(`SELECT relfilenode::text AS f FROM pg_class WHERE oid = 'dws.logical_cluster_tasks'::regclass`)).rows[0]?.f ?? '';
}

/** The old schema's columns of every task row, as text, in key order. */
async function oldColumns(pool: pg.Pool): Promise<string[]> {
  const result = await pool.query<{ row: string }>(
    `SELECT (project_id, cluster_id, logical_cluster_name, task_type, start_time_raw, start_time, end_time_raw, end_time,
             duration_seconds, is_running, result, log, parse_issues, extra, first_seen_at, last_seen_at,
             first_run_id, last_run_id)::text AS row
       FROM dws.logical_cluster_tasks ORDER BY cluster_id, logical_cluster_name, task_type, start_time_raw`,
  );
  return result.rows.map((r) => r.row);
}

describe('migrating a populated warehouse', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase({ migrated: false });
    await migrateWith(db.pool, oldDir);
    // 30,000 rows in the old schema, nulls, flags, extras and odd text included.
    await db.pool.query(`
      INSERT INTO dws.export_runs (exporter_version, hostname, source_time_zone) VALUES ('0.0.9', 'old', 'UTC');
      INSERT INTO dws.logical_cluster_tasks (project_id, cluster_id, logical_cluster_name, task_type, start_time_raw,
             start_time, end_time_raw, end_time, duration_seconds, is_running, result, log, parse_issues, extra,
             first_run_id, last_run_id)
      SELECT 'p', 'c-' || (i % 30), 'lc_' || (i % 7), (ARRAY['Grow', 'Shrink', 'Expand'])[1 + i % 3],
             '2024-01-01 00:00:00'::timestamp + i * interval '1 minute' || '',
             '2024-01-01T00:00:00Z'::timestamptz + i * interval '1 minute',
             CASE WHEN i % 10 = 0 THEN NULL ELSE '2024-01-02 00:00:00' END,
             CASE WHEN i % 10 = 0 THEN NULL ELSE '2024-01-02T00:00:00Z'::timestamptz END,
             CASE WHEN i % 10 = 0 THEN NULL ELSE i * 1.5 END,
             i % 10 = 0, CASE WHEN i % 10 = 0 THEN '' ELSE 'success' END,
             'log ' || i || E'\\twith tab 扩容',
             CASE WHEN i % 97 = 0 THEN ARRAY['end_before_start'] ELSE '{}' END,
             CASE WHEN i % 89 = 0 THEN jsonb_build_object('note', i) END,
             1, 1
        FROM generate_series(1, 30000) AS i;
      GRANT SELECT ON dws.v_task_daily, dws.v_running_tasks TO PUBLIC`);
  });
  afterAll(async () => {
    await db.drop();
  });

  it('keeps every row and value, numbers each task occurrence 1, with no fingerprint yet, without rewriting the table', async () => {
    const before = await oldColumns(db.pool);
    expect(before).toHaveLength(30_000);
    const fileBefore = await relfilenode(db.pool);
    await migrateWith(db.pool);
    expect(await oldColumns(db.pool)).toEqual(before);
    expect(await relfilenode(db.pool)).toBe(fileBefore);
    const added = await db.pool.query<{ n: number; occurrences: number[]; fingerprints: number }>(
      `SELECT count(*)::int AS n, array_agg(DISTINCT occurrence) AS occurrences, count(row_fingerprint)::int AS fingerprints
         FROM dws.logical_cluster_tasks`,
    );
    expect(added.rows[0]).toEqual({ n: 30_000, occurrences: [1], fingerprints: 0 });
    const key = await db.pool.query<{ columns: string }>(
      `SELECT pg_get_constraintdef(oid) AS columns FROM pg_constraint WHERE conname = 'logical_cluster_tasks_natural_key'`,
    );
    expect(key.rows[0]?.columns).toBe('PRIMARY KEY (cluster_id, logical_cluster_name, task_type, start_time_raw, occurrence)');
  });

  it('declares the key columns in the "C" collation, and the views on them keep their definition, comments and grants', async () => {
    const collations = await db.pool.query<{ column: string; collation: string }>(
      `SELECT a.attname AS column, c.collname AS collation FROM pg_attribute a JOIN pg_collation c ON c.oid = a.attcollation
        WHERE a.attrelid = 'dws.logical_cluster_tasks'::regclass
          AND a.attname IN ('cluster_id', 'logical_cluster_name', 'task_type', 'start_time_raw') ORDER BY a.attnum`,
    );
    expect(collations.rows.map((r) => r.collation)).toEqual(['C', 'C', 'C', 'C']);
    const views = await db.pool.query<{ name: string; comment: string | null; uncommented: number; public_select: boolean; n: number }>(
      `SELECT v AS name, obj_description(v::regclass, 'pg_class') AS comment,
              (SELECT count(*)::int FROM pg_attribute WHERE attrelid = v::regclass AND attnum > 0
                  AND coalesce(col_description(attrelid, attnum), '') = '') AS uncommented,
              has_table_privilege('public', v, 'SELECT') AS public_select
         FROM unnest(ARRAY['dws.v_task_daily', 'dws.v_running_tasks']) AS v`,
    );
    for (const view of views.rows) expect(view).toMatchObject({ uncommented: 0, public_select: true });
    expect(views.rows.every((v) => (v.comment ?? '').length > 20)).toBe(true);
    const daily = await db.pool.query<{ n: number }>('SELECT sum(tasks)::int AS n FROM dws.v_task_daily');
    expect(daily.rows[0]?.n).toBe(30_000);
  });
});

describe('the first export after the migration', () => {
  it('finds every stored task unchanged (recording its fingerprint), and the export after it writes nothing', async () => {
    const db = await createTestDatabase();
    const fleet = SimFleet.generate({ seed: 13, projects: 1, clustersPerProject: 4, minTasks: 50, maxTasks: 400 });
    try {
      await withSimulator({ fleet, pageSizeCap: 50 }, async (simulator) => {
        const config = fleetConfig(simulator, fleet);
        await exportOnce(db.url, config);
        // What migration 0006 leaves behind for rows stored before it.
        await db.pool.query('UPDATE dws.logical_cluster_tasks SET row_fingerprint = NULL');
        const first = await exportOnce(db.url, config);
        expect(first.totals).toMatchObject({ rowsInserted: 0, rowsUpdated: 0, rowsUnchanged: fleet.totalTasks() });
        const after = await db.pool.query<{ unfingerprinted: number; rewritten: number }>(
          `SELECT count(*) FILTER (WHERE row_fingerprint IS NULL)::int AS unfingerprinted,
                  count(*) FILTER (WHERE last_run_id = $1)::int AS rewritten
             FROM dws.logical_cluster_tasks`,
          [first.runId],
        );
        expect(after.rows[0]).toEqual({ unfingerprinted: 0, rewritten: 0 });
        // Each row version as it is: a write, or even a lock, would change xmin or xmax.
        const versions = async (): Promise<string[]> =>
          (await db.pool.query<{ v: string }>('SELECT (ctid, xmin, xmax)::text AS v FROM dws.logical_cluster_tasks ORDER BY 1')).rows.map((r) => r.v);
        const before = await versions();
        const second = await exportOnce(db.url, config);
        expect(second.totals).toMatchObject({ rowsInserted: 0, rowsUpdated: 0, rowsUnchanged: fleet.totalTasks() });
        expect(await versions()).toEqual(before);
        expect(await storedTasks(db.pool)).toEqual(fleetTasks(fleet));
      });
    } finally {
      await db.drop();
    }
  });
});
