-- Least privilege (README "Roles"). The roles themselves are cluster-wide and
-- are created once by a database administrator with docker/sql/roles.sql:
--   dws_owner   owns schema dws; the only role that runs migrations (DDL);
--   dws_writer  the nightly job: reads and writes rows, no DDL, no DELETE;
--   dws_reader  BI tools: SELECT only.
-- This migration grants on everything that exists now, and makes tables and
-- views created by later migrations (run by the same owner) inherit the
-- grants. Where the roles do not exist (a single-user install) it does
-- nothing; docker/sql/roles.sql does the same grants when run later.

DO $$
BEGIN
    IF to_regrole('dws_writer') IS NOT NULL THEN
        GRANT USAGE ON SCHEMA dws TO dws_writer;
        GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA dws TO dws_writer;
        GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA dws TO dws_writer;
        ALTER DEFAULT PRIVILEGES IN SCHEMA dws GRANT SELECT, INSERT, UPDATE ON TABLES TO dws_writer;
        ALTER DEFAULT PRIVILEGES IN SCHEMA dws GRANT USAGE, SELECT ON SEQUENCES TO dws_writer;
    END IF;
    IF to_regrole('dws_reader') IS NOT NULL THEN
        GRANT USAGE ON SCHEMA dws TO dws_reader;
        GRANT SELECT ON ALL TABLES IN SCHEMA dws TO dws_reader;
        ALTER DEFAULT PRIVILEGES IN SCHEMA dws GRANT SELECT ON TABLES TO dws_reader;
    END IF;
END
$$;
