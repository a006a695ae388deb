/**
 * The fallback load path, for databases where the job may not create
 * temporary tables (so COPY has nowhere to stage), and the faster one for
 * tiny batches: the same merge statement fed by unnest() of parameter arrays.
 * Every column travels as text and is cast in SQL, so a value goes through
 * the same input conversion as on the COPY path.
 */
import type pg from 'pg';
import { decodeCopyText } from './copy-text.js';
import { mergeTasksSql, readBatchCounts, type BatchCountsRow, type ClusterBatchCounts } from './merge-tasks-sql.js';

export const UNNEST_MERGE_SQL = mergeTasksSql(`
    SELECT u.project_id, u.cluster_id, u.logical_cluster_name, u.task_type, u.start_time_raw,
           u.start_time::timestamptz AS start_time, u.end_time_raw, u.end_time::timestamptz AS end_time,
           u.duration_seconds::float8 AS duration_seconds, u.is_running::boolean AS is_running,
           u.result, u.log, u.parse_issues::text[] AS parse_issues, u.extra::jsonb AS extra
      FROM unnest(
          $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
          $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[]
      ) AS u(project_id, cluster_id, logical_cluster_name, task_type, start_time_raw,
             start_time, end_time_raw, end_time, duration_seconds, is_running,
             result, log, parse_issues, extra)`);

/** Inside the caller's transaction; `copyText`: the batch's rows as COPY text (copy-text.ts). */
export async function unnestAndMerge(
  client: pg.ClientBase,
  copyText: string,
  runId: number,
): Promise<ClusterBatchCounts[]> {
  const result = await client.query<BatchCountsRow>(UNNEST_MERGE_SQL, [runId, ...decodeCopyText(copyText)]);
  return readBatchCounts(result.rows);
}
