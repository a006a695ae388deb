-- Run groups (shards of one scheduled run), and the BI layer: views for
-- dashboards and the indexes their typical filters (time range, cluster) need.
-- Views compute in the session's TimeZone where they speak of days: BI tools
-- set it per connection (SET TIME ZONE 'Asia/Shanghai').

ALTER TABLE dws.export_runs
    ADD COLUMN run_group_id text,
    ADD COLUMN shard_index  integer NOT NULL DEFAULT 0,
    ADD COLUMN shard_count  integer NOT NULL DEFAULT 1,
    ADD CONSTRAINT export_runs_shard_check CHECK (shard_count >= 1 AND shard_index >= 0 AND shard_index < shard_count);

COMMENT ON COLUMN dws.export_runs.run_group_id IS
    'Ties together the runs of one scheduled export: the shards of an Indexed Job (and their retries) share it. From --run-group or DWS_EXPORTER_RUN_GROUP (the Kubernetes Job name in the shipped manifests); a random UUID when neither is set. Null for runs before migration 0003.';
COMMENT ON COLUMN dws.export_runs.shard_index IS 'Which shard this run exported (0-based, --shard-index or JOB_COMPLETION_INDEX); 0 when not sharded.';
COMMENT ON COLUMN dws.export_runs.shard_count IS 'Shards in the run group (--shard-count); 1 when not sharded.';

CREATE INDEX export_runs_run_group_idx ON dws.export_runs (run_group_id, shard_index, run_id) WHERE run_group_id IS NOT NULL;
-- v_task_daily and dashboards: one cluster over a time range.
CREATE INDEX logical_cluster_tasks_cluster_start_idx ON dws.logical_cluster_tasks (cluster_id, start_time);
-- v_export_health: a cluster's latest successful export.
CREATE INDEX export_cluster_runs_success_idx ON dws.export_cluster_runs (cluster_id, finished_at DESC) WHERE status = 'succeeded';

-- Per day x cluster x logical cluster x task type.
CREATE VIEW dws.v_task_daily AS
SELECT d.day, d.project_id, d.cluster_id, k.cluster_name, d.logical_cluster_name, d.task_type,
       d.tasks, d.running, d.succeeded, d.failed, d.success_rate,
       d.p50_duration_seconds, d.p95_duration_seconds, d.max_duration_seconds
  FROM (
SELECT (t.start_time)::date                                         AS day,
       t.project_id,
       t.cluster_id,
       t.logical_cluster_name,
       t.task_type,
       count(*)                                                     AS tasks,
       count(*) FILTER (WHERE t.is_running)                         AS running,
       count(*) FILTER (WHERE NOT t.is_running AND lower(t.result) = 'success') AS succeeded,
       count(*) FILTER (WHERE NOT t.is_running AND lower(t.result) = 'failed')  AS failed,
       round(
           (count(*) FILTER (WHERE NOT t.is_running AND lower(t.result) = 'success'))::numeric
           / nullif(count(*) FILTER (WHERE NOT t.is_running AND lower(t.result) IN ('success', 'failed')), 0),
           4)                                                       AS success_rate,
       percentile_cont(0.5)  WITHIN GROUP (ORDER BY t.duration_seconds) AS p50_duration_seconds,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY t.duration_seconds) AS p95_duration_seconds,
       max(t.duration_seconds)                                      AS max_duration_seconds
  FROM dws.logical_cluster_tasks t
 WHERE t.start_time IS NOT NULL
 GROUP BY 1, t.project_id, t.cluster_id, t.logical_cluster_name, t.task_type
       ) d
  LEFT JOIN dws.clusters k ON k.cluster_id = d.cluster_id;

COMMENT ON VIEW dws.v_task_daily IS
    'Tasks per day (of start_time, in the session TimeZone) x cluster x logical cluster x task type: counts, failures, success rate and duration percentiles. Tasks whose start_time could not be parsed are left out (see logical_cluster_tasks.parse_issues).';
COMMENT ON COLUMN dws.v_task_daily.day IS 'Calendar day of start_time in the session TimeZone (SET TIME ZONE to choose it).';
COMMENT ON COLUMN dws.v_task_daily.project_id IS 'Huawei Cloud project id of the cluster.';
COMMENT ON COLUMN dws.v_task_daily.cluster_id IS 'DWS cluster id.';
COMMENT ON COLUMN dws.v_task_daily.cluster_name IS 'Cluster name from dws.clusters; null if the cluster was never listed.';
COMMENT ON COLUMN dws.v_task_daily.logical_cluster_name IS 'Logical cluster (empty string if the API sent none).';
COMMENT ON COLUMN dws.v_task_daily.task_type IS 'Task type as the API spells it (Expand, Grow, Shrink, ...).';
COMMENT ON COLUMN dws.v_task_daily.tasks IS 'Tasks that started that day, running or finished.';
COMMENT ON COLUMN dws.v_task_daily.running IS 'Of those, tasks still running at the last export.';
COMMENT ON COLUMN dws.v_task_daily.succeeded IS 'Finished tasks whose result is success (case-insensitive).';
COMMENT ON COLUMN dws.v_task_daily.failed IS 'Finished tasks whose result is failed (case-insensitive).';
COMMENT ON COLUMN dws.v_task_daily.success_rate IS 'succeeded / (succeeded + failed), 0 to 1, 4 decimals; null when no task finished with either result. Other results count in tasks only.';
COMMENT ON COLUMN dws.v_task_daily.p50_duration_seconds IS 'Median duration in seconds of the finished tasks with a known duration (continuous percentile).';
COMMENT ON COLUMN dws.v_task_daily.p95_duration_seconds IS '95th percentile duration in seconds (continuous percentile); null when no duration is known.';
COMMENT ON COLUMN dws.v_task_daily.max_duration_seconds IS 'Longest duration in seconds; null when no duration is known.';

-- Tasks still running, longest first: stuck expansions are what operators look for.
CREATE VIEW dws.v_running_tasks AS
SELECT t.project_id,
       t.cluster_id,
       k.cluster_name,
       t.logical_cluster_name,
       t.task_type,
       t.start_time,
       t.start_time_raw,
       now() - t.start_time                                  AS running_for,
       extract(epoch FROM now() - t.start_time)::double precision AS running_seconds,
       t.first_seen_at,
       t.first_run_id,
       s.last_success_at                                     AS cluster_last_export_at,
       t.log
  FROM dws.logical_cluster_tasks t
  LEFT JOIN dws.clusters k ON k.cluster_id = t.cluster_id
  LEFT JOIN LATERAL (
        SELECT c.finished_at AS last_success_at
          FROM dws.export_cluster_runs c
         WHERE c.cluster_id = t.cluster_id AND c.status = 'succeeded'
         ORDER BY c.finished_at DESC
         LIMIT 1
  ) s ON true
 WHERE t.is_running;

COMMENT ON VIEW dws.v_running_tasks IS
    'Tasks the API reported as running (no end_time) at the last export that saw them, with how long they have been running. A task that finished since is updated by the next export; a long running_for with a recent cluster_last_export_at is a stuck task.';
COMMENT ON COLUMN dws.v_running_tasks.project_id IS 'Huawei Cloud project id of the cluster.';
COMMENT ON COLUMN dws.v_running_tasks.cluster_id IS 'DWS cluster id.';
COMMENT ON COLUMN dws.v_running_tasks.cluster_name IS 'Cluster name from dws.clusters; null if the cluster was never listed.';
COMMENT ON COLUMN dws.v_running_tasks.logical_cluster_name IS 'Logical cluster the task runs on.';
COMMENT ON COLUMN dws.v_running_tasks.task_type IS 'Task type (e.g. Expand, elasticExpand).';
COMMENT ON COLUMN dws.v_running_tasks.start_time IS 'When the task started (null if start_time_raw could not be parsed).';
COMMENT ON COLUMN dws.v_running_tasks.start_time_raw IS 'start_time exactly as the API sent it.';
COMMENT ON COLUMN dws.v_running_tasks.running_for IS 'now() - start_time, as an interval; null if the start is unknown.';
COMMENT ON COLUMN dws.v_running_tasks.running_seconds IS 'running_for in seconds, for sorting and alert thresholds.';
COMMENT ON COLUMN dws.v_running_tasks.first_seen_at IS 'When the exporter first stored this task.';
COMMENT ON COLUMN dws.v_running_tasks.first_run_id IS 'Run that first stored this task.';
COMMENT ON COLUMN dws.v_running_tasks.cluster_last_export_at IS 'When this cluster was last exported completely: the state shown is as of then. Null if never.';
COMMENT ON COLUMN dws.v_running_tasks.log IS 'Task log as the API sent it.';

-- Per cluster: is the export keeping up?
CREATE VIEW dws.v_export_health AS
WITH latest AS (
    SELECT DISTINCT ON (c.cluster_id)
           c.cluster_id, c.project_id, c.run_id, c.started_at, c.status
      FROM dws.export_cluster_runs c
     ORDER BY c.cluster_id, c.started_at DESC, c.run_id DESC
)
SELECT l.project_id,
       l.cluster_id,
       k.cluster_name,
       l.run_id                                              AS last_attempt_run_id,
       l.started_at                                          AS last_attempt_at,
       l.status                                              AS last_attempt_status,
       s.finished_at                                         AS last_success_at,
       s.run_id                                              AS last_success_run_id,
       now() - s.finished_at                                 AS staleness,
       extract(epoch FROM now() - s.finished_at)::double precision AS staleness_seconds,
       f.attempts                                            AS failures_since_success,
       e.finished_at                                         AS last_error_at,
       e.status                                              AS last_error_status,
       e.error_code                                          AS last_error_code,
       e.error_message                                       AS last_error_message,
       e.http_status                                         AS last_error_http_status,
       e.api_error_code                                      AS last_error_api_code,
       e.request_id                                          AS last_error_request_id
  FROM latest l
  LEFT JOIN dws.clusters k ON k.cluster_id = l.cluster_id
  LEFT JOIN LATERAL (
        SELECT c.run_id, c.finished_at
          FROM dws.export_cluster_runs c
         WHERE c.cluster_id = l.cluster_id AND c.status = 'succeeded'
         ORDER BY c.finished_at DESC
         LIMIT 1
  ) s ON true
  LEFT JOIN LATERAL (
        SELECT c.finished_at, c.status, c.error_code, c.error_message, c.http_status, c.api_error_code, c.request_id
          FROM dws.export_cluster_runs c
         WHERE c.cluster_id = l.cluster_id AND c.status NOT IN ('succeeded', 'running')
         ORDER BY c.started_at DESC, c.run_id DESC
         LIMIT 1
  ) e ON true
  LEFT JOIN LATERAL (
        SELECT count(*) AS attempts
          FROM dws.export_cluster_runs c
         WHERE c.cluster_id = l.cluster_id AND c.status NOT IN ('succeeded', 'running')
           AND c.started_at > coalesce(s.finished_at, '-infinity'::timestamptz)
  ) f ON true;

COMMENT ON VIEW dws.v_export_health IS
    'One row per cluster ever exported: the latest attempt, the last successful (complete) export and how stale it is, and the latest error. Alert on staleness_seconds; a cluster removed from the config keeps growing stale (filter on last_attempt_at).';
COMMENT ON COLUMN dws.v_export_health.project_id IS 'Huawei Cloud project id (of the latest attempt).';
COMMENT ON COLUMN dws.v_export_health.cluster_id IS 'DWS cluster id.';
COMMENT ON COLUMN dws.v_export_health.cluster_name IS 'Cluster name from dws.clusters; null if the cluster was never listed.';
COMMENT ON COLUMN dws.v_export_health.last_attempt_run_id IS 'Run of the latest attempt at this cluster, whatever its outcome.';
COMMENT ON COLUMN dws.v_export_health.last_attempt_at IS 'When the latest attempt started.';
COMMENT ON COLUMN dws.v_export_health.last_attempt_status IS 'Outcome of the latest attempt: running, succeeded, incomplete, failed, interrupted, abandoned.';
COMMENT ON COLUMN dws.v_export_health.last_success_at IS 'When the latest complete export of this cluster finished; null if none ever did.';
COMMENT ON COLUMN dws.v_export_health.last_success_run_id IS 'Run of that export.';
COMMENT ON COLUMN dws.v_export_health.staleness IS 'now() - last_success_at: how old the freshest complete copy of this cluster is. Null if never exported completely.';
COMMENT ON COLUMN dws.v_export_health.staleness_seconds IS 'staleness in seconds, for alert thresholds (e.g. > 93600 for a nightly job).';
COMMENT ON COLUMN dws.v_export_health.failures_since_success IS 'Attempts that did not succeed (failed, incomplete, interrupted, abandoned) since the last success (or ever, if none).';
COMMENT ON COLUMN dws.v_export_health.last_error_at IS 'When the latest unsuccessful attempt ended (null if none ever failed).';
COMMENT ON COLUMN dws.v_export_health.last_error_status IS 'Its status: failed, incomplete (no error code; counts disagreed), interrupted or abandoned.';
COMMENT ON COLUMN dws.v_export_health.last_error_code IS 'Its exporter error code (DWS_API_ERROR, DWS_AUTH_FAILED, DB_ERROR, ...); null for incomplete.';
COMMENT ON COLUMN dws.v_export_health.last_error_message IS 'Its error message (never contains credentials).';
COMMENT ON COLUMN dws.v_export_health.last_error_http_status IS 'Its HTTP status from the DWS API, if any.';
COMMENT ON COLUMN dws.v_export_health.last_error_api_code IS 'Its DWS API error code (e.g. DWS.0015), if any.';
COMMENT ON COLUMN dws.v_export_health.last_error_request_id IS 'Its X-Request-Id: quote it to Huawei Cloud support.';

-- Shards of one scheduled run, judged together (latest run of each shard).
CREATE VIEW dws.v_run_groups AS
WITH latest AS (
    SELECT DISTINCT ON (r.run_group_id, r.shard_index) r.*
      FROM dws.export_runs r
     WHERE r.run_group_id IS NOT NULL
     ORDER BY r.run_group_id, r.shard_index, r.run_id DESC
)
SELECT l.run_group_id,
       min(l.started_at)                                     AS started_at,
       CASE WHEN bool_and(l.finished_at IS NOT NULL) THEN max(l.finished_at) END AS finished_at,
       max(l.shard_count)                                    AS shard_count,
       count(*)                                              AS shards_reported,
       (SELECT count(*) FROM dws.export_runs a WHERE a.run_group_id = l.run_group_id) AS runs,
       CASE
           WHEN bool_or(l.status = 'running') THEN 'running'
           WHEN count(*) < max(l.shard_count) THEN 'missing_shards'
           WHEN bool_and(l.status = 'succeeded') THEN 'succeeded'
           WHEN bool_and(l.status IN ('failed', 'abandoned')) THEN 'failed'
           ELSE 'partial'
       END                                                   AS status,
       sum(l.clusters_total)                                 AS clusters_total,
       sum(l.clusters_ok)                                    AS clusters_ok,
       sum(l.clusters_incomplete)                            AS clusters_incomplete,
       sum(l.clusters_failed)                                AS clusters_failed,
       sum(l.rows_inserted)                                  AS rows_inserted,
       sum(l.rows_updated)                                   AS rows_updated
  FROM latest l
 GROUP BY l.run_group_id;

COMMENT ON VIEW dws.v_run_groups IS
    'One row per run group (the shards of one scheduled export), from the latest run of each shard: did every shard report, and how did they end.';
COMMENT ON COLUMN dws.v_run_groups.run_group_id IS 'The run group (export_runs.run_group_id).';
COMMENT ON COLUMN dws.v_run_groups.started_at IS 'When its first shard started.';
COMMENT ON COLUMN dws.v_run_groups.finished_at IS 'When its last shard finished; null while any shard runs (or died without closing its run).';
COMMENT ON COLUMN dws.v_run_groups.shard_count IS 'Shards the group was split into.';
COMMENT ON COLUMN dws.v_run_groups.shards_reported IS 'Distinct shards that started a run in this group.';
COMMENT ON COLUMN dws.v_run_groups.runs IS 'Runs in the group, retries of a shard included.';
COMMENT ON COLUMN dws.v_run_groups.status IS 'running; missing_shards (fewer shards reported than shard_count); succeeded (every shard''s latest run succeeded); failed (every shard failed or was abandoned); partial (anything else).';
COMMENT ON COLUMN dws.v_run_groups.clusters_total IS 'Clusters the shards set out to export (latest run of each shard).';
COMMENT ON COLUMN dws.v_run_groups.clusters_ok IS 'Clusters exported completely.';
COMMENT ON COLUMN dws.v_run_groups.clusters_incomplete IS 'Clusters exported with a count mismatch.';
COMMENT ON COLUMN dws.v_run_groups.clusters_failed IS 'Clusters that failed (or were interrupted or abandoned).';
COMMENT ON COLUMN dws.v_run_groups.rows_inserted IS 'Task rows inserted by the shards'' latest runs.';
COMMENT ON COLUMN dws.v_run_groups.rows_updated IS 'Task rows updated by the shards'' latest runs.';
