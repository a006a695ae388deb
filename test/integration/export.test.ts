/**
 * The export pipeline end to end: the real exporter, the project's DWS API
 * simulator over HTTP, and a real PostgreSQL. Every assertion is on the rows
 * in the tables.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/core/exit-codes.js';
import { SimFleet } from '../../src/simulator/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { waitForExporterSessionsGone } from '../support/cli.js';
import { exportOnce, fleetConfig, fleetTasks, storedTasks, withSimulator } from '../support/exporter.js';

describe('export of a 50-cluster fleet (page cap 50, 0-2,000 tasks per cluster)', () => {
  const fleet = SimFleet.generate({ seed: 7, projects: 2, clustersPerProject: 25, minTasks: 0, maxTasks: 2000 });

  for (const offsetMode of ['rows', 'pages'] as const) {
    it(`stores exactly the simulator's tasks when the server counts offset in ${offsetMode}`, async () => {
      const db = await createTestDatabase();
      try {
        await withSimulator({ fleet, offsetMode, pageSizeCap: 50 }, async (simulator) => {
          const report = await exportOnce(db.url, fleetConfig(simulator, fleet, { concurrency: 8, pageSize: 100 }));
          expect(report.status).toBe('succeeded');
          expect(report.exitCode).toBe(ExitCode.OK);
          expect(report.clusters.every((c) => c.offsetMode === null || c.offsetMode === offsetMode)).toBe(true);
          expect(await storedTasks(db.pool)).toEqual(fleetTasks(fleet));
          const ledger = await db.pool.query(
            `SELECT count(*)::int AS n, sum(tasks_fetched)::int AS fetched,
                    bool_and(api_count = tasks_fetched) AS all_match
               FROM dws.export_cluster_runs WHERE run_id = $1 AND status = 'succeeded'`,
            [report.runId],
          );
          expect(ledger.rows[0]).toEqual({ n: 50, fetched: fleet.totalTasks(), all_match: true });
        });
      } finally {
        await db.drop();
      }
    });
  }
});

describe('several batches written at once', () => {
  const fleet = SimFleet.generate({ seed: 23, projects: 1, clustersPerProject: 12, minTasks: 150, maxTasks: 900 });

  it('small batches of interleaved clusters on 4 writers store every task once, count it once, and never deadlock', async () => {
    const db = await createTestDatabase();
    try {
      await withSimulator({ fleet, pageSizeCap: 25 }, async (simulator) => {
        // Tiny batches over many clusters with parallel pages: each batch holds
        // several clusters, and each cluster's ledger row is hit by many batches in flight.
        const config = { ...fleetConfig(simulator, fleet, { concurrency: 12, pageSize: 25 }), batchSize: 60, batchMaxDelayMs: 5, writers: 4, pageConcurrency: 4 };
        const report = await exportOnce(db.url, config);
        expect(report.status).toBe('succeeded');
        expect(await storedTasks(db.pool)).toEqual(fleetTasks(fleet));
        const ledger = await db.pool.query(
          `SELECT count(*)::int AS n, sum(rows_inserted)::int AS inserted,
                  bool_and(rows_inserted = api_count AND tasks_fetched = api_count) AS all_match
             FROM dws.export_cluster_runs WHERE run_id = $1 AND status = 'succeeded'`,
          [report.runId],
        );
        expect(ledger.rows[0]).toEqual({ n: 12, inserted: fleet.totalTasks(), all_match: true });
        // Backends report at exit; the exporter's pool is closed by now.
        const stats = await db.pool.query(
          'SELECT pg_stat_clear_snapshot(), (SELECT deadlocks::int FROM pg_stat_database WHERE datname = current_database()) AS deadlocks',
        );
        expect(stats.rows[0].deadlocks).toBe(0);
      });
    } finally {
      await db.drop();
    }
  });
});

describe('reruns and changes', () => {
  let db: TestDatabase;
  const fleet = SimFleet.generate({ seed: 11, projects: 1, clustersPerProject: 6, minTasks: 20, maxTasks: 300 });

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('a rerun with nothing changed inserts and updates nothing', async () => {
    await withSimulator({ fleet, pageSizeCap: 40 }, async (simulator) => {
      const first = await exportOnce(db.url, fleetConfig(simulator, fleet));
      expect(first.totals.rowsInserted).toBe(fleet.totalTasks());
      const second = await exportOnce(db.url, fleetConfig(simulator, fleet));
      expect(second.status).toBe('succeeded');
      expect(second.totals).toMatchObject({ rowsInserted: 0, rowsUpdated: 0, rowsUnchanged: fleet.totalTasks() });
      const rewritten = await db.pool.query(
        'SELECT count(*)::int AS n FROM dws.logical_cluster_tasks WHERE last_run_id = $1',
        [second.runId],
      );
      expect(rewritten.rows[0].n).toBe(0);
      // Not even locked: ON CONFLICT DO UPDATE would have stamped every
      // conflicting row's xmax (a write, with WAL) although it updates none.
      const touched = await db.pool.query(
        `SELECT count(*)::int AS n FROM dws.logical_cluster_tasks WHERE xmax <> '0'::xid`,
      );
      expect(touched.rows[0].n).toBe(0);
      expect(await storedTasks(db.pool)).toEqual(fleetTasks(fleet));
    });
  });

  it('a no-change rerun sends no task to the database: the only rows it inserts anywhere are its ledger rows', async () => {
    await withSimulator({ fleet, pageSizeCap: 40 }, async (simulator) => {
      // Rows inserted into any table of this database, temporary ones included, once the
      // exporter's sessions have ended and their counters (flushed at exit) stop moving.
      const inserted = async (): Promise<number> => {
        await waitForExporterSessionsGone(db.pool);
        // This test's own sessions (which created the schema) flush their counters now, not when idle.
        const own = await Promise.all(Array.from({ length: 4 }, () => db.pool.connect()));
        for (const client of own) await client.query('SELECT pg_stat_force_next_flush()').then(() => client.query('SELECT 1'));
        for (const client of own) client.release();
        const reads: number[] = [];
        while (reads.length < 3 || new Set(reads.slice(-3)).size > 1) {
          if (reads.length > 0) await new Promise((resolve) => setTimeout(resolve, 500));
          const r = await db.pool.query<{ n: string }>(
            'SELECT pg_stat_clear_snapshot(), (SELECT tup_inserted FROM pg_stat_database WHERE datname = current_database()) AS n',
          );
          reads.push(Number(r.rows[0]?.n));
        }
        return reads[reads.length - 1] as number;
      };
      await exportOnce(db.url, fleetConfig(simulator, fleet));
      const before = await inserted();
      const rerun = await exportOnce(db.url, fleetConfig(simulator, fleet));
      expect(rerun.totals).toMatchObject({ rowsInserted: 0, rowsUpdated: 0, rowsUnchanged: fleet.totalTasks() });
      // One export_runs row and one export_cluster_runs row per cluster; no staging row, no task row.
      expect((await inserted()) - before).toBe(1 + fleet.clusters.length);
    });
  });

  it('a running task that finished is updated in place, and new tasks are added', async () => {
    const cluster = fleet.clusters.find((c) => c.tasks.some((t) => !t.end_time));
    expect(cluster).toBeDefined();
    if (!cluster) return;
    const index = cluster.tasks.findIndex((t) => !t.end_time);
    const task = cluster.tasks[index];
    if (!task?.start_time) throw new Error('fixture task has no start time');
    fleet.finishRunningTask(cluster.projectId, cluster.id, index, '2099-01-01 00:00:10', 'success');
    fleet.addTask(cluster.projectId, cluster.id, {
      type: 'Grow',
      logical_cluster_name: 'lc_new',
      start_time: '2099-02-01 10:00:00',
      end_time: '',
      result: '',
      log: 'newly started',
    });
    await withSimulator({ fleet, pageSizeCap: 40 }, async (simulator) => {
      const before = await db.pool.query(
        `SELECT first_run_id FROM dws.logical_cluster_tasks
          WHERE cluster_id = $1 AND logical_cluster_name = $2 AND task_type = $3 AND start_time_raw = $4`,
        [cluster.id, task.logical_cluster_name, task.type, task.start_time],
      );
      const report = await exportOnce(db.url, fleetConfig(simulator, fleet));
      expect(report.totals).toMatchObject({ rowsInserted: 1, rowsUpdated: 1 });
      const after = await db.pool.query(
        `SELECT is_running, end_time_raw, result, duration_seconds, first_run_id, last_run_id,
                (SELECT count(*)::int FROM dws.logical_cluster_tasks) AS total
           FROM dws.logical_cluster_tasks
          WHERE cluster_id = $1 AND logical_cluster_name = $2 AND task_type = $3 AND start_time_raw = $4`,
        [cluster.id, task.logical_cluster_name, task.type, task.start_time],
      );
      expect(after.rows).toHaveLength(1);
      expect(after.rows[0]).toMatchObject({
        is_running: false,
        end_time_raw: '2099-01-01 00:00:10',
        result: 'success',
        first_run_id: before.rows[0].first_run_id,
        last_run_id: String(report.runId),
        total: fleet.totalTasks(),
      });
      expect(await storedTasks(db.pool)).toEqual(fleetTasks(fleet));
    });
  });
});

describe('time zones and durations', () => {
  it('reads zone-less times in the configured source zone and computes durations', async () => {
    const db = await createTestDatabase();
    const fleet = new SimFleet([
      {
        projectId: 'a'.repeat(32),
        id: '9b7ff56b-47b3-4d00-a1fd-4c023d34404b',
        name: 'dws-tz',
        status: 'ACTIVE',
        tasks: [
          { type: 'Grow', logical_cluster_name: 'elastic_group', start_time: '2023-06-05 01:58:43', end_time: '2023-06-05 02:11:50', result: 'success', log: 'ok' },
          { type: 'Create', logical_cluster_name: 'test_logical', start_time: '2023-06-21 08:35:58', end_time: '', result: '', log: null },
          { type: 'Shrink', logical_cluster_name: 'test_logical', start_time: '2023-02-30 10:00:00', end_time: '2023-03-01 10:00:00', result: 'failed', log: 'bad start' },
        ],
      },
    ]);
    try {
      await withSimulator({ fleet }, async (simulator) => {
        const report = await exportOnce(db.url, fleetConfig(simulator, fleet, { sourceTimeZone: 'Asia/Shanghai' }));
        expect(report.status).toBe('succeeded');
        const rows = await db.pool.query(
          `SELECT task_type, start_time, end_time, duration_seconds, is_running, parse_issues
             FROM dws.logical_cluster_tasks ORDER BY start_time_raw`,
        );
        expect(rows.rows).toEqual([
          { task_type: 'Shrink', start_time: null, end_time: new Date('2023-03-01T02:00:00Z'), duration_seconds: null, is_running: false, parse_issues: ['start_time_unparsable'] },
          { task_type: 'Grow', start_time: new Date('2023-06-04T17:58:43Z'), end_time: new Date('2023-06-04T18:11:50Z'), duration_seconds: 787, is_running: false, parse_issues: [] },
          { task_type: 'Create', start_time: new Date('2023-06-21T00:35:58Z'), end_time: null, duration_seconds: null, is_running: true, parse_issues: [] },
        ]);
        const flagged = await db.pool.query('SELECT rows_flagged FROM dws.export_cluster_runs WHERE run_id = $1', [report.runId]);
        expect(flagged.rows[0].rows_flagged).toBe(1);
      });
    } finally {
      await db.drop();
    }
  });
});

describe('failure isolation', () => {
  it('a deleted cluster and a malformed answer fail alone; every other cluster commits', async () => {
    const db = await createTestDatabase();
    const fleet = SimFleet.generate({ seed: 3, projects: 1, clustersPerProject: 8, minTasks: 10, maxTasks: 120 });
    const [deleted, garbled] = fleet.clusters;
    if (!deleted || !garbled) throw new Error('fixture too small');
    deleted.fault = { kind: 'status', status: 404, errorCode: 'DWS.0015', errorMsg: 'The cluster does not exist.' };
    garbled.fault = { kind: 'malformed' };
    try {
      await withSimulator({ fleet, pageSizeCap: 25 }, async (simulator) => {
        const report = await exportOnce(db.url, fleetConfig(simulator, fleet));
        expect(report.status).toBe('partial');
        expect(report.exitCode).toBe(ExitCode.PARTIAL);
        const ledger = await db.pool.query(
          `SELECT cluster_id, status, error_code, http_status, api_error_code, request_id, error_message
             FROM dws.export_cluster_runs WHERE run_id = $1 AND status <> 'succeeded'`,
          [report.runId],
        );
        const byId = new Map(ledger.rows.map((r) => [r.cluster_id, r]));
        expect(byId.size).toBe(2);
        expect(byId.get(deleted.id)).toMatchObject({ status: 'failed', error_code: 'DWS_API_ERROR', http_status: 404, api_error_code: 'DWS.0015' });
        expect(byId.get(deleted.id)?.request_id).toMatch(/^[0-9a-f]{32}$/);
        expect(byId.get(garbled.id)).toMatchObject({ status: 'failed', error_code: 'DWS_PAYLOAD_INVALID' });
        expect(byId.get(garbled.id)?.error_message).toContain('not JSON');
        const healthy = fleet.clusters.filter((c) => c !== deleted && c !== garbled);
        const stored = await db.pool.query('SELECT cluster_id, count(*)::int AS n FROM dws.logical_cluster_tasks GROUP BY cluster_id');
        expect(new Map(stored.rows.map((r) => [r.cluster_id, r.n]))).toEqual(
          new Map(healthy.filter((c) => c.tasks.length > 0).map((c) => [c.id, c.tasks.length])),
        );
        const run = await db.pool.query('SELECT status, clusters_ok, clusters_failed FROM dws.export_runs WHERE run_id = $1', [report.runId]);
        expect(run.rows[0]).toEqual({ status: 'partial', clusters_ok: 6, clusters_failed: 2 });
      });
    } finally {
      await db.drop();
    }
  });

  it('when every cluster is refused for bad credentials the run fails with the auth exit code', async () => {
    const db = await createTestDatabase();
    const fleet = SimFleet.generate({ seed: 5, projects: 1, clustersPerProject: 3, minTasks: 1, maxTasks: 5 });
    try {
      await withSimulator({ fleet }, async (simulator) => {
        const report = await exportOnce(db.url, fleetConfig(simulator, fleet), { kind: 'token', token: 'wrong' });
        expect(report.status).toBe('failed');
        expect(report.exitCode).toBe(ExitCode.AUTH);
        expect(report.clusters.every((c) => c.error?.apiErrorCode === 'APIG.0301')).toBe(true);
        // 401 is never retried: at most one request per cluster (the auth
        // breaker may spare some; see auth.test.ts).
        expect(simulator.stats.requests).toBeLessThanOrEqual(3);
        expect(simulator.stats.byStatus['401']).toBe(simulator.stats.requests);
      });
    } finally {
      await db.drop();
    }
  });
});

describe('offset semantics and filters from config', () => {
  const fleet = SimFleet.generate({ seed: 19, projects: 1, clustersPerProject: 4, minTasks: 90, maxTasks: 260 });

  for (const [serverMode, configured] of [['rows', 'rows'], ['pages', 'pages'], ['pages', 'auto']] as const) {
    it(`offsetMode "${configured}" against a ${serverMode} server yields exactly count rows per cluster`, async () => {
      const db = await createTestDatabase();
      try {
        await withSimulator({ fleet, offsetMode: serverMode, pageSizeCap: 30 }, async (simulator) => {
          const report = await exportOnce(db.url, fleetConfig(simulator, fleet, { offsetMode: configured, pageSize: 30 }));
          expect(report.status).toBe('succeeded');
          expect(await storedTasks(db.pool)).toEqual(fleetTasks(fleet));
        });
      } finally {
        await db.drop();
      }
    });
  }

  it('a configured offset mode that does not match the server is reported incomplete, never silently short', async () => {
    const db = await createTestDatabase();
    try {
      await withSimulator({ fleet, offsetMode: 'pages', pageSizeCap: 30 }, async (simulator) => {
        const report = await exportOnce(db.url, fleetConfig(simulator, fleet, { offsetMode: 'rows', pageSize: 30 }));
        expect(report.clusters.every((c) => c.status !== 'succeeded')).toBe(true);
        expect(report.exitCode).not.toBe(ExitCode.OK);
      });
    } finally {
      await db.drop();
    }
  });

  it('filters restrict the export to one task type', async () => {
    const db = await createTestDatabase();
    try {
      await withSimulator({ fleet }, async (simulator) => {
        const report = await exportOnce(db.url, fleetConfig(simulator, fleet, { filters: { type: 'Grow' } }));
        expect(report.status).toBe('succeeded');
        const types = await db.pool.query('SELECT DISTINCT task_type FROM dws.logical_cluster_tasks');
        expect(types.rows).toEqual([{ task_type: 'Grow' }]);
        const expected = fleet.clusters.flatMap((c) => c.tasks).filter((t) => t.type === 'Grow').length;
        expect(report.totals.tasksFetched).toBe(expected);
      });
    } finally {
      await db.drop();
    }
  });
});

describe('the last batch of a run', () => {
  const fleet = SimFleet.generate({ seed: 29, projects: 1, clustersPerProject: 3, minTasks: 5, maxTasks: 20 });

  // A partial batch waits batchMaxDelayMs for more pages; after the last walk none can come.
  it('is written once every cluster has walked, not batchMaxDelayMs (here 60 s) after its first page', async () => {
    const db = await createTestDatabase();
    try {
      await withSimulator({ fleet }, async (simulator) => {
        const config = { ...fleetConfig(simulator, fleet, { concurrency: 3, pageSize: 100 }), batchSize: 100_000, batchMaxDelayMs: 60_000 };
        const report = await exportOnce(db.url, config);
        expect(report.status).toBe('succeeded');
        expect(await storedTasks(db.pool)).toEqual(fleetTasks(fleet));
      });
    } finally {
      await db.drop();
    }
  }, 30_000);
});
