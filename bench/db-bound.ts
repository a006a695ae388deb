/**
 * The DB bound: how fast PostgreSQL alone takes exactly the scenario's rows,
 * the way psql would feed them — one COPY from a file into a staging table,
 * then one INSERT … ON CONFLICT … DO UPDATE … WHERE … IS DISTINCT FROM into
 * the empty target (dws.logical_cluster_tasks created by the exporter's own
 * migrations, indexes and foreign keys included), in one transaction.
 *
 * The file is streamed with pg-copy-streams from a file read stream (what
 * psql's \copy does: read the file, forward the bytes); no per-row work in
 * Node. Timed: BEGIN … COMMIT. Not timed: database creation and migrations.
 */
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

const STAGE_DDL = `
CREATE TEMP TABLE bench_stage (
    project_id           text        NOT NULL,
    cluster_id           text        NOT NULL,
    logical_cluster_name text        NOT NULL,
    task_type            text        NOT NULL,
    start_time_raw       text        NOT NULL,
    start_time           timestamptz,
    end_time_raw         text,
    end_time             timestamptz,
    duration_seconds     double precision,
    is_running           boolean     NOT NULL,
    result               text,
    log                  text,
    parse_issues         text[]      NOT NULL,
    extra                jsonb
)`;

/** The exporter's upsert, minus its DISTINCT ON (the file has no duplicates) and ledger counters. */
const INSERT_SQL = `
INSERT INTO dws.logical_cluster_tasks AS t (
    project_id, cluster_id, logical_cluster_name, task_type, start_time_raw,
    start_time, end_time_raw, end_time, duration_seconds, is_running,
    result, log, parse_issues, extra, first_run_id, last_run_id)
SELECT project_id, cluster_id, logical_cluster_name, task_type, start_time_raw,
       start_time, end_time_raw, end_time, duration_seconds, is_running,
       result, log, parse_issues, extra, $1, $1
  FROM bench_stage
ON CONFLICT ON CONSTRAINT logical_cluster_tasks_natural_key DO UPDATE SET
    project_id       = EXCLUDED.project_id,
    start_time       = EXCLUDED.start_time,
    end_time_raw     = EXCLUDED.end_time_raw,
    end_time         = EXCLUDED.end_time,
    duration_seconds = EXCLUDED.duration_seconds,
    is_running       = EXCLUDED.is_running,
    result           = EXCLUDED.result,
    log              = EXCLUDED.log,
    parse_issues     = EXCLUDED.parse_issues,
    extra            = EXCLUDED.extra,
    last_seen_at     = now(),
    last_run_id      = EXCLUDED.last_run_id
WHERE (t.project_id, t.start_time, t.end_time_raw, t.end_time, t.duration_seconds, t.is_running,
       t.result, t.log, t.parse_issues, t.extra)
      IS DISTINCT FROM
      (EXCLUDED.project_id, EXCLUDED.start_time, EXCLUDED.end_time_raw, EXCLUDED.end_time,
       EXCLUDED.duration_seconds, EXCLUDED.is_running, EXCLUDED.result, EXCLUDED.log,
       EXCLUDED.parse_issues, EXCLUDED.extra)`;

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
