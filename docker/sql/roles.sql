-- Least-privilege roles for dws-task-exporter. Run once per database by an
-- administrator (a superuser, or a role with CREATEROLE that can grant on the
-- database), before or after the first `dws-task-exporter migrate`; running
-- it again is harmless:
--
--   psql "$ADMIN_DATABASE_URL" -v ON_ERROR_STOP=1 -f docker/sql/roles.sql
--
-- Three group roles (NOLOGIN):
--   dws_owner   owns schema dws and everything in it; migrations run as it.
--   dws_writer  the nightly job: SELECT/INSERT/UPDATE on dws, no DDL, no DELETE.
--   dws_reader  BI tools: SELECT on dws (tables and views).
-- Then give people and jobs login roles that are members (see the end).

DO $$
BEGIN
    IF to_regrole('dws_owner') IS NULL THEN CREATE ROLE dws_owner NOLOGIN; END IF;
    IF to_regrole('dws_writer') IS NULL THEN CREATE ROLE dws_writer NOLOGIN; END IF;
    IF to_regrole('dws_reader') IS NULL THEN CREATE ROLE dws_reader NOLOGIN; END IF;
    -- `migrate` starts with CREATE SCHEMA IF NOT EXISTS, which PostgreSQL
    -- checks against CREATE on the database even when the schema exists.
    EXECUTE format('GRANT CONNECT, CREATE ON DATABASE %I TO dws_owner', current_database());
    EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO dws_writer', current_database());
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO dws_reader', current_database());
END
$$;

CREATE SCHEMA IF NOT EXISTS dws AUTHORIZATION dws_owner;
ALTER SCHEMA dws OWNER TO dws_owner;

-- An existing install (migrated by another role): hand its objects to dws_owner.
DO $$
DECLARE
    object record;
BEGIN
    FOR object IN
        SELECT c.relname, c.relkind
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'dws' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
           AND pg_get_userbyid(c.relowner) <> 'dws_owner'
    LOOP
        EXECUTE format(
            'ALTER %s dws.%I OWNER TO dws_owner',
            CASE object.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
            object.relname);
    END LOOP;
END
$$;

GRANT USAGE ON SCHEMA dws TO dws_writer, dws_reader;
GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA dws TO dws_writer;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA dws TO dws_writer;
GRANT SELECT ON ALL TABLES IN SCHEMA dws TO dws_reader;
-- Tables and views that later migrations create (as dws_owner) get the same grants.
ALTER DEFAULT PRIVILEGES FOR ROLE dws_owner IN SCHEMA dws GRANT SELECT, INSERT, UPDATE ON TABLES TO dws_writer;
ALTER DEFAULT PRIVILEGES FOR ROLE dws_owner IN SCHEMA dws GRANT USAGE, SELECT ON SEQUENCES TO dws_writer;
ALTER DEFAULT PRIVILEGES FOR ROLE dws_owner IN SCHEMA dws GRANT SELECT ON TABLES TO dws_reader;

-- Login roles, one per job or tool (choose your own names and passwords):
--
--   CREATE ROLE dws_migrator LOGIN PASSWORD '…' IN ROLE dws_owner;
--   CREATE ROLE dws_exporter LOGIN PASSWORD '…' IN ROLE dws_writer;
--   CREATE ROLE metabase     LOGIN PASSWORD '…' IN ROLE dws_reader;
--
-- The migrator must create objects AS dws_owner, so its URL sets the role:
--   postgres://dws_migrator:…@host:5432/analytics?options=-c%20role%3Ddws_owner
-- (or: ALTER ROLE dws_migrator SET role = 'dws_owner';)
-- The exporter runs with --no-migrate (a writer cannot apply migrations).
