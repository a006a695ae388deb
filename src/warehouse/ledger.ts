/**
 * The run ledger: dws.export_runs (one row per run) and
 * dws.export_cluster_runs (one per cluster per run). Row counters are
 * added by the batch's own merge statement (see merge-tasks-sql.ts), so the
 * ledger never claims rows that were rolled back.
 */
import { hostname } from 'node:os';
import type pg from 'pg';
import { EXPORTER_VERSION } from '../core/package-info.js';
import type { AbandonedRun, ClusterError, ClusterStatus, FinishedRunStatus, RunTotals } from '../core/run-outcome.js';

/** Which scheduled export a run belongs to: the shards of one Indexed Job share the id. */
export interface RunGroup {
  readonly id: string;
  readonly shardIndex: number;
  readonly shardCount: number;
}

/** On the run lock's session, inside the transaction that takes the lock (see startLockedRun). */
export async function startRun(
  session: pg.ClientBase,
  sourceTimeZone: string,
  clustersTotal: number,
  group: RunGroup | null = null,
): Promise<number> {
  // Not retried: a retry after a lost COMMIT acknowledgement would open a second run row.
  const result = await session.query<{ run_id: string }>(
    `INSERT INTO dws.export_runs (exporter_version, hostname, source_time_zone, clusters_total, run_group_id, shard_index, shard_count)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING run_id`,
    [EXPORTER_VERSION, hostname(), sourceTimeZone, clustersTotal, group?.id ?? null, group?.shardIndex ?? 0, group?.shardCount ?? 1],
  );
  return Number(result.rows[0]?.run_id);
}

/**
 * The `running` ledger rows of clusters the run starts on ($1 run id, $2
 * project ids, $3 cluster ids), in one statement (see cluster-ledger.ts).
 * Idempotent, so a retry after a lost acknowledgement is harmless.
 */
export const START_CLUSTER_RUNS_SQL = `
INSERT INTO dws.export_cluster_runs (run_id, project_id, cluster_id)
SELECT $1, p, c FROM unnest($2::text[], $3::text[]) AS u(p, c)
    ON CONFLICT (run_id, cluster_id) DO NOTHING`;

/**
 * A cluster the run did not call: its turn came after a shutdown signal
 * (interrupted, NOT_STARTED), or its endpoint was unreachable (failed,
 * DWS_ENDPOINT_UNREACHABLE). Its row may exist already (opened, then the
 * signal came before a fetch slot did). Idempotent.
 */
export async function recordNotStarted(
  pool: pg.Pool,
  runId: number,
  cluster: { readonly projectId: string; readonly clusterId: string },
  status: 'interrupted' | 'failed',
  error: ClusterError,
): Promise<void> {
  await pool.query(
    `INSERT INTO dws.export_cluster_runs (run_id, project_id, cluster_id, status, finished_at, duration_ms, error_code, error_message)
     VALUES ($1, $2, $3, $4, now(), 0, $5, $6)
     ON CONFLICT (run_id, cluster_id) DO UPDATE
        SET status = EXCLUDED.status, finished_at = EXCLUDED.finished_at, duration_ms = EXCLUDED.duration_ms,
            error_code = EXCLUDED.error_code, error_message = EXCLUDED.error_message
      WHERE export_cluster_runs.status = 'running'`,
    [runId, cluster.projectId, cluster.clusterId, status, error.code, error.message],
  );
}

/** What finishClusterRuns writes on a cluster's ledger row. */
export interface FinishedClusterRun {
  readonly status: Exclude<ClusterStatus, 'running' | 'abandoned'>;
  readonly durationMs: number;
  readonly apiCount: number | null;
  readonly duplicates: number;
  readonly pages: number;
  readonly requests: number;
  readonly retries: number;
  readonly offsetMode: string | null;
  readonly stopReason: string | null;
  readonly error: ClusterError | null;
}

/** Closes the ledger rows of clusters the run finished, in one statement (see cluster-ledger.ts). */
export async function finishClusterRuns(
  pool: pg.Pool,
  runId: number,
  finished: readonly { readonly clusterId: string; readonly outcome: FinishedClusterRun }[],
): Promise<void> {
  const column = <T>(pick: (o: FinishedClusterRun) => T): T[] => finished.map((f) => pick(f.outcome));
  await pool.query(
    `UPDATE dws.export_cluster_runs c
        SET status = u.status, finished_at = now(), duration_ms = u.duration_ms, api_count = u.api_count,
            duplicates_skipped = u.duplicates, pages = u.pages, api_requests = u.requests, api_retries = u.retries,
            offset_mode = u.offset_mode, stop_reason = u.stop_reason, error_code = u.error_code,
            error_message = u.error_message, http_status = u.http_status, api_error_code = u.api_error_code,
            request_id = u.request_id
       FROM unnest($2::text[], $3::text[], $4::int[], $5::bigint[], $6::int[], $7::int[], $8::int[], $9::int[],
                   $10::text[], $11::text[], $12::text[], $13::text[], $14::int[], $15::text[], $16::text[])
            AS u(cluster_id, status, duration_ms, api_count, duplicates, pages, requests, retries,
                 offset_mode, stop_reason, error_code, error_message, http_status, api_error_code, request_id)
      WHERE c.run_id = $1 AND c.cluster_id = u.cluster_id`,
    [
      runId, finished.map((f) => f.clusterId), column((o) => o.status), column((o) => Math.round(o.durationMs)),
      column((o) => o.apiCount), column((o) => o.duplicates), column((o) => o.pages), column((o) => o.requests),
      column((o) => o.retries), column((o) => o.offsetMode), column((o) => o.stopReason),
      column((o) => o.error?.code ?? null), column((o) => o.error?.message ?? null),
      column((o) => o.error?.httpStatus ?? null), column((o) => o.error?.apiErrorCode ?? null),
      column((o) => o.error?.requestId ?? null),
    ],
  );
}

// A run's counts from its cluster rows: a planned cluster without a row was
// never started (its process died first), like one recorded NOT_STARTED.
const RUN_TOTALS_SQL = `
SELECT r.run_id,
       r.clusters_total                                                     AS "clustersPlanned",
       count(c.run_id) FILTER (WHERE c.status = 'succeeded')                AS "clustersOk",
       count(c.run_id) FILTER (WHERE c.status = 'incomplete')               AS "clustersIncomplete",
       count(c.run_id) FILTER (WHERE c.status = 'failed')                   AS "clustersFailed",
       count(c.run_id) FILTER (WHERE c.status = 'interrupted' AND c.error_code IS DISTINCT FROM 'NOT_STARTED') AS "clustersInterrupted",
       greatest(r.clusters_total - count(c.run_id), 0)
         + count(c.run_id) FILTER (WHERE c.error_code = 'NOT_STARTED')      AS "clustersNotStarted",
       count(c.run_id) FILTER (WHERE c.status = 'abandoned')                AS "clustersAbandoned",
       coalesce(sum(c.tasks_fetched), 0)  AS "tasksFetched",
       coalesce(sum(c.rows_inserted), 0)  AS "rowsInserted",
       coalesce(sum(c.rows_updated), 0)   AS "rowsUpdated",
       coalesce(sum(c.rows_unchanged), 0) AS "rowsUnchanged",
       coalesce(sum(c.api_requests), 0)   AS "apiRequests",
       coalesce(sum(c.api_retries), 0)    AS "apiRetries"
  FROM dws.export_runs r
  LEFT JOIN dws.export_cluster_runs c ON c.run_id = r.run_id
 WHERE r.run_id = ANY($1::bigint[])
 GROUP BY r.run_id`;

const SET_RUN_TOTALS = `clusters_ok = t."clustersOk", clusters_incomplete = t."clustersIncomplete",
            clusters_failed = t."clustersFailed", tasks_fetched = t."tasksFetched",
            rows_inserted = t."rowsInserted", rows_updated = t."rowsUpdated",
            rows_unchanged = t."rowsUnchanged", api_requests = t."apiRequests", api_retries = t."apiRetries"`;

type TotalsRow = Record<keyof RunTotals | 'clustersAbandoned' | 'run_id', string>;

function totalsOf(row: TotalsRow | undefined): RunTotals {
  const n = (key: keyof RunTotals): number => Number(row?.[key] ?? 0);
  return {
    clustersPlanned: n('clustersPlanned'),
    clustersOk: n('clustersOk'),
    clustersIncomplete: n('clustersIncomplete'),
    clustersFailed: n('clustersFailed'),
    clustersInterrupted: n('clustersInterrupted'),
    clustersNotStarted: n('clustersNotStarted'),
    tasksFetched: n('tasksFetched'),
    rowsInserted: n('rowsInserted'),
    rowsUpdated: n('rowsUpdated'),
    rowsUnchanged: n('rowsUnchanged'),
    apiRequests: n('apiRequests'),
    apiRetries: n('apiRetries'),
  };
}

/** Closes the run; its totals are summed from the cluster rows, the one source of truth. */
export async function finishRun(
  pool: pg.Pool,
  runId: number,
  status: FinishedRunStatus,
  error: { readonly code: string; readonly message: string } | null,
): Promise<RunTotals> {
  const result = await pool.query<TotalsRow>(
    `WITH t AS (${RUN_TOTALS_SQL})
     UPDATE dws.export_runs r
        SET status = $2, finished_at = now(), error_code = $3, error_message = $4, ${SET_RUN_TOTALS}
       FROM t
      WHERE r.run_id = t.run_id
  RETURNING t.*`,
    [[runId], status, error?.code ?? null, error?.message ?? null],
  );
  return totalsOf(result.rows[0]);
}

/** Fills in the totals of runs just closed as abandoned (their process died before finishRun). */
export async function totalAbandonedRuns(pool: pg.Pool, runIds: readonly number[]): Promise<AbandonedRun[]> {
  if (runIds.length === 0) return [];
  const result = await pool.query<TotalsRow>(
    `WITH t AS (${RUN_TOTALS_SQL})
     UPDATE dws.export_runs r SET ${SET_RUN_TOTALS}
       FROM t
      WHERE r.run_id = t.run_id AND r.status = 'abandoned'
  RETURNING t.*`,
    [runIds],
  );
  return result.rows
    .map((row) => {
      const { clustersPlanned, clustersOk, clustersIncomplete, clustersFailed, clustersInterrupted, clustersNotStarted } = totalsOf(row);
      return {
        runId: Number(row.run_id),
        clustersPlanned,
        clustersOk,
        clustersIncomplete,
        clustersFailed,
        clustersInterrupted,
        clustersNotStarted,
        clustersAbandoned: Number(row.clustersAbandoned),
      };
    })
    .sort((a, b) => a.runId - b.runId);
}
