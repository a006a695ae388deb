/** What dws.v_export_health says about the run's clusters, for the metrics pushed after a run. */
import type pg from 'pg';

export interface ClusterHealth {
  readonly projectId: string;
  readonly clusterId: string;
  /** null: never exported completely. */
  readonly lastSuccessAt: Date | null;
  /** Attempts that did not succeed since the last success (or ever); 0 for a cluster never attempted. */
  readonly failuresSinceSuccess: number;
}

/** From dws.v_export_health, for the given clusters (those of this run or shard). */
export async function readClusterHealth(
  pool: pg.Pool,
  clusters: readonly { readonly projectId: string; readonly clusterId: string }[],
): Promise<ClusterHealth[]> {
  if (clusters.length === 0) return [];
  const result = await pool.query<{ cluster_id: string; last_success_at: Date | null; failures_since_success: string }>(
    `SELECT cluster_id, last_success_at, failures_since_success
       FROM dws.v_export_health WHERE cluster_id = ANY($1::text[])`,
    [clusters.map((c) => c.clusterId)],
  );
  const known = new Map(result.rows.map((row) => [row.cluster_id, row]));
  return clusters.map((c) => {
    const row = known.get(c.clusterId);
    return {
      projectId: c.projectId,
      clusterId: c.clusterId,
      lastSuccessAt: row?.last_success_at ?? null,
      failuresSinceSuccess: Number(row?.failures_since_success ?? 0),
    };
  });
}
