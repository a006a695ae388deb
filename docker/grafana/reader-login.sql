-- The login Grafana's datasource uses: a member of dws_reader (docker/sql/roles.sql,
-- run first), read-only even if granted more later, with a statement timeout so one
-- heavy panel cannot hold the warehouse. Run by an administrator; running it again
-- resets the password. The login and password come from settings, not from this file:
--   PGOPTIONS='-c dws.grafana_login=grafana -c dws.grafana_password=…' psql "$ADMIN_DATABASE_URL" -v ON_ERROR_STOP=1 -f docker/grafana/reader-login.sql
DO $$
DECLARE
    login    text := coalesce(nullif(current_setting('dws.grafana_login', true), ''), 'grafana');
    password text := nullif(current_setting('dws.grafana_password', true), '');
BEGIN
    IF password IS NULL THEN
        RAISE EXCEPTION 'dws.grafana_password is not set (PGOPTIONS=''-c dws.grafana_password=…'')';
    END IF;
    IF to_regrole('dws_reader') IS NULL THEN
        RAISE EXCEPTION 'role dws_reader does not exist: run docker/sql/roles.sql first';
    END IF;
    IF to_regrole(login) IS NULL THEN
        EXECUTE format('CREATE ROLE %I LOGIN', login);
    END IF;
    EXECUTE format('ALTER ROLE %I WITH LOGIN PASSWORD %L', login, password);
    EXECUTE format('GRANT dws_reader TO %I', login);
    EXECUTE format('ALTER ROLE %I SET default_transaction_read_only = on', login);
    EXECUTE format('ALTER ROLE %I SET statement_timeout = %L', login, '60s');
END
$$;
