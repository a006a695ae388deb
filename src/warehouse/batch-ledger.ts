/**
 * A batch's counters, per cluster, and their way into the ledger: added to
 * the clusters' dws.export_cluster_runs rows in the batch's own transaction,
 * so the ledger never claims rows that were rolled back.
 */
import type pg from 'pg';
import { columnArrays, sumsBy } from './column-arrays.js';

export interface ClusterBatchCounts {
  readonly clusterId: string;
  readonly fetched: number;
  readonly flagged: number;
  readonly inserted: number;
  readonly updated: number;
  readonly unchanged: number;
}

/** What the merge statement returns: per cluster, the rows it inserted and updated. */
export interface WrittenRow {
  readonly cluster_id: string;
  readonly inserted: number;
  readonly updated: number;
}

/**
 * A batch's ledger counters from what its pages counted (`fetched`,
 * `flagged`) and what the merge wrote: every fetched task not inserted or
 * updated was unchanged (whether it travelled to the database or not).
 */
export function batchCounts(
  pages: readonly { readonly clusterId: string; readonly fetched: number; readonly flagged: number }[],
  written: readonly WrittenRow[],
): ClusterBatchCounts[] {
  const writes = sumsBy(written, (w) => w.cluster_id, ['inserted', 'updated']);
  const listed = sumsBy(pages, (p) => p.clusterId, ['fetched', 'flagged']);
  return [...listed].map(([clusterId, { fetched, flagged }]) => {
    const { inserted, updated } = writes.get(clusterId) ?? { inserted: 0, updated: 0 };
    return { clusterId, fetched, flagged, inserted, updated, unchanged: fetched - inserted - updated };
  });
}

// Batches in flight share clusters. Their ledger rows are locked in cluster
// order (no deadlock) and only after the merge, just before COMMIT, so one
// batch waits for another only for that moment, not for its whole merge.
const LOCK_LEDGER_ROWS_SQL = `
SELECT cluster_id
  FROM dws.export_cluster_runs
 WHERE run_id = $1 AND cluster_id = ANY ($2::text[])
 ORDER BY cluster_id
   FOR UPDATE`;

const ADD_LEDGER_COUNTS_SQL = `
UPDATE dws.export_cluster_runs l
   SET tasks_fetched  = l.tasks_fetched  + c.fetched,
       rows_inserted  = l.rows_inserted  + c.inserted,
       rows_updated   = l.rows_updated   + c.updated,
       rows_unchanged = l.rows_unchanged + c.unchanged,
       rows_flagged   = l.rows_flagged   + c.flagged
  FROM unnest($2::text[], $3::int[], $4::int[], $5::int[], $6::int[], $7::int[])
       AS c (cluster_id, fetched, flagged, inserted, updated, unchanged)
 WHERE l.run_id = $1 AND l.cluster_id = c.cluster_id`;

/** Adds a merged batch's counters to its clusters' ledger rows; inside the batch's transaction. */
export async function addBatchCounts(client: pg.ClientBase, runId: number, counts: readonly ClusterBatchCounts[]): Promise<void> {
  if (counts.length === 0) return;
  await client.query(LOCK_LEDGER_ROWS_SQL, [runId, counts.map((c) => c.clusterId)]);
  await client.query(ADD_LEDGER_COUNTS_SQL, [runId, ...columnArrays(counts, ['clusterId', 'fetched', 'flagged', 'inserted', 'updated', 'unchanged'])]);
}
