-- The cluster dimension: one row per DWS cluster the exporter has seen, so
-- dashboards can show cluster names, projects and regions instead of UUIDs.
-- Join: dws.logical_cluster_tasks.cluster_id = dws.clusters.cluster_id.

CREATE TABLE dws.clusters (
    cluster_id      text        PRIMARY KEY,
    cluster_name    text,
    project_id      text        NOT NULL,
    region          text,
    status          text,
    skip_reason     text,
    first_seen_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at    timestamptz NOT NULL DEFAULT now(),
    last_listed_at  timestamptz
);

CREATE INDEX clusters_project_idx ON dws.clusters (project_id);

COMMENT ON TABLE dws.clusters IS
    'One row per DWS cluster the exporter has planned or listed (GET /v1.0/{project_id}/clusters): its name, project, region and status. Join logical_cluster_tasks and export_cluster_runs on cluster_id to show names instead of ids. Rows are never deleted: a cluster that is gone keeps its last_seen_at.';
COMMENT ON COLUMN dws.clusters.cluster_id IS 'DWS cluster id (UUID), as in logical_cluster_tasks.cluster_id.';
COMMENT ON COLUMN dws.clusters.cluster_name IS 'Cluster name from the cluster list; null if the cluster was only ever configured by id (config "clusters": [ids] does not list clusters).';
COMMENT ON COLUMN dws.clusters.project_id IS 'Huawei Cloud project id the cluster belongs to.';
COMMENT ON COLUMN dws.clusters.region IS 'Region of the project, e.g. cn-north-4 (config "region", or read from an official endpoint); null if unknown.';
COMMENT ON COLUMN dws.clusters.status IS 'Cluster status from the cluster list when last listed, e.g. ACTIVE, AVAILABLE, CREATING, DELETING, FROZEN (open set); null if never listed.';
COMMENT ON COLUMN dws.clusters.skip_reason IS 'Null when the latest run planned to export the cluster; otherwise why not: status CREATING or DELETING, excluded by an "exclude" entry, not in "include".';
COMMENT ON COLUMN dws.clusters.first_seen_at IS 'When a run first planned or listed the cluster.';
COMMENT ON COLUMN dws.clusters.last_seen_at IS 'When a run last planned or listed the cluster; clusters no longer listed (deleted) keep their last value.';
COMMENT ON COLUMN dws.clusters.last_listed_at IS 'When the cluster list last contained the cluster (name and status are from then); null if it was only ever configured by id.';
