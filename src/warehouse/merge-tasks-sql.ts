/**
 * The one statement that writes a batch, whichever way the batch arrived
 * (COPY into a staging table, or unnest of parameter arrays):
 * - deduplicates by natural key and writes in key order (consistent lock
 *   order: concurrent runs cannot deadlock);
 * - skips rows stored exactly so already, reading them by primary key
 *   before the INSERT: ON CONFLICT DO UPDATE locks every conflicting row
 *   even when its WHERE then declines the update, and that lock is a write
 *   (a WAL record and a dirty page per row: 70 MB of WAL for 300,000
 *   unchanged tasks, and 5× the time);
 * - INSERT … ON CONFLICT DO UPDATE … WHERE IS DISTINCT FROM for the rest: a
 *   finished task updates in place, and a row another run stored meanwhile
 *   is still handled;
 * - returns each cluster's counters, which the writer adds to the ledger in
 *   the same transaction (addBatchCounts), so the ledger never claims rows
 *   that were rolled back.
 * `$1` is the run id; `staged` must yield the stage table's columns.
 */
import type pg from 'pg';

/**
 * INSERT … ON CONFLICT … DO UPDATE … WHERE IS DISTINCT FROM from `source`
 * (a relation with the stage table's columns), run id in `$1`. Shared with
 * the benchmark's DB bound, which must measure exactly this statement.
 */
export function upsertTasksSql(source: string): string {
  return `INSERT INTO dws.logical_cluster_tasks AS t (
    project_id, cluster_id, logical_cluster_name, task_type, start_time_raw,
    start_time, end_time_raw, end_time, duration_seconds, is_running,
    result, log, parse_issues, extra, first_run_id, last_run_id)
SELECT project_id, cluster_id, logical_cluster_name, task_type, start_time_raw,
       start_time, end_time_raw, end_time, duration_seconds, is_running,
       result, log, parse_issues, extra, $1, $1
  FROM ${source}
ON CONFLICT ON CONSTRAINT logical_cluster_tasks_natural_key DO UPDATE SET
    project_id       = EXCLUDED.project_id,
    start_time       = EXCLUDED.start_time,
    end_time_raw     = EXCLUDED.end_time_raw,
    end_time         = EXCLUDED.end_time,
    duration_seconds = EXCLUDED.duration_seconds,
    is_running       = EXCLUDED.is_running,
    result           = EXCLUDED.result,
    log              = EXCLUDED.log,
    parse_issues     = EXCLUDED.parse_issues,
    extra            = EXCLUDED.extra,
    last_seen_at     = now(),
    last_run_id      = EXCLUDED.last_run_id
WHERE ${compared('t')}
      IS DISTINCT FROM
      ${compared('EXCLUDED')}`;
}

/** The columns whose change makes a stored task row out of date. */
const COMPARED_COLUMNS = [
  'project_id', 'start_time', 'end_time_raw', 'end_time', 'duration_seconds',
  'is_running', 'result', 'log', 'parse_issues', 'extra',
] as const;

function compared(alias: string): string {
  return `(${COMPARED_COLUMNS.map((column) => `${alias}.${column}`).join(', ')})`;
}

function indent(text: string, prefix: string): string {
  return text.replace(/\n/g, `\n${prefix}`);
}

export function mergeTasksSql(staged: string): string {
  return `
WITH staged AS (
    SELECT DISTINCT ON (cluster_id, logical_cluster_name, task_type, start_time_raw) *
      FROM (${staged}) AS s
     ORDER BY cluster_id, logical_cluster_name, task_type, start_time_raw
), changed AS (
    -- LIMIT 1 keeps the lookup a per-row primary-key probe: the staging
    -- table has no statistics, and a hash join would scan the whole table.
    SELECT s.*
      FROM staged s
      LEFT JOIN LATERAL (
          SELECT ${COMPARED_COLUMNS.join(', ')}
            FROM dws.logical_cluster_tasks c
           WHERE c.cluster_id = s.cluster_id AND c.logical_cluster_name = s.logical_cluster_name
             AND c.task_type = s.task_type AND c.start_time_raw = s.start_time_raw
           LIMIT 1
      ) AS stored ON true
     WHERE stored.project_id IS NULL OR ${compared('stored')} IS DISTINCT FROM ${compared('s')}
     ORDER BY s.cluster_id, s.logical_cluster_name, s.task_type, s.start_time_raw
), upserted AS (
    ${indent(upsertTasksSql('changed'), '    ')}
    RETURNING t.cluster_id, (t.xmax = 0) AS inserted
), written AS (
    SELECT cluster_id,
           count(*) FILTER (WHERE inserted)     AS inserted,
           count(*) FILTER (WHERE NOT inserted) AS updated
      FROM upserted GROUP BY cluster_id
), batch AS (
    SELECT cluster_id,
           count(*)                                              AS fetched,
           count(*) FILTER (WHERE cardinality(parse_issues) > 0) AS flagged
      FROM staged GROUP BY cluster_id
), counts AS (
    SELECT b.cluster_id, b.fetched, b.flagged,
           coalesce(w.inserted, 0) AS inserted,
           coalesce(w.updated, 0)  AS updated,
           b.fetched - coalesce(w.inserted, 0) - coalesce(w.updated, 0) AS unchanged
      FROM batch b LEFT JOIN written w USING (cluster_id)
)
SELECT cluster_id, fetched::int, flagged::int, inserted::int, updated::int, unchanged::int FROM counts`;
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

export interface ClusterBatchCounts {
  readonly clusterId: string;
  readonly fetched: number;
  readonly flagged: number;
  readonly inserted: number;
  readonly updated: number;
  readonly unchanged: number;
}

export interface BatchCountsRow {
  readonly cluster_id: string;
  readonly fetched: number;
  readonly flagged: number;
  readonly inserted: number;
  readonly updated: number;
  readonly unchanged: number;
}

export function readBatchCounts(rows: readonly BatchCountsRow[]): ClusterBatchCounts[] {
  return rows.map((r) => ({
    clusterId: r.cluster_id,
    fetched: r.fetched,
    flagged: r.flagged,
    inserted: r.inserted,
    updated: r.updated,
    unchanged: r.unchanged,
  }));
}

/** Adds a merged batch's counters to its clusters' ledger rows; inside the batch's transaction. */
export async function addBatchCounts(client: pg.ClientBase, runId: number, counts: readonly ClusterBatchCounts[]): Promise<void> {
  if (counts.length === 0) return;
  await client.query(LOCK_LEDGER_ROWS_SQL, [runId, counts.map((c) => c.clusterId)]);
  await client.query(ADD_LEDGER_COUNTS_SQL, [
    runId,
    counts.map((c) => c.clusterId),
    counts.map((c) => c.fetched),
    counts.map((c) => c.flagged),
    counts.map((c) => c.inserted),
    counts.map((c) => c.updated),
    counts.map((c) => c.unchanged),
  ]);
}
