/** What dws.v_export_health says about the run's clusters, for the metrics pushed after a run. */
import type pg from 'pg';

export interface ClusterLastSuccess {
  readonly projectId: string;
  readonly clusterId: string;
  /** null: never exported completely. */
  readonly lastSuccessAt: Date | null;
}

/** From dws.v_export_health, for the given clusters (those of this run or shard). */
export async function readClusterLastSuccess(
  pool: pg.Pool,
  clusters: readonly { readonly projectId: string; readonly clusterId: string }[],
): Promise<ClusterLastSuccess[]> {
  if (clusters.length === 0) return [];
  const result = await pool.query<{ cluster_id: string; last_success_at: Date | null }>(
    'SELECT cluster_id, last_success_at FROM dws.v_export_health WHERE cluster_id = ANY($1::text[])',
    [clusters.map((c) => c.clusterId)],
  );
  const known = new Map(result.rows.map((row) => [row.cluster_id, row.last_success_at]));
  return clusters.map((c) => ({ projectId: c.projectId, clusterId: c.clusterId, lastSuccessAt: known.get(c.clusterId) ?? null }));
}
