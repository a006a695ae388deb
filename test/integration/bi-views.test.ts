/**
 * The BI views on a known dataset, in a real PostgreSQL: every number is
 * worked out by hand in the comments. Also the indexes the views and
 * dashboards rely on, and the SQL form of the shard assignment.
 */
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHARD_SQL, shardOf } from '../../src/plan/shard.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let db: TestDatabase;

const P1 = 'p1';
const C1 = 'c1-0000';
const C2 = 'c2-0000';
const C3 = 'c3-0000';

async function run(pool: pg.Pool, started: string, extra: Record<string, unknown> = {}): Promise<number> {
  const columns = ['started_at', 'exporter_version', 'hostname', 'source_time_zone', ...Object.keys(extra)];
  const values = [started, 'test', 'host', 'UTC', ...Object.values(extra)];
  const result = await pool.query<{ run_id: string }>(
    `INSERT INTO dws.export_runs (${columns.join(', ')}) VALUES (${values.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING run_id`,
    values,
  );
  return Number(result.rows[0]?.run_id);
}

async function clusterRun(
  pool: pg.Pool,
  runId: number,
  clusterId: string,
  status: string,
  started: string,
  finished: string | null,
  error: { code?: string; message?: string; http?: number; api?: string; request?: string } = {},
): Promise<void> {
  await pool.query(
    `INSERT INTO dws.export_cluster_runs (run_id, project_id, cluster_id, status, started_at, finished_at,
                                          error_code, error_message, http_status, api_error_code, request_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [runId, P1, clusterId, status, started, finished, error.code ?? null, error.message ?? null, error.http ?? null, error.api ?? null, error.request ?? null],
  );
}

async function task(
  pool: pg.Pool,
  runId: number,
  t: { cluster?: string; lc?: string; type: string; start: string | null; raw?: string; duration?: number | null; result: string; running?: boolean },
): Promise<void> {
  const start = t.start === null ? null : new Date(t.start);
  const end = start && t.duration != null ? new Date(start.getTime() + t.duration * 1000) : null;
  await pool.query(
    `INSERT INTO dws.logical_cluster_tasks (project_id, cluster_id, logical_cluster_name, task_type, start_time_raw, start_time,
                                            end_time_raw, end_time, duration_seconds, is_running, result, log, first_run_id, last_run_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'log', $12, $12)`,
    [P1, t.cluster ?? C1, t.lc ?? 'lc_a', t.type, t.raw ?? t.start ?? 'garbage', start, end?.toISOString() ?? '', end, t.duration ?? null, t.running ?? false, t.result, runId],
  );
}

beforeAll(async () => {
  db = await createTestDatabase();
  const p = db.pool;
  await p.query(`INSERT INTO dws.clusters (cluster_id, cluster_name, project_id) VALUES ($1, 'dws-prod-01', $2)`, [C1, P1]);

  // Ledger. C1: succeeded (r1), failed (r2), incomplete (r3) -> last success r1, 2 failures since.
  const r1 = await run(p, '2026-03-01T02:00:00Z');
  const r2 = await run(p, '2026-03-02T02:00:00Z');
  const r3 = await run(p, '2026-03-03T02:00:00Z');
  await clusterRun(p, r1, C1, 'succeeded', '2026-03-01T02:00:00Z', '2026-03-01T02:10:00Z');
  await clusterRun(p, r2, C1, 'failed', '2026-03-02T02:00:00Z', '2026-03-02T02:01:00Z', { code: 'DWS_API_ERROR', message: 'DWS API 503', http: 503, api: 'DWS.5000', request: 'req-2' });
  await clusterRun(p, r3, C1, 'incomplete', '2026-03-03T02:00:00Z', '2026-03-03T02:09:00Z');
  // C2: never succeeded.
  await clusterRun(p, r1, C2, 'failed', '2026-03-01T02:00:00Z', '2026-03-01T02:00:05Z', { code: 'DWS_AUTH_FAILED', message: 'DWS API 401 APIG.0301', http: 401, api: 'APIG.0301' });
  // C3: failed, then succeeded, then a run still in progress.
  await clusterRun(p, r1, C3, 'failed', '2026-03-01T02:00:00Z', '2026-03-01T02:00:07Z', { code: 'DWS_NETWORK_ERROR', message: 'reset' });
  await clusterRun(p, r2, C3, 'succeeded', '2026-03-02T02:00:00Z', '2026-03-02T02:20:00Z');
  await clusterRun(p, r3, C3, 'running', '2026-03-03T02:00:00Z', null);

  // Tasks. 2026-03-01 (UTC), C1/lc_a/Expand: 10, 20, 30 (failed), 40 s and one running.
  await task(p, r1, { type: 'Expand', start: '2026-03-01T01:00:00Z', duration: 10, result: 'success' });
  await task(p, r1, { type: 'Expand', start: '2026-03-01T02:00:00Z', duration: 20, result: 'success' });
  await task(p, r1, { type: 'Expand', start: '2026-03-01T03:00:00Z', duration: 30, result: 'failed' });
  await task(p, r1, { type: 'Expand', start: '2026-03-01T20:00:00Z', duration: 40, result: 'Success' });
  await task(p, r1, { type: 'Expand', start: '2026-03-01T23:00:00Z', duration: null, result: '', running: true });
  // Same day, C1/lc_a/Grow: one failure of 100 s.
  await task(p, r1, { type: 'Grow', start: '2026-03-01T05:00:00Z', duration: 100, result: 'failed' });
  // 2026-03-02, C1/lc_a/Expand: FAILED (upper case) and an unknown result; neither succeeded.
  await task(p, r2, { type: 'Expand', start: '2026-03-02T05:00:00Z', duration: 5, result: 'FAILED' });
  await task(p, r2, { type: 'Expand', start: '2026-03-02T06:00:00Z', duration: 7, result: 'cancelled' });
  // Unparsable start: in no day.
  await task(p, r2, { type: 'Expand', start: null, raw: '2026-02-30 10:00:00', duration: null, result: 'success' });
  // C3: a running Shrink on another logical cluster.
  await task(p, r2, { cluster: C3, lc: 'lc_b', type: 'Shrink', start: '2026-03-02T10:00:00Z', duration: null, result: '', running: true });

  // Run groups. g-ok: 2 shards, shard 1 failed then its retry succeeded.
  await run(p, '2026-03-04T02:00:00Z', { run_group_id: 'g-ok', shard_index: 0, shard_count: 2, status: 'succeeded', finished_at: '2026-03-04T02:30:00Z', clusters_total: 5, clusters_ok: 5, rows_inserted: 10 });
  await run(p, '2026-03-04T02:00:01Z', { run_group_id: 'g-ok', shard_index: 1, shard_count: 2, status: 'failed', finished_at: '2026-03-04T02:05:00Z', clusters_total: 4, clusters_failed: 4 });
  await run(p, '2026-03-04T02:20:00Z', { run_group_id: 'g-ok', shard_index: 1, shard_count: 2, status: 'succeeded', finished_at: '2026-03-04T02:40:00Z', clusters_total: 4, clusters_ok: 4, rows_inserted: 3, rows_updated: 2 });
  // g-missing: 3 shards, one never started.
  await run(p, '2026-03-05T02:00:00Z', { run_group_id: 'g-missing', shard_index: 0, shard_count: 3, status: 'succeeded', finished_at: '2026-03-05T02:10:00Z' });
  await run(p, '2026-03-05T02:00:00Z', { run_group_id: 'g-missing', shard_index: 2, shard_count: 3, status: 'succeeded', finished_at: '2026-03-05T02:10:00Z' });
  // g-mixed: one partial, one running.
  await run(p, '2026-03-06T02:00:00Z', { run_group_id: 'g-mixed', shard_index: 0, shard_count: 2, status: 'partial', finished_at: '2026-03-06T02:10:00Z' });
  await run(p, '2026-03-06T02:00:00Z', { run_group_id: 'g-mixed', shard_index: 1, shard_count: 2 });
});

afterAll(async () => {
  await db.drop();
});

/** A client with the session time zone set, as BI tools do. */
async function inZone<T>(zone: string, body: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await db.pool.connect();
  try {
    await client.query(`SET TIME ZONE '${zone}'`);
    return await body(client);
  } finally {
    await client.query('RESET TIME ZONE');
    client.release();
  }
}

describe('dws.v_task_daily', () => {
  it('counts tasks, failures, success rate and duration percentiles per day, cluster, logical cluster and type', async () => {
    const rows = await inZone('UTC', async (c) =>
      (
        await c.query(
          `SELECT to_char(day, 'YYYY-MM-DD') AS day, project_id, cluster_id, cluster_name, logical_cluster_name, task_type,
                  tasks::int, running::int, succeeded::int, failed::int, success_rate::float8,
                  p50_duration_seconds, p95_duration_seconds, max_duration_seconds
             FROM dws.v_task_daily WHERE cluster_id = $1 ORDER BY day, task_type`,
          [C1],
        )
      ).rows,
    );
    const base = { project_id: P1, cluster_id: C1, cluster_name: 'dws-prod-01', logical_cluster_name: 'lc_a' };
    expect(rows).toEqual([
      // 5 tasks, 1 running; 3 success (one spelled "Success"), 1 failed -> 3/4; durations 10,20,30,40:
      // p50 = 25, p95 = 30 + 0.85 * 10 = 38.5 (continuous), max 40.
      { ...base, day: '2026-03-01', task_type: 'Expand', tasks: 5, running: 1, succeeded: 3, failed: 1, success_rate: 0.75, p50_duration_seconds: 25, p95_duration_seconds: 38.5, max_duration_seconds: 40 },
      { ...base, day: '2026-03-01', task_type: 'Grow', tasks: 1, running: 0, succeeded: 0, failed: 1, success_rate: 0, p50_duration_seconds: 100, p95_duration_seconds: 100, max_duration_seconds: 100 },
      // FAILED counts as failed; "cancelled" counts in tasks only; the unparsable start is in no day.
      { ...base, day: '2026-03-02', task_type: 'Expand', tasks: 2, running: 0, succeeded: 0, failed: 1, success_rate: 0, p50_duration_seconds: 6, p95_duration_seconds: 6.9, max_duration_seconds: 7 },
    ]);
  });

  it('leaves the success rate null when no task finished as success or failed', async () => {
    const rows = await inZone('UTC', async (c) =>
      (await c.query(`SELECT success_rate, running::int FROM dws.v_task_daily WHERE cluster_id = $1`, [C3])).rows,
    );
    expect(rows).toEqual([{ success_rate: null, running: 1 }]);
  });

  it('cuts days in the session time zone', async () => {
    const days = (zone: string) =>
      inZone(zone, async (c) =>
        (
          await c.query<{ day: string; tasks: number }>(
            `SELECT to_char(day, 'YYYY-MM-DD') AS day, sum(tasks)::int AS tasks FROM dws.v_task_daily
              WHERE cluster_id = $1 GROUP BY day ORDER BY day`,
            [C1],
          )
        ).rows,
      );
    expect(await days('UTC')).toEqual([{ day: '2026-03-01', tasks: 6 }, { day: '2026-03-02', tasks: 2 }]);
    // +08:00: 20:00Z and 23:00Z on the 1st are the 2nd in Shanghai.
    expect(await days('Asia/Shanghai')).toEqual([{ day: '2026-03-01', tasks: 4 }, { day: '2026-03-02', tasks: 4 }]);
  });
});

describe('dws.v_running_tasks', () => {
  it('lists the running tasks with how long they have run and when their cluster was last exported', async () => {
    const result = await db.pool.query(
      `SELECT cluster_id, cluster_name, logical_cluster_name, task_type, start_time, start_time_raw,
              running_seconds = extract(epoch FROM now() - start_time)::float8 AS seconds_right,
              running_for = now() - start_time AS interval_right,
              running_seconds > 0 AS positive, cluster_last_export_at, first_run_id::int
         FROM dws.v_running_tasks ORDER BY running_seconds DESC`,
    );
    expect(result.rows).toEqual([
      {
        cluster_id: C1, cluster_name: 'dws-prod-01', logical_cluster_name: 'lc_a', task_type: 'Expand',
        start_time: new Date('2026-03-01T23:00:00Z'), start_time_raw: '2026-03-01T23:00:00Z',
        seconds_right: true, interval_right: true, positive: true,
        cluster_last_export_at: new Date('2026-03-01T02:10:00Z'), first_run_id: 1,
      },
      {
        cluster_id: C3, cluster_name: null, logical_cluster_name: 'lc_b', task_type: 'Shrink',
        start_time: new Date('2026-03-02T10:00:00Z'), start_time_raw: '2026-03-02T10:00:00Z',
        seconds_right: true, interval_right: true, positive: true,
        cluster_last_export_at: new Date('2026-03-02T02:20:00Z'), first_run_id: 2,
      },
    ]);
  });
});

describe('dws.v_export_health', () => {
  it('gives each cluster its latest attempt, last success, staleness and latest error', async () => {
    const result = await db.pool.query(
      `SELECT cluster_id, cluster_name, last_attempt_run_id::int, last_attempt_status, last_success_at, last_success_run_id::int,
              staleness = now() - last_success_at AS staleness_right,
              staleness_seconds = extract(epoch FROM now() - last_success_at)::float8 AS seconds_right,
              failures_since_success::int, last_error_at, last_error_status, last_error_code, last_error_message,
              last_error_http_status, last_error_api_code, last_error_request_id
         FROM dws.v_export_health ORDER BY cluster_id`,
    );
    expect(result.rows).toEqual([
      {
        cluster_id: C1, cluster_name: 'dws-prod-01', last_attempt_run_id: 3, last_attempt_status: 'incomplete',
        last_success_at: new Date('2026-03-01T02:10:00Z'), last_success_run_id: 1, staleness_right: true, seconds_right: true,
        failures_since_success: 2, last_error_at: new Date('2026-03-03T02:09:00Z'), last_error_status: 'incomplete',
        last_error_code: null, last_error_message: null, last_error_http_status: null, last_error_api_code: null, last_error_request_id: null,
      },
      {
        cluster_id: C2, cluster_name: null, last_attempt_run_id: 1, last_attempt_status: 'failed',
        last_success_at: null, last_success_run_id: null, staleness_right: null, seconds_right: null,
        failures_since_success: 1, last_error_at: new Date('2026-03-01T02:00:05Z'), last_error_status: 'failed',
        last_error_code: 'DWS_AUTH_FAILED', last_error_message: 'DWS API 401 APIG.0301', last_error_http_status: 401,
        last_error_api_code: 'APIG.0301', last_error_request_id: null,
      },
      {
        cluster_id: C3, cluster_name: null, last_attempt_run_id: 3, last_attempt_status: 'running',
        last_success_at: new Date('2026-03-02T02:20:00Z'), last_success_run_id: 2, staleness_right: true, seconds_right: true,
        failures_since_success: 0, last_error_at: new Date('2026-03-01T02:00:07Z'), last_error_status: 'failed',
        last_error_code: 'DWS_NETWORK_ERROR', last_error_message: 'reset', last_error_http_status: null,
        last_error_api_code: null, last_error_request_id: null,
      },
    ]);
  });

  it('shows the previous error of C1 in the earlier failure', async () => {
    const previous = await db.pool.query(
      `SELECT error_code, http_status, request_id FROM dws.export_cluster_runs WHERE cluster_id = $1 AND status = 'failed'`,
      [C1],
    );
    expect(previous.rows).toEqual([{ error_code: 'DWS_API_ERROR', http_status: 503, request_id: 'req-2' }]);
  });
});

describe('dws.v_run_groups', () => {
  it('judges the shards of a run group by the latest run of each shard', async () => {
    const result = await db.pool.query(
      `SELECT run_group_id, started_at, finished_at, shard_count, shards_reported::int, runs::int, status,
              clusters_total::int, clusters_ok::int, clusters_failed::int, rows_inserted::int, rows_updated::int
         FROM dws.v_run_groups ORDER BY run_group_id`,
    );
    expect(result.rows).toEqual([
      { run_group_id: 'g-missing', started_at: new Date('2026-03-05T02:00:00Z'), finished_at: new Date('2026-03-05T02:10:00Z'), shard_count: 3, shards_reported: 2, runs: 2, status: 'missing_shards', clusters_total: 0, clusters_ok: 0, clusters_failed: 0, rows_inserted: 0, rows_updated: 0 },
      { run_group_id: 'g-mixed', started_at: new Date('2026-03-06T02:00:00Z'), finished_at: null, shard_count: 2, shards_reported: 2, runs: 2, status: 'running', clusters_total: 0, clusters_ok: 0, clusters_failed: 0, rows_inserted: 0, rows_updated: 0 },
      // Shard 1's retry replaces its failed run.
      { run_group_id: 'g-ok', started_at: new Date('2026-03-04T02:00:00Z'), finished_at: new Date('2026-03-04T02:40:00Z'), shard_count: 2, shards_reported: 2, runs: 3, status: 'succeeded', clusters_total: 9, clusters_ok: 9, clusters_failed: 0, rows_inserted: 13, rows_updated: 2 },
    ]);
  });
});

describe('indexes for the views and dashboard filters', () => {
  it('exist with the columns the filters use', async () => {
    const result = await db.pool.query<{ indexname: string; indexdef: string }>(
      `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'dws' ORDER BY indexname`,
    );
    const defs = new Map(result.rows.map((r) => [r.indexname, r.indexdef]));
    expect(defs.get('logical_cluster_tasks_cluster_start_idx')).toContain('(cluster_id, start_time)');
    expect(defs.get('logical_cluster_tasks_start_time_idx')).toContain('(start_time)');
    expect(defs.get('logical_cluster_tasks_running_idx')).toContain('WHERE is_running');
    expect(defs.get('export_cluster_runs_success_idx')).toMatch(/\(cluster_id, finished_at DESC\) WHERE \(status = 'succeeded'::text\)/);
    expect(defs.get('export_runs_run_group_idx')).toContain('(run_group_id, shard_index, run_id)');
  });

  it('serve a dashboard\'s cluster + time range filter', async () => {
    const client = await db.pool.connect();
    try {
      await client.query('SET enable_seqscan = off');
      const plan = await client.query<{ 'QUERY PLAN': string }>(
        `EXPLAIN SELECT count(*) FROM dws.logical_cluster_tasks
          WHERE cluster_id = 'c1-0000' AND start_time >= '2026-03-01' AND start_time < '2026-03-02'`,
      );
      expect(plan.rows.map((r) => r['QUERY PLAN']).join('\n')).toMatch(/Index (Only )?Scan using logical_cluster_tasks_(cluster_start|natural_key|start_time)/);
    } finally {
      await client.query('RESET enable_seqscan');
      client.release();
    }
  });
});

describe('shard assignment in SQL', () => {
  it('matches the exporter\'s, so an operator can see which pod owns a cluster', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => `${String(i).padStart(8, '0')}-47b3-4d00-a1fd-4c023d34404b`);
    for (const count of [2, 3, 7]) {
      const result = await db.pool.query<{ cluster_id: string; shard: string }>(
        `SELECT cluster_id, ${SHARD_SQL} AS shard FROM unnest($2::text[]) AS cluster_id`,
        [count, ids],
      );
      expect(result.rows.map((r) => Number(r.shard))).toEqual(ids.map((id) => shardOf(id, count)));
    }
  });
});
