/**
 * The statements behind the HTML report, read-only. Counts by day and
 * logical cluster come from dws.v_task_daily, health from v_export_health,
 * running tasks from v_running_tasks (migrations/0003_bi_views.sql), so the
 * page and the BI dashboards agree; the rest reads the tables by start_time.
 * Parameters $1/$2 are the window's start and end (timestamptz, end exclusive).
 */

/** A task's result class, as v_task_daily counts it (result compared case-insensitively). */
const RESULT_CLASS = `CASE WHEN t.is_running THEN 'running'
            WHEN lower(t.result) = 'success' THEN 'success'
            WHEN lower(t.result) = 'failed' THEN 'failed'
            ELSE 'other' END`;

const FAILED = `NOT t.is_running AND lower(t.result) = 'failed'`;

/** Started in the window, or started before it and still running or ending inside it. */
const OVERLAPS_WINDOW = `t.start_time < $2 AND (t.start_time >= $1 OR t.end_time >= $1 OR t.is_running)`;

/** $1 explicit last day (date or null), $2 true for the day of the latest task start, $3 days. */
export const WINDOW_SQL = `
WITH latest AS (
    SELECT max(start_time) AS start_time FROM dws.logical_cluster_tasks WHERE start_time <= now()
), anchor AS (
    SELECT coalesce($1::date, CASE WHEN $2::boolean THEN (SELECT start_time FROM latest)::date END, current_date) AS last_day
)
SELECT to_char(last_day - ($3::int - 1), 'YYYY-MM-DD') AS first_day,
       to_char(last_day, 'YYYY-MM-DD')                  AS last_day,
       (last_day - ($3::int - 1))::timestamptz          AS window_start,
       (last_day + 1)::timestamptz                      AS window_end,
       now()                                            AS generated_at,
       (SELECT start_time FROM latest)                  AS latest_task_start
  FROM anchor`;

/** Clusters by latest attempt and by staleness; 93600 s (26 h) is a nightly job's alert threshold. */
export const FLEET_STATUS_SQL = `
SELECT last_attempt_status AS status,
       CASE WHEN staleness_seconds IS NULL THEN 'never complete'
            WHEN staleness_seconds < 93600 THEN 'under 26 h'
            WHEN staleness_seconds < 172800 THEN '26 h to 2 days'
            WHEN staleness_seconds < 604800 THEN '2 to 7 days'
            ELSE 'over 7 days' END AS bucket,
       count(*)::int AS clusters
  FROM dws.v_export_health
 GROUP BY 1, 2`;

/** $1 rows shown. Columns named as the model's AttentionCluster. */
export const ATTENTION_SQL = `
SELECT project_id AS "projectId", cluster_id AS "clusterId", cluster_name AS "clusterName",
       last_attempt_status AS "lastAttemptStatus", last_attempt_at AS "lastAttemptAt", last_success_at AS "lastSuccessAt",
       staleness_seconds AS "stalenessSeconds", coalesce(failures_since_success, 0)::int AS "failuresSinceSuccess",
       last_error_code AS "lastErrorCode", last_error_message AS "lastErrorMessage", count(*) OVER ()::int AS total
  FROM dws.v_export_health
 WHERE last_attempt_status <> 'succeeded' OR staleness_seconds IS NULL OR staleness_seconds >= 93600
 ORDER BY "failuresSinceSuccess" DESC, staleness_seconds DESC NULLS FIRST, cluster_id
 LIMIT $1`;

/** $1 rows shown. Columns named as the model's RunRow. */
export const LATEST_RUNS_SQL = `
SELECT run_id::float8 AS "runId", status, started_at AS "startedAt", finished_at AS "finishedAt",
       clusters_total AS "clustersTotal", clusters_ok AS "clustersOk", clusters_incomplete AS "clustersIncomplete",
       clusters_failed AS "clustersFailed", tasks_fetched::float8 AS "tasksFetched",
       rows_inserted::float8 AS "rowsInserted", rows_updated::float8 AS "rowsUpdated"
  FROM dws.export_runs
 ORDER BY run_id DESC
 LIMIT $1`;

/** $1/$2 first and last day (dates). "other" = results neither success nor failed. */
export const DAILY_SQL = `
SELECT to_char(day, 'YYYY-MM-DD') AS day, task_type,
       sum(succeeded)::int AS succeeded, sum(failed)::int AS failed, sum(running)::int AS running,
       (sum(tasks) - sum(succeeded) - sum(failed) - sum(running))::int AS other
  FROM dws.v_task_daily
 WHERE day BETWEEN $1::date AND $2::date
 GROUP BY day, task_type
 ORDER BY day, task_type`;

/** $1/$2 first and last day, $3 rows shown: most failures first. */
export const LOGICAL_CLUSTERS_SQL = `
SELECT project_id, cluster_id, max(cluster_name) AS cluster_name, logical_cluster_name,
       sum(succeeded)::int AS succeeded, sum(failed)::int AS failed, count(*) OVER ()::int AS total
  FROM dws.v_task_daily
 WHERE day BETWEEN $1::date AND $2::date
 GROUP BY project_id, cluster_id, logical_cluster_name
HAVING sum(succeeded) + sum(failed) > 0
 ORDER BY sum(failed) DESC, sum(failed)::float8 / (sum(succeeded) + sum(failed)) DESC, cluster_id, logical_cluster_name
 LIMIT $3`;

export const DURATIONS_SQL = `
SELECT t.task_type, count(*)::int AS tasks, min(t.duration_seconds) AS min,
       percentile_cont(ARRAY[0.25, 0.5, 0.75, 0.95]) WITHIN GROUP (ORDER BY t.duration_seconds) AS quartiles,
       max(t.duration_seconds) AS max
  FROM dws.logical_cluster_tasks t
 WHERE t.start_time >= $1 AND t.start_time < $2 AND NOT t.is_running AND t.duration_seconds IS NOT NULL
 GROUP BY t.task_type
 ORDER BY count(*) DESC, t.task_type`;

/** Every cluster with a task in or overlapping the window, busiest first. */
export const ACTIVE_CLUSTERS_SQL = `
SELECT t.project_id, t.cluster_id, max(k.cluster_name) AS cluster_name, count(*)::int AS tasks,
       count(*) FILTER (WHERE ${FAILED})::int AS failed,
       count(*) FILTER (WHERE t.is_running)::int AS running
  FROM dws.logical_cluster_tasks t
  LEFT JOIN dws.clusters k ON k.cluster_id = t.cluster_id
 WHERE ${OVERLAPS_WINDOW}
 GROUP BY t.project_id, t.cluster_id
 ORDER BY failed DESC, running DESC, tasks DESC, t.cluster_id`;

/** $3 cluster ids, $4 tasks per cluster: the most recent first. */
export const TIMELINE_TASKS_SQL = `
SELECT cluster_id, logical_cluster_name, task_type, start_time, end_time, result_class
  FROM (SELECT t.cluster_id, t.logical_cluster_name, t.task_type, t.start_time, t.end_time,
               ${RESULT_CLASS} AS result_class,
               row_number() OVER (PARTITION BY t.cluster_id ORDER BY t.start_time DESC) AS n
          FROM dws.logical_cluster_tasks t
         WHERE t.cluster_id = ANY($3::text[]) AND ${OVERLAPS_WINDOW}) ranked
 WHERE n <= $4
 ORDER BY cluster_id, start_time`;

/** $3 the cluster ids that have rows of their own: everything else, per day of start. */
export const OTHERS_DAILY_SQL = `
SELECT to_char(t.start_time::date, 'YYYY-MM-DD') AS day, count(*)::int AS tasks,
       count(*) FILTER (WHERE ${FAILED})::int AS failed,
       count(*) FILTER (WHERE t.is_running)::int AS running
  FROM dws.logical_cluster_tasks t
 WHERE t.start_time >= $1 AND t.start_time < $2 AND NOT (t.cluster_id = ANY($3::text[]))
 GROUP BY 1
 ORDER BY 1`;

/** $1 rows shown, $2 log characters: longest running first. */
export const RUNNING_SQL = `
SELECT project_id, cluster_id, cluster_name, logical_cluster_name, task_type, start_time, start_time_raw,
       running_seconds, cluster_last_export_at, left(log, $2) AS log, coalesce(length(log), 0)::int AS log_length,
       count(*) OVER ()::int AS total
  FROM dws.v_running_tasks
 ORDER BY running_seconds DESC NULLS LAST, cluster_id, start_time_raw
 LIMIT $1`;

/** $3 rows shown, $4 log characters: latest first. */
export const FAILURES_SQL = `
SELECT t.project_id, t.cluster_id, k.cluster_name, t.logical_cluster_name, t.task_type, t.start_time,
       t.end_time, t.duration_seconds, left(t.log, $4) AS log, coalesce(length(t.log), 0)::int AS log_length,
       count(*) OVER ()::int AS total
  FROM dws.logical_cluster_tasks t
  LEFT JOIN dws.clusters k ON k.cluster_id = t.cluster_id
 WHERE t.start_time >= $1 AND t.start_time < $2 AND ${FAILED}
 ORDER BY t.start_time DESC, t.cluster_id
 LIMIT $3`;
