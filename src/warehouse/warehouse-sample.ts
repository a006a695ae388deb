/** A first look at what an export stored, as the demo prints it: small tables of the task table and the ledger. */
import type pg from 'pg';

export interface SampleTable {
  readonly title: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly unknown[])[];
}

const SAMPLES: readonly { readonly title: string; readonly sql: string }[] = [
  {
    title: 'Tasks per cluster (largest 8), from dws.logical_cluster_tasks',
    sql: `SELECT cluster_id, count(*) AS tasks,
                 count(*) FILTER (WHERE is_running) AS running,
                 count(*) FILTER (WHERE result = 'failed') AS failed,
                 round(avg(duration_seconds)) AS avg_duration_s,
                 max(start_time) AS latest_start
            FROM dws.logical_cluster_tasks GROUP BY cluster_id ORDER BY tasks DESC LIMIT 8`,
  },
  {
    title: 'A few rows (running tasks first)',
    sql: `SELECT logical_cluster_name, task_type, start_time, end_time, duration_seconds, result, left(log, 40) AS log
            FROM dws.logical_cluster_tasks ORDER BY is_running DESC, start_time DESC LIMIT 5`,
  },
  {
    title: 'Run ledger, dws.export_runs (latest 3)',
    sql: `SELECT run_id, status, started_at, clusters_ok, clusters_failed, tasks_fetched,
                 rows_inserted, rows_updated, rows_unchanged, api_requests
            FROM dws.export_runs ORDER BY run_id DESC LIMIT 3`,
  },
];

export async function readWarehouseSample(pool: pg.Pool): Promise<SampleTable[]> {
  const tables: SampleTable[] = [];
  for (const { title, sql } of SAMPLES) {
    const result = await pool.query(sql);
    tables.push({ title, columns: result.fields.map((f) => f.name), rows: result.rows.map((row: Record<string, unknown>) => Object.values(row)) });
  }
  return tables;
}
