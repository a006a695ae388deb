-- The task key in the "C" collation. Text keys compared under the database's
-- default collation (glibc or ICU en_US on many warehouses) cost several times
-- what a byte comparison costs, in every primary-key probe, index insert and
-- sort of the nightly load; the key is an identifier, not prose, so its order
-- only has to be consistent. After this migration the cost no longer depends
-- on how the database was created. BI queries that ORDER BY these columns now
-- get byte order (upper case before lower case); add COLLATE to sort otherwise.
--
-- Locks and cost: no table rewrite (only the collation changes, the stored
-- bytes do not); the primary key and the two indexes on cluster_id are
-- rebuilt: one scan of the table and three index builds under an ACCESS
-- EXCLUSIVE lock (roughly 3-6 s per million rows). The two views that read
-- these columns are dropped and recreated with their definitions, comments
-- and grants. A view of your own on these columns makes this migration fail
-- (PostgreSQL names it); drop it, migrate, and create it again.
--
-- Also: row_fingerprint now hashes the task as the API sent it (see below);
-- fingerprints written before are simply re-checked once.

DO $$
DECLARE
    view_names constant text[] := ARRAY['dws.v_task_daily', 'dws.v_running_tasks'];
    saved jsonb := '[]';
    v text;
    item jsonb;
    col jsonb;
    grant_row record;
BEGIN
    FOREACH v IN ARRAY view_names LOOP
        saved := saved || jsonb_build_object(
            'name', v,
            'definition', pg_get_viewdef(v::regclass),
            'comment', obj_description(v::regclass, 'pg_class'),
            'columns', (SELECT coalesce(jsonb_agg(jsonb_build_object('name', attname, 'comment', col_description(attrelid, attnum))), '[]')
                          FROM pg_attribute WHERE attrelid = v::regclass AND attnum > 0 AND NOT attisdropped),
            'grants', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                 'grantee', CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END,
                                 'privilege', a.privilege_type)), '[]')
                         FROM pg_class c, aclexplode(c.relacl) a
                        WHERE c.oid = v::regclass AND a.grantee <> c.relowner));
        EXECUTE format('DROP VIEW %s', v);
    END LOOP;

    ALTER TABLE dws.logical_cluster_tasks
        ALTER COLUMN cluster_id           TYPE text COLLATE "C",
        ALTER COLUMN logical_cluster_name TYPE text COLLATE "C",
        ALTER COLUMN task_type            TYPE text COLLATE "C",
        ALTER COLUMN start_time_raw       TYPE text COLLATE "C";

    FOR item IN SELECT * FROM jsonb_array_elements(saved) LOOP
        EXECUTE format('CREATE VIEW %s AS %s', item->>'name', item->>'definition');
        EXECUTE format('COMMENT ON VIEW %s IS %L', item->>'name', item->>'comment');
        FOR col IN SELECT * FROM jsonb_array_elements(item->'columns') LOOP
            EXECUTE format('COMMENT ON COLUMN %s.%I IS %L', item->>'name', col->>'name', col->>'comment');
        END LOOP;
        FOR grant_row IN SELECT g->>'grantee' AS grantee, g->>'privilege' AS privilege
                           FROM jsonb_array_elements(item->'grants') g LOOP
            EXECUTE format('GRANT %s ON %s TO %s', grant_row.privilege, item->>'name', grant_row.grantee);
        END LOOP;
    END LOOP;
END
$$;

COMMENT ON COLUMN dws.logical_cluster_tasks.cluster_id IS
    'DWS cluster id (UUID). Part of the natural key; collation "C" (byte order).';
COMMENT ON COLUMN dws.logical_cluster_tasks.logical_cluster_name IS
    'Logical cluster the task ran on (API logical_cluster_name; empty string if the API sent none). Part of the natural key; collation "C" (byte order).';
COMMENT ON COLUMN dws.logical_cluster_tasks.task_type IS
    'Task type as the API spells it, e.g. Create, Expand, Grow, Shrink, Restart, elasticExpand (API type; empty string if none). Part of the natural key; collation "C" (byte order).';
COMMENT ON COLUMN dws.logical_cluster_tasks.start_time_raw IS
    'start_time exactly as the API sent it (no zone marker). Part of the natural key; collation "C" (byte order).';
COMMENT ON COLUMN dws.logical_cluster_tasks.row_fingerprint IS
    'Internal: a 53-bit hash of the task as the API last listed it, seeded with what else its row depends on (project, sourceTimeZone, and how this exporter version turns tasks into rows). A later export that computes the same hash knows the stored row is current and neither rebuilds nor sends it. Null for rows stored before migration 0006 until an export sees the task again. Not for reporting.';
