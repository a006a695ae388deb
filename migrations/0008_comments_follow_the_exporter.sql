-- Comments only (no lock beyond a catalog update, no data touched): what
-- BI tools show for these columns now says what the exporter writes since
-- the endpoint breaker, the run story and the time shapes.

COMMENT ON COLUMN dws.export_runs.clusters_failed IS
    'Clusters that ended with an error (status failed); rows fetched before the error are stored. Interrupted, never-started and abandoned clusters are clusters_total - clusters_ok - clusters_incomplete - clusters_failed.';
COMMENT ON COLUMN dws.export_runs.error_code IS
    'ABANDONED for a run its process never closed (it died; a later run closed it); null for a run that closed itself, whatever its status (the clusters carry their own error codes).';
COMMENT ON COLUMN dws.export_runs.error_message IS
    'For an abandoned run: what happened. Never contains credentials.';

COMMENT ON COLUMN dws.export_cluster_runs.stop_reason IS
    'Why paging stopped: count_reached, empty_page, no_progress (the server repeated itself), page_limit, interrupted (a shutdown).';
COMMENT ON COLUMN dws.export_cluster_runs.error_code IS
    'Exporter error code: DWS_API_ERROR, DWS_AUTH_FAILED, DWS_NETWORK_ERROR, DWS_ENDPOINT_UNREACHABLE (the endpoint breaker stopped calling its endpoint), DWS_PAYLOAD_INVALID, DB_ERROR; INTERRUPTED or NOT_STARTED (status interrupted: cut short, or never started, by a shutdown); ABANDONED (the process died); INTERNAL (a bug).';

COMMENT ON COLUMN dws.logical_cluster_tasks.start_time_raw IS
    'start_time exactly as the API sent it (documented without a zone; fractions and an offset are kept as sent). Part of the natural key; collation "C" (byte order).';
COMMENT ON COLUMN dws.logical_cluster_tasks.start_time IS
    'start_time_raw as an instant: read in the configured source time zone unless it carries its own offset; to the microsecond; null if it could not be parsed (see parse_issues).';
COMMENT ON COLUMN dws.logical_cluster_tasks.end_time IS
    'end_time_raw as an instant, read like start_time; null while running or if unparsable.';

COMMENT ON COLUMN dws.v_export_health.last_error_code IS
    'Its exporter error code (DWS_API_ERROR, DWS_AUTH_FAILED, DWS_ENDPOINT_UNREACHABLE, DB_ERROR, ...); null for incomplete.';
COMMENT ON COLUMN dws.v_run_groups.clusters_failed IS
    'Clusters that failed (status failed) in the shards'' latest runs; interrupted and never-started ones are counted in neither clusters_ok nor clusters_failed.';
