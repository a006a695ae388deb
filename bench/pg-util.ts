/** PostgreSQL helpers for the benchmark: fresh databases, migrations, table statistics. */
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { RunTotals } from '../src/core/run-outcome.js';
import { migrate } from '../src/warehouse/migrate.js';

export function withDatabaseName(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: 'dws-bench' });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export interface BenchDatabase {
  readonly name: string;
  readonly url: string;
  drop(): Promise<void>;
}

let counter = 0;

/** A fresh database with the exporter's migrations applied (not timed); `clauses` extend its CREATE DATABASE. */
export async function createBenchDatabase(adminUrl: string, label: string, keep: boolean, clauses = ''): Promise<BenchDatabase> {
  const name = `bench_${label.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${process.pid}_${counter++}`;
  await withClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).then(() => c.query(`CREATE DATABASE ${name} ${clauses}`.trim())));
  const url = withDatabaseName(adminUrl, name);
  await withClient(url, (c) => migrate(c).then(() => undefined));
  return {
    name,
    url,
    drop: async () => {
      if (keep) return;
      await withClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

export async function serverVersion(adminUrl: string): Promise<string> {
  return withClient(adminUrl, async (c) => {
    const r = await c.query<{ v: string }>('SELECT version() AS v');
    return r.rows[0]?.v ?? 'unknown';
  });
}

export async function serverSettings(adminUrl: string): Promise<Record<string, string>> {
  return withClient(adminUrl, async (c) => {
    const r = await c.query<{ name: string; setting: string; unit: string | null }>(
      `SELECT name, setting, unit FROM pg_settings
        WHERE name IN ('shared_buffers', 'work_mem', 'synchronous_commit', 'fsync', 'max_wal_size', 'wal_level')`,
    );
    return Object.fromEntries(r.rows.map((row) => [row.name, row.unit ? `${row.setting} (${row.unit})` : row.setting]));
  });
}

export interface TupleStats {
  /** dws.logical_cluster_tasks: n_tup_ins, n_tup_upd, n_tup_hot_upd, n_live_tup. */
  readonly inserted: number;
  readonly updated: number;
  readonly hotUpdated: number;
  readonly live: number;
  /** The whole database (pg_stat_database): committed transactions, rows inserted/updated in any table. */
  readonly xactCommit: number;
  readonly dbInserted: number;
  readonly dbUpdated: number;
}

async function readTupleStats(c: pg.Client): Promise<TupleStats> {
  // stats_fetch_consistency = cache (default) snapshots per transaction: start afresh.
  await c.query('SELECT pg_stat_clear_snapshot()');
  const r = await c.query<{ ins: string; upd: string; hot: string; live: string }>(
    `SELECT n_tup_ins AS ins, n_tup_upd AS upd, n_tup_hot_upd AS hot, n_live_tup AS live
       FROM pg_stat_user_tables WHERE schemaname = 'dws' AND relname = 'logical_cluster_tasks'`,
  );
  const row = r.rows[0];
  const d = await c.query<{ xact: string; ins: string; upd: string }>(
    `SELECT xact_commit AS xact, tup_inserted AS ins, tup_updated AS upd
       FROM pg_stat_database WHERE datname = current_database()`,
  );
  const db = d.rows[0];
  return {
    inserted: Number(row?.ins ?? 0),
    updated: Number(row?.upd ?? 0),
    hotUpdated: Number(row?.hot ?? 0),
    live: Number(row?.live ?? 0),
    xactCommit: Number(db?.xact ?? 0),
    dbInserted: Number(db?.ins ?? 0),
    dbUpdated: Number(db?.upd ?? 0),
  };
}

/**
 * n_tup_ins / n_tup_upd of dws.logical_cluster_tasks once every other
 * backend of this database has gone. Since PostgreSQL 15 a backend flushes
 * its table counters to shared memory when its transaction ends (at most once
 * a second while busy) and at exit; pg_stat_force_next_flush() only affects
 * the calling backend, so it cannot help for the exporter's connections. We
 * therefore wait until the exporter's backends have left pg_stat_activity,
 * then poll until two reads 250 ms apart agree (at most ~10 s).
 */
export async function settledTupleStats(url: string): Promise<TupleStats & { readonly waitedMs: number }> {
  return withClient(url, async (c) => {
    const started = performance.now();
    const deadline = started + 10_000;
    for (;;) {
      const r = await c.query<{ n: string }>(
        'SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
      );
      if (Number(r.rows[0]?.n ?? 0) === 0 || performance.now() > deadline) break;
      await sleep(100);
    }
    let previous = await readTupleStats(c);
    for (;;) {
      await sleep(250);
      const current = await readTupleStats(c);
      const same =
        current.inserted === previous.inserted && current.updated === previous.updated && current.dbUpdated === previous.dbUpdated;
      previous = current;
      if (same || performance.now() > deadline) break;
    }
    return { ...previous, waitedMs: performance.now() - started };
  });
}

/** The most recent run in the ledger: the exporter's own totals, plus its status and duration. */
export interface LedgerRun extends RunTotals {
  readonly status: string;
  /** finished_at - started_at as the exporter recorded it; null while unfinished. */
  readonly ledgerMs: number | null;
}

/** The SQL of each total over dws.export_runs r; `satisfies` keeps it in step with RunTotals. */
const TOTAL_COLUMNS = {
  clustersPlanned: 'clusters_total',
  clustersInterrupted: `(SELECT count(*) FROM dws.export_cluster_runs c
                          WHERE c.run_id = r.run_id AND c.status = 'interrupted' AND c.error_code IS DISTINCT FROM 'NOT_STARTED')`,
  clustersNotStarted: `(SELECT greatest(r.clusters_total - count(*), 0) + count(*) FILTER (WHERE c.error_code = 'NOT_STARTED')
                          FROM dws.export_cluster_runs c WHERE c.run_id = r.run_id)`,
  clustersOk: 'clusters_ok',
  clustersIncomplete: 'clusters_incomplete',
  clustersFailed: 'clusters_failed',
  tasksFetched: 'tasks_fetched',
  rowsInserted: 'rows_inserted',
  rowsUpdated: 'rows_updated',
  rowsUnchanged: 'rows_unchanged',
  apiRequests: 'api_requests',
  apiRetries: 'api_retries',
} as const satisfies Record<keyof RunTotals, string>;

/** float8 comes back from pg as a JS number (bigint and numeric as strings): the row is a LedgerRun as it is. */
const LAST_RUN_SQL = `
  SELECT status, ${Object.entries(TOTAL_COLUMNS).map(([key, column]) => `${column}::float8 AS "${key}"`).join(', ')},
         (extract(epoch FROM finished_at - started_at) * 1000)::float8 AS "ledgerMs"
    FROM dws.export_runs r ORDER BY run_id DESC LIMIT 1`;

export async function lastRun(url: string): Promise<LedgerRun | null> {
  return withClient(url, async (c) => (await c.query<LedgerRun>(LAST_RUN_SQL)).rows[0] ?? null);
}

/**
 * Every task row's version (xmin) and lock/delete marker (xmax), as one digest:
 * unchanged across a run exactly when the run neither wrote nor locked a row.
 */
export async function rowVersionsDigest(url: string): Promise<string> {
  return withClient(url, async (c) => {
    const r = await c.query<{ d: string | null }>(
      `SELECT md5(string_agg(ctid::text || xmin::text || ':' || xmax::text, ',' ORDER BY ctid)) AS d FROM dws.logical_cluster_tasks`,
    );
    return r.rows[0]?.d ?? '';
  });
}

export async function countTasks(url: string): Promise<number> {
  return withClient(url, async (c) => {
    const r = await c.query<{ n: string }>('SELECT count(*) AS n FROM dws.logical_cluster_tasks');
    return Number(r.rows[0]?.n ?? 0);
  });
}

/** CHECKPOINT so a run does not pay for the previous run's dirty buffers (superuser only; ignored otherwise). */
export async function checkpoint(adminUrl: string): Promise<void> {
  await withClient(adminUrl, (c) => c.query('CHECKPOINT')).catch(() => undefined);
}
