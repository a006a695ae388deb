/**
 * The DB bound: PostgreSQL alone taking exactly the scenario's rows the way psql would feed them —
 * one COPY from a file into a staging table, then one INSERT … ON CONFLICT … DO UPDATE … WHERE … IS
 * DISTINCT FROM into the empty, migrated target — timed BEGIN … COMMIT (not the database's creation).
 */
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { createStageSql } from '../src/warehouse/copy-tasks.js';
import { upsertTasksSql } from '../src/warehouse/merge-tasks-sql.js';

const STAGE_DDL = createStageSql('bench_stage');

/** The exporter's upsert, minus its DISTINCT ON (the file has no duplicates) and ledger counters. */
const INSERT_SQL = upsertTasksSql('bench_stage');

export interface DbBoundResult {
  readonly totalMs: number;
  readonly copyMs: number;
  readonly insertMs: number;
  readonly commitMs: number;
  readonly rows: number;
}

/** `url`: a fresh, migrated database (its target table is empty). */
export async function measureDbBound(url: string, file: string): Promise<DbBoundResult> {
  const client = new pg.Client({ connectionString: url, application_name: 'dws-bench-db-bound' });
  await client.connect();
  try {
    // The target's foreign keys need a run row; created before the clock starts.
    const run = await client.query<{ run_id: string }>(
      `INSERT INTO dws.export_runs (exporter_version, hostname, source_time_zone)
       VALUES ('bench', 'bench', 'UTC') RETURNING run_id`,
    );
    const runId = Number(run.rows[0]?.run_id);
    await client.query(STAGE_DDL);
    const t0 = performance.now();
    await client.query('BEGIN');
    // Streamed from a file read stream, as psql's \copy does: no per-row work in Node.
    await pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), client.query(copyFrom('COPY bench_stage FROM STDIN')));
    const t1 = performance.now();
    const inserted = await client.query(INSERT_SQL, [runId]);
    const t2 = performance.now();
    await client.query('COMMIT');
    const t3 = performance.now();
    return { totalMs: t3 - t0, copyMs: t1 - t0, insertMs: t2 - t1, commitMs: t3 - t2, rows: inserted.rowCount ?? 0 };
  } finally {
    await client.end();
  }
}
