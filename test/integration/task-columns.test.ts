/**
 * The exporter's one list of task columns (src/warehouse/task-columns.ts)
 * against the table the migrations create: same names, order-independent
 * types, the natural key in primary-key order; and the staging table and the
 * unnest statement derived from it are accepted by PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STAGE_TABLE, createStageSql } from '../../src/warehouse/copy-tasks.js';
import { COLUMN_NAMES, KEY_COLUMNS, NATURAL_KEY_CONSTRAINT, TASK_COLUMNS } from '../../src/warehouse/task-columns.js';
import { UNNEST_MERGE_SQL } from '../../src/warehouse/upsert-tasks.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

async function columnTypes(relation: string): Promise<Map<string, string>> {
  const result = await db.pool.query<{ name: string; type: string }>(
    `SELECT attname AS name, format_type(atttypid, atttypmod) AS type
       FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`,
    [relation],
  );
  return new Map(result.rows.map((r) => [r.name, r.type]));
}

describe('the task column table', () => {
  it('names columns of dws.logical_cluster_tasks with their migrated types', async () => {
    const migrated = await columnTypes('dws.logical_cluster_tasks');
    for (const column of TASK_COLUMNS) expect([column.name, migrated.get(column.name)]).toEqual([column.name, column.type]);
  });

  it('leaves out only the columns the database fills in (seen times, run ids)', async () => {
    const migrated = [...(await columnTypes('dws.logical_cluster_tasks')).keys()];
    expect(migrated.filter((name) => !COLUMN_NAMES.includes(name)).sort()).toEqual(
      ['first_run_id', 'first_seen_at', 'last_run_id', 'last_seen_at'],
    );
  });

  it('lists the natural key in the order of the primary key', async () => {
    const result = await db.pool.query<{ columns: string[] }>(
      `SELECT array_agg(a.attname::text ORDER BY k.ord) AS columns
         FROM pg_constraint c
         CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
        WHERE c.conname = $1`,
      [NATURAL_KEY_CONSTRAINT],
    );
    expect(result.rows[0]?.columns).toEqual(KEY_COLUMNS);
  });

  it('derives a staging table with exactly these columns and the table\'s types', async () => {
    const client = await db.pool.connect();
    try {
      await client.query(createStageSql(STAGE_TABLE));
      const result = await client.query<{ name: string; type: string }>(
        `SELECT attname AS name, format_type(atttypid, atttypmod) AS type
           FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 ORDER BY attnum`,
        [STAGE_TABLE],
      );
      expect(result.rows).toEqual(TASK_COLUMNS.map((c) => ({ name: c.name, type: c.type })));
    } finally {
      client.release();
    }
  });

  it('derives an unnest statement PostgreSQL can plan, one text array per column after the run id', async () => {
    const client = await db.pool.connect();
    try {
      await client.query('PREPARE unnest_merge AS ' + UNNEST_MERGE_SQL);
      const result = await client.query<{ types: string[] }>(
        "SELECT parameter_types::text[] AS types FROM pg_prepared_statements WHERE name = 'unnest_merge'",
      );
      expect(result.rows[0]?.types).toEqual(['bigint', ...TASK_COLUMNS.map(() => 'text[]')]);
    } finally {
      client.release();
    }
  });
});
