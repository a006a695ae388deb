-- Two tasks may share the natural key (same cluster, logical cluster, type and
-- start time: a command retried at once, a double submit). Until now the
-- second was dropped and its cluster reported incomplete every night. A task
-- is now its natural key plus an occurrence number; existing rows become
-- occurrence 1. row_fingerprint lets an export tell an unchanged task from
-- the listing alone; existing rows get theirs from the next export that sees
-- them (rewritten once, counted as unchanged).
--
-- Locks and cost: ADD COLUMN with a constant default rewrites nothing. The
-- primary key is rebuilt with the new column: one scan of the table and an
-- index build, under an ACCESS EXCLUSIVE lock (BI queries on the table wait;
-- roughly 2-4 s per million rows). No row is changed or lost.

ALTER TABLE dws.logical_cluster_tasks
    ADD COLUMN occurrence      integer NOT NULL DEFAULT 1,
    ADD COLUMN row_fingerprint bigint;

ALTER TABLE dws.logical_cluster_tasks
    DROP CONSTRAINT logical_cluster_tasks_natural_key,
    ADD CONSTRAINT logical_cluster_tasks_natural_key
        PRIMARY KEY (cluster_id, logical_cluster_name, task_type, start_time_raw, occurrence);

COMMENT ON TABLE dws.logical_cluster_tasks IS
    'One row per DWS logical-cluster task (GET /v2/{project_id}/clusters/{cluster_id}/logical-clusters/tasks). The API has no task id: a task is identified by (cluster_id, logical_cluster_name, task_type, start_time_raw, occurrence), where occurrence tells apart tasks that share the first four.';
COMMENT ON CONSTRAINT logical_cluster_tasks_natural_key ON dws.logical_cluster_tasks IS
    'A task''s identity: its natural key (cluster, logical cluster, type, start time as sent) and its occurrence among the tasks sharing that key.';
COMMENT ON COLUMN dws.logical_cluster_tasks.occurrence IS
    'Tells apart tasks the API lists with the same cluster_id, logical_cluster_name, task_type and start_time_raw (a command retried at once, a double submit): 1 for the first such task stored, 2 for the next, and so on. A task keeps its number on later exports: it is matched to the stored task with identical content, else to one of its key whose content changed (a running task that finished), else it gets the next number. Part of the task''s identity; almost always 1.';
COMMENT ON COLUMN dws.logical_cluster_tasks.row_fingerprint IS
    'Hash (53 bits) of the task''s columns as the exporter last wrote them, so a later export can skip a task that did not change. Null for rows written before migration 0006 until an export sees the task again. Internal: not for reporting.';
COMMENT ON COLUMN dws.export_cluster_runs.tasks_fetched IS 'Distinct tasks fetched (by natural key and occurrence).';
COMMENT ON COLUMN dws.export_cluster_runs.duplicates_skipped IS
    'Entries the API returned more than once during the walk (the same task on two pages, or re-read by a second walk), counted once. Two entries with the same natural key on one page are two tasks, never duplicates.';
