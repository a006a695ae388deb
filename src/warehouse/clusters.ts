/**
 * dws.clusters, the cluster dimension: one statement upserts what a run's
 * plan saw. A cluster configured by id (not listed) keeps the name and status
 * it was last listed with, so switching a project from "all" to explicit ids
 * never blanks the names BI users see.
 */
import type pg from 'pg';
import { DbError } from '../core/errors.js';
import { columnArrays } from './column-arrays.js';
import type { InventoryEntry } from '../plan/plan-clusters.js';
import type { ListedCluster } from '../plan/cluster-ref.js';

export async function recordClusters(pool: pg.Pool, entries: readonly InventoryEntry[]): Promise<void> {
  // ON CONFLICT cannot touch one row twice in a statement: first entry wins.
  const byId = new Map<string, InventoryEntry>();
  for (const entry of entries) if (!byId.has(entry.clusterId)) byId.set(entry.clusterId, entry);
  // Key order: two runs recording overlapping clusters lock rows in the same order, so cannot deadlock.
  const rows = [...byId.values()].sort((a, b) => (a.clusterId < b.clusterId ? -1 : a.clusterId > b.clusterId ? 1 : 0));
  if (rows.length === 0) return;
  await pool
    .query(
    `INSERT INTO dws.clusters AS c (cluster_id, cluster_name, project_id, region, status, skip_reason, last_listed_at)
     SELECT id, name, project, region, status, skip_reason, CASE WHEN listed THEN now() END
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::boolean[])
            AS t(id, name, project, region, status, skip_reason, listed)
     ON CONFLICT (cluster_id) DO UPDATE SET
       cluster_name   = CASE WHEN EXCLUDED.last_listed_at IS NULL THEN c.cluster_name ELSE EXCLUDED.cluster_name END,
       status         = CASE WHEN EXCLUDED.last_listed_at IS NULL THEN c.status ELSE EXCLUDED.status END,
       last_listed_at = coalesce(EXCLUDED.last_listed_at, c.last_listed_at),
       project_id     = EXCLUDED.project_id,
       region         = coalesce(EXCLUDED.region, c.region),
       skip_reason    = EXCLUDED.skip_reason,
       last_seen_at   = now()`,
    columnArrays(rows, ['clusterId', 'name', 'projectId', 'region', 'status', 'skipReason', 'listed']),
    )
    .catch((error: unknown) => {
      throw new DbError('cannot record the clusters in dws.clusters', error);
    });
}

/** The clusters of a project as its list was last read: the plan's fallback when the list cannot be read now. */
export async function lastListedClusters(pool: pg.Pool, projectId: string): Promise<ListedCluster[]> {
  const result = await pool
    .query<{ cluster_id: string; cluster_name: string | null; status: string | null }>(
    `SELECT cluster_id, cluster_name, status FROM dws.clusters
      WHERE project_id = $1
        AND last_listed_at = (SELECT max(last_listed_at) FROM dws.clusters WHERE project_id = $1)
      ORDER BY cluster_name, cluster_id`,
    [projectId],
    )
    .catch((error: unknown) => {
      throw new DbError(`cannot read the last cluster list of project ${projectId} from dws.clusters`, error);
    });
  return result.rows.map((r) => ({ id: r.cluster_id, name: r.cluster_name, status: r.status }));
}
