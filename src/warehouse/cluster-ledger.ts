/**
 * One run's per-cluster reads and writes, coalesced (coalesce.ts): clusters
 * that start or finish while a statement is on its way share the next one,
 * so a fleet of tiny clusters costs a statement and a commit per many
 * clusters, not three per cluster.
 */
import type pg from 'pg';
import type { ClusterRef } from '../plan/cluster-ref.js';
import type { StoredTasks } from '../transform/task-identity.js';
import { Coalescer } from './coalesce.js';
import { finishClusterRuns, START_CLUSTER_RUNS_SQL, type FinishedClusterRun } from './ledger.js';
import { storedTasksOf, storedTasksSql } from './stored-tasks.js';

type Started = Pick<ClusterRef, 'projectId' | 'clusterId'>;
type Finished = { readonly clusterId: string; readonly outcome: FinishedClusterRun };

// One round trip opens clusters: their ledger rows, and what is stored of them.
const OPEN_CLUSTERS_SQL = `WITH started AS (${START_CLUSTER_RUNS_SQL})${storedTasksSql('$3::text[]')}`;

export class ClusterLedger {
  private readonly opens: Coalescer<Started, StoredTasks>;
  private readonly finishes: Coalescer<Finished, void>;

  constructor(pool: pg.Pool, runId: number) {
    // Large clusters' stored tasks are big: at most 50 clusters per statement.
    this.opens = new Coalescer(async (clusters) => {
      const ids = clusters.map((c) => c.clusterId);
      const result = await pool.query<[string, string]>({
        text: OPEN_CLUSTERS_SQL,
        values: [runId, clusters.map((c) => c.projectId), ids],
        rowMode: 'array',
      });
      return storedTasksOf(pool, ids, result.rows);
    }, 50);
    this.finishes = new Coalescer(async (finished) => {
      await finishClusterRuns(pool, runId, finished);
      return finished.map(() => undefined);
    });
  }

  /** The cluster's ledger row, `running` (idempotent), and what is stored of it, for the identity rule. */
  open(cluster: Started): Promise<StoredTasks> {
    return this.opens.request(cluster);
  }

  /** The cluster's ledger row closed with its outcome. */
  finish(clusterId: string, outcome: FinishedClusterRun): Promise<void> {
    return this.finishes.request({ clusterId, outcome });
  }
}
