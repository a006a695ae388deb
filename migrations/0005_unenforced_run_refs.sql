-- first_run_id / last_run_id keep pointing at dws.export_runs, but the
-- database no longer enforces it. Each inserted task row checked (and
-- key-share locked) the same export_runs row twice: measured on PostgreSQL 15,
-- the two foreign keys were 35–40 % of the nightly load's database time
-- (bench/README.md). Only the exporter writes these columns, always with the
-- id of the run it has just inserted, so the check never caught anything; a
-- BI join on them works as before. Dropping a constraint takes a brief
-- ACCESS EXCLUSIVE lock and no table rewrite.

ALTER TABLE dws.logical_cluster_tasks
    DROP CONSTRAINT IF EXISTS logical_cluster_tasks_first_run_id_fkey,
    DROP CONSTRAINT IF EXISTS logical_cluster_tasks_last_run_id_fkey;

COMMENT ON COLUMN dws.logical_cluster_tasks.first_run_id IS
    'Run that first stored this task (dws.export_runs.run_id; written by the exporter, not enforced by a foreign key).';
COMMENT ON COLUMN dws.logical_cluster_tasks.last_run_id IS
    'Run that last wrote this task, insert or change (dws.export_runs.run_id; written by the exporter, not enforced by a foreign key).';
