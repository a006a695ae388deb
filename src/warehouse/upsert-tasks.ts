/**
 * Writes a batch of task rows: one parameterised INSERT … SELECT FROM unnest
 * … ON CONFLICT DO UPDATE … WHERE IS DISTINCT FROM, so a rerun rewrites
 * nothing that did not change, and a running task that finished is updated
 * in place. Rows are sorted by key so concurrent runs lock in the same order.
 */
import type pg from 'pg';
import { naturalKey, type TaskRow } from '../transform/task-row.js';

export const UPSERT_TASKS_SQL = `
INSERT INTO dws.logical_cluster_tasks AS t (
    project_id, cluster_id, logical_cluster_name, task_type, start_time_raw,
    start_time, end_time_raw, end_time, duration_seconds, is_running,
    result, log, parse_issues, extra, first_run_id, last_run_id
)
SELECT u.project_id, u.cluster_id, u.logical_cluster_name, u.task_type, u.start_time_raw,
       u.start_time, u.end_time_raw, u.end_time, u.duration_seconds, u.is_running,
       u.result, u.log,
       CASE WHEN u.parse_issues = '' THEN '{}'::text[] ELSE string_to_array(u.parse_issues, ',') END,
       u.extra::jsonb, $15, $15
FROM unnest(
    $1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
    $6::timestamptz[], $7::text[], $8::timestamptz[], $9::float8[], $10::boolean[],
    $11::text[], $12::text[], $13::text[], $14::text[]
) AS u(project_id, cluster_id, logical_cluster_name, task_type, start_time_raw,
       start_time, end_time_raw, end_time, duration_seconds, is_running,
       result, log, parse_issues, extra)
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
       EXCLUDED.parse_issues, EXCLUDED.extra)
RETURNING (xmax = 0) AS inserted
`;

export interface UpsertCounts {
  readonly inserted: number;
  readonly updated: number;
  readonly unchanged: number;
}

/** Runs inside the caller's transaction. Rows must be unique by natural key. */
export async function upsertTasks(
  client: pg.ClientBase,
  rows: readonly TaskRow[],
  runId: number,
): Promise<UpsertCounts> {
  if (rows.length === 0) return { inserted: 0, updated: 0, unchanged: 0 };
  const sorted = [...rows].sort((a, b) => {
    const ka = `${a.clusterId}\u0000${naturalKey(a)}`;
    const kb = `${b.clusterId}\u0000${naturalKey(b)}`;
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
  const result = await client.query<{ inserted: boolean }>(UPSERT_TASKS_SQL, [
    sorted.map((r) => r.projectId),
    sorted.map((r) => r.clusterId),
    sorted.map((r) => r.logicalClusterName),
    sorted.map((r) => r.taskType),
    sorted.map((r) => r.startTimeRaw),
    sorted.map((r) => r.startTime?.toISOString() ?? null),
    sorted.map((r) => r.endTimeRaw),
    sorted.map((r) => r.endTime?.toISOString() ?? null),
    sorted.map((r) => r.durationSeconds),
    sorted.map((r) => r.isRunning),
    sorted.map((r) => r.result),
    sorted.map((r) => r.log),
    sorted.map((r) => r.issues.join(',')),
    sorted.map((r) => (r.extra === null ? null : JSON.stringify(r.extra))),
    runId,
  ]);
  const inserted = result.rows.filter((row) => row.inserted).length;
  const updated = result.rows.length - inserted;
  return { inserted, updated, unchanged: rows.length - result.rows.length };
}
