-- The warehouse: one row per DWS logical-cluster task, and the run ledger
-- that says what each export did. Read by BI tools; every column is commented.

CREATE TABLE dws.export_runs (
    run_id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at        timestamptz NOT NULL DEFAULT now(),
    finished_at       timestamptz,
    status            text        NOT NULL DEFAULT 'running'
                      CHECK (status IN ('running', 'succeeded', 'partial', 'failed', 'interrupted', 'abandoned')),
    clusters_total    integer     NOT NULL DEFAULT 0,
    clusters_ok       integer     NOT NULL DEFAULT 0,
    clusters_incomplete integer   NOT NULL DEFAULT 0,
    clusters_failed   integer     NOT NULL DEFAULT 0,
    tasks_fetched     bigint      NOT NULL DEFAULT 0,
    rows_inserted     bigint      NOT NULL DEFAULT 0,
    rows_updated      bigint      NOT NULL DEFAULT 0,
    rows_unchanged    bigint      NOT NULL DEFAULT 0,
    api_requests      bigint      NOT NULL DEFAULT 0,
    api_retries       bigint      NOT NULL DEFAULT 0,
    error_code        text,
    error_message     text,
    exporter_version  text        NOT NULL,
    hostname          text        NOT NULL,
    source_time_zone  text        NOT NULL
);

COMMENT ON TABLE dws.export_runs IS
    'One row per exporter run (dws-task-exporter run/demo): when it ran, how it ended, and totals over its clusters.';
COMMENT ON COLUMN dws.export_runs.run_id IS 'Run identifier; referenced by export_cluster_runs and logical_cluster_tasks.';
COMMENT ON COLUMN dws.export_runs.started_at IS 'When the run started.';
COMMENT ON COLUMN dws.export_runs.finished_at IS 'When the run ended; null while running (or if the process died).';
COMMENT ON COLUMN dws.export_runs.status IS
    'running; succeeded (every cluster complete); partial (some clusters failed or incomplete, others exported); failed (nothing exported); interrupted (stopped by a signal); abandoned (left running by a crashed process).';
COMMENT ON COLUMN dws.export_runs.clusters_total IS 'Clusters the run set out to export.';
COMMENT ON COLUMN dws.export_runs.clusters_ok IS 'Clusters whose tasks were all exported (distinct tasks fetched = API count).';
COMMENT ON COLUMN dws.export_runs.clusters_incomplete IS 'Clusters exported without error but with fewer or more distinct tasks than the API count; their rows are stored.';
COMMENT ON COLUMN dws.export_runs.clusters_failed IS 'Clusters that ended with an error; rows fetched before the error are stored.';
COMMENT ON COLUMN dws.export_runs.tasks_fetched IS 'Distinct tasks fetched over all clusters.';
COMMENT ON COLUMN dws.export_runs.rows_inserted IS 'Task rows inserted (tasks seen for the first time).';
COMMENT ON COLUMN dws.export_runs.rows_updated IS 'Task rows updated because the task changed (e.g. a running task finished).';
COMMENT ON COLUMN dws.export_runs.rows_unchanged IS 'Tasks fetched whose stored row was already identical (not rewritten).';
COMMENT ON COLUMN dws.export_runs.api_requests IS 'DWS API requests sent, retries included.';
COMMENT ON COLUMN dws.export_runs.api_retries IS 'DWS API requests that were retries of a failed attempt (429, 5xx, network).';
COMMENT ON COLUMN dws.export_runs.error_code IS 'For a run that failed as a whole: the exporter error code (e.g. DB_ERROR).';
COMMENT ON COLUMN dws.export_runs.error_message IS 'For a run that failed as a whole: what went wrong. Never contains credentials.';
COMMENT ON COLUMN dws.export_runs.exporter_version IS 'dws-task-exporter version that ran.';
COMMENT ON COLUMN dws.export_runs.hostname IS 'Host (pod) the run ran on.';
COMMENT ON COLUMN dws.export_runs.source_time_zone IS 'Time zone the API''s zone-less start/end times were read in (config sourceTimeZone).';

CREATE TABLE dws.export_cluster_runs (
    run_id            bigint      NOT NULL REFERENCES dws.export_runs (run_id) ON DELETE CASCADE,
    project_id        text        NOT NULL,
    cluster_id        text        NOT NULL,
    status            text        NOT NULL DEFAULT 'running'
                      CHECK (status IN ('running', 'succeeded', 'incomplete', 'failed', 'interrupted', 'abandoned')),
    started_at        timestamptz NOT NULL DEFAULT now(),
    finished_at       timestamptz,
    duration_ms       integer,
    api_count         bigint,
    tasks_fetched     integer     NOT NULL DEFAULT 0,
    duplicates_skipped integer    NOT NULL DEFAULT 0,
    pages             integer     NOT NULL DEFAULT 0,
    api_requests      integer     NOT NULL DEFAULT 0,
    api_retries       integer     NOT NULL DEFAULT 0,
    offset_mode       text,
    stop_reason       text,
    rows_inserted     integer     NOT NULL DEFAULT 0,
    rows_updated      integer     NOT NULL DEFAULT 0,
    rows_unchanged    integer     NOT NULL DEFAULT 0,
    rows_flagged      integer     NOT NULL DEFAULT 0,
    error_code        text,
    error_message     text,
    http_status       integer,
    api_error_code    text,
    request_id        text,
    PRIMARY KEY (run_id, cluster_id)
);

CREATE INDEX export_cluster_runs_cluster_idx ON dws.export_cluster_runs (cluster_id, started_at DESC);

COMMENT ON TABLE dws.export_cluster_runs IS
    'One row per cluster per run: what the API reported, what was fetched and stored, and the error if the cluster failed.';
COMMENT ON COLUMN dws.export_cluster_runs.run_id IS 'The run (dws.export_runs.run_id).';
COMMENT ON COLUMN dws.export_cluster_runs.project_id IS 'Huawei Cloud project id the cluster belongs to.';
COMMENT ON COLUMN dws.export_cluster_runs.cluster_id IS 'DWS cluster id (UUID).';
COMMENT ON COLUMN dws.export_cluster_runs.status IS
    'running; succeeded (distinct tasks fetched = API count); incomplete (no error, but the numbers disagree after one re-walk; rows stored); failed (error, see error_*; rows fetched before it are stored); interrupted; abandoned.';
COMMENT ON COLUMN dws.export_cluster_runs.started_at IS 'When the exporter started on this cluster.';
COMMENT ON COLUMN dws.export_cluster_runs.finished_at IS 'When it finished with this cluster.';
COMMENT ON COLUMN dws.export_cluster_runs.duration_ms IS 'Wall time spent on this cluster, in milliseconds.';
COMMENT ON COLUMN dws.export_cluster_runs.api_count IS 'The API''s "count" (total tasks) from the last page read; null if it never sent one.';
COMMENT ON COLUMN dws.export_cluster_runs.tasks_fetched IS 'Distinct tasks fetched (by natural key).';
COMMENT ON COLUMN dws.export_cluster_runs.duplicates_skipped IS 'Tasks the API returned more than once during the walk (same natural key), counted once.';
COMMENT ON COLUMN dws.export_cluster_runs.pages IS 'Pages requested (successful responses).';
COMMENT ON COLUMN dws.export_cluster_runs.api_requests IS 'API requests for this cluster (pages, including failed ones).';
COMMENT ON COLUMN dws.export_cluster_runs.api_retries IS 'Retries after 429, 5xx or network errors.';
COMMENT ON COLUMN dws.export_cluster_runs.offset_mode IS 'How the server interpreted "offset": rows or pages (null if one page was enough to tell nothing).';
COMMENT ON COLUMN dws.export_cluster_runs.stop_reason IS 'Why paging stopped: count_reached, empty_page, no_progress (server repeated itself), page_limit.';
COMMENT ON COLUMN dws.export_cluster_runs.rows_inserted IS 'Task rows inserted for this cluster.';
COMMENT ON COLUMN dws.export_cluster_runs.rows_updated IS 'Task rows updated because the task changed.';
COMMENT ON COLUMN dws.export_cluster_runs.rows_unchanged IS 'Tasks fetched whose stored row was already identical.';
COMMENT ON COLUMN dws.export_cluster_runs.rows_flagged IS 'Tasks stored with parse issues (see logical_cluster_tasks.parse_issues).';
COMMENT ON COLUMN dws.export_cluster_runs.error_code IS 'Exporter error code: DWS_API_ERROR, DWS_AUTH_FAILED, DWS_NETWORK_ERROR, DWS_PAYLOAD_INVALID, DB_ERROR, …';
COMMENT ON COLUMN dws.export_cluster_runs.error_message IS 'What went wrong, with the request path (never credentials).';
COMMENT ON COLUMN dws.export_cluster_runs.http_status IS 'HTTP status of the failing API response, if any.';
COMMENT ON COLUMN dws.export_cluster_runs.api_error_code IS 'The API''s error_code (e.g. DWS.0015, APIG.0301), if any.';
COMMENT ON COLUMN dws.export_cluster_runs.request_id IS 'X-Request-Id of the failing API response: quote it to Huawei Cloud support.';

CREATE TABLE dws.logical_cluster_tasks (
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
    parse_issues         text[]      NOT NULL DEFAULT '{}',
    extra                jsonb,
    first_seen_at        timestamptz NOT NULL DEFAULT now(),
    last_seen_at         timestamptz NOT NULL DEFAULT now(),
    first_run_id         bigint      NOT NULL REFERENCES dws.export_runs (run_id),
    last_run_id          bigint      NOT NULL REFERENCES dws.export_runs (run_id),
    CONSTRAINT logical_cluster_tasks_natural_key
        PRIMARY KEY (cluster_id, logical_cluster_name, task_type, start_time_raw)
);

CREATE INDEX logical_cluster_tasks_start_time_idx ON dws.logical_cluster_tasks (start_time);
CREATE INDEX logical_cluster_tasks_running_idx ON dws.logical_cluster_tasks (cluster_id) WHERE is_running;

COMMENT ON TABLE dws.logical_cluster_tasks IS
    'One row per DWS logical-cluster task (GET /v2/{project_id}/clusters/{cluster_id}/logical-clusters/tasks). The API has no task id: a task is identified by (cluster_id, logical_cluster_name, task_type, start_time_raw).';
COMMENT ON COLUMN dws.logical_cluster_tasks.project_id IS 'Huawei Cloud project id of the cluster.';
COMMENT ON COLUMN dws.logical_cluster_tasks.cluster_id IS 'DWS cluster id (UUID). Part of the natural key.';
COMMENT ON COLUMN dws.logical_cluster_tasks.logical_cluster_name IS 'Logical cluster the task ran on (API logical_cluster_name; empty string if the API sent none). Part of the natural key.';
COMMENT ON COLUMN dws.logical_cluster_tasks.task_type IS 'Task type as the API spells it, e.g. Create, Expand, Grow, Shrink, Restart, elasticExpand (API type; empty string if none). Part of the natural key.';
COMMENT ON COLUMN dws.logical_cluster_tasks.start_time_raw IS 'start_time exactly as the API sent it (no zone marker). Part of the natural key.';
COMMENT ON COLUMN dws.logical_cluster_tasks.start_time IS 'start_time_raw read in the configured source time zone; null if it could not be parsed (see parse_issues).';
COMMENT ON COLUMN dws.logical_cluster_tasks.end_time_raw IS 'end_time exactly as the API sent it; null or empty while the task runs.';
COMMENT ON COLUMN dws.logical_cluster_tasks.end_time IS 'end_time_raw read in the configured source time zone; null while running or if unparsable.';
COMMENT ON COLUMN dws.logical_cluster_tasks.duration_seconds IS 'end_time - start_time in seconds; null while running, if a time is unparsable, or if end is before start.';
COMMENT ON COLUMN dws.logical_cluster_tasks.is_running IS 'True while the API reports no end_time.';
COMMENT ON COLUMN dws.logical_cluster_tasks.result IS 'Task result as the API sent it: success, failed, or empty while running (open set).';
COMMENT ON COLUMN dws.logical_cluster_tasks.log IS 'Task log text as the API sent it. A NUL character (which PostgreSQL cannot store) is stored as the six characters \u0000 and flagged in parse_issues.';
COMMENT ON COLUMN dws.logical_cluster_tasks.parse_issues IS 'What could not be read as documented, e.g. start_time_unparsable, end_before_start, log_not_string, log_nul_escaped, type_missing. Empty when the task was clean.';
COMMENT ON COLUMN dws.logical_cluster_tasks.extra IS 'Fields the API sent beyond the documented six, kept verbatim; null when none.';
COMMENT ON COLUMN dws.logical_cluster_tasks.first_seen_at IS 'When the exporter first stored this task.';
COMMENT ON COLUMN dws.logical_cluster_tasks.last_seen_at IS 'When the exporter last wrote this task (first insert or last change). Unchanged tasks are not rewritten; a cluster''s latest complete export is in dws.export_cluster_runs.';
COMMENT ON COLUMN dws.logical_cluster_tasks.first_run_id IS 'Run that first stored this task.';
COMMENT ON COLUMN dws.logical_cluster_tasks.last_run_id IS 'Run that last wrote this task (insert or change).';
