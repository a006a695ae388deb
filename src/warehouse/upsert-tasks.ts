/**
 * The fallback load path, for databases where the job may not create
 * temporary tables (so COPY has nowhere to stage), and the faster one for
 * tiny batches: the same merge statement fed by unnest() of parameter arrays.
 */
import type pg from 'pg';
import type { TaskRow } from '../transform/task-row.js';
import { mergeTasksSql, readBatchCounts, type BatchCountsRow, type ClusterBatchCounts } from './merge-tasks-sql.js';

export const UNNEST_MERGE_SQL = mergeTasksSql(`
    SELECT u.project_id, u.cluster_id, u.logical_cluster_name, u.task_type, u.start_time_raw,
           u.start_time, u.end_time_raw, u.end_time, u.duration_seconds, u.is_running,
           u.result, u.log,
           CASE WHEN u.parse_issues = '' THEN '{}'::text[] ELSE string_to_array(u.parse_issues, ',') END AS parse_issues,
           u.extra::jsonb AS extra
      FROM unnest(
          $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
          $7::timestamptz[], $8::text[], $9::timestamptz[], $10::float8[], $11::boolean[],
          $12::text[], $13::text[], $14::text[], $15::text[]
      ) AS u(project_id, cluster_id, logical_cluster_name, task_type, start_time_raw,
             start_time, end_time_raw, end_time, duration_seconds, is_running,
             result, log, parse_issues, extra)`);

/** Inside the caller's transaction. */
export async function unnestAndMerge(
  client: pg.ClientBase,
  rows: readonly TaskRow[],
  runId: number,
): Promise<ClusterBatchCounts[]> {
  const result = await client.query<BatchCountsRow>(UNNEST_MERGE_SQL, [
    runId,
    rows.map((r) => r.projectId),
    rows.map((r) => r.clusterId),
    rows.map((r) => r.logicalClusterName),
    rows.map((r) => r.taskType),
    rows.map((r) => r.startTimeRaw),
    rows.map((r) => r.startTime?.toISOString() ?? null),
    rows.map((r) => r.endTimeRaw),
    rows.map((r) => r.endTime?.toISOString() ?? null),
    rows.map((r) => r.durationSeconds),
    rows.map((r) => r.isRunning),
    rows.map((r) => r.result),
    rows.map((r) => r.log),
    rows.map((r) => r.issues.join(',')),
    rows.map((r) => (r.extra === null ? null : JSON.stringify(r.extra))),
  ]);
  return readBatchCounts(result.rows);
}
