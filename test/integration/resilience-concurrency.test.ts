/**
 * Resilience against overlap: two exports of the same clusters into the same
 * warehouse at once (a rerun started while the nightly job still runs, two
 * pods of a CronJob), two `migrate` processes at once, and a new run's
 * clean-up of dead runs while another run is alive. Real exports in-process
 * (`exportOnce`), the real CLI in child processes, the DWS API simulator over
 * HTTP, a real PostgreSQL.
 */
import { setMaxListeners } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/export/run-export.js';
import { ExitCode } from '../../src/core/exit-codes.js';
import { SimFleet, startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';
import { redactUrl } from '../../src/warehouse/database.js';
import { readMigrations } from '../../src/warehouse/migrate.js';
import { cliLauncher, describeResult, waitFor, waitForExporterSessionsGone } from '../support/cli.js';
import { createTestDatabase } from '../support/database.js';
import { TEST_TOKEN, exportOnce, fleetConfig, fleetTasks, storedTasks } from '../support/exporter.js';

const { runCli } = cliLauncher();

/** Until the server has ended every session of the exporter (pool.end() does not wait for the backends). */

describe('overlapping runs of the same clusters into the same database', () => {
  // 10 clusters of 0-400 tasks, 50 per page, some latency so the two runs'
  // batches (50 rows each) interleave on the same rows.
  const fleet = SimFleet.generate({ seed: 301, projects: 2, clustersPerProject: 5, minTasks: 0, maxTasks: 400 });
  let simulator: Simulator;

  beforeAll(async () => {
    simulator = await startSimulator({ fleet, pageSizeCap: 50, latencyMs: 100, auth: { token: TEST_TOKEN } });
  });
  afterAll(async () => {
    await simulator?.close();
  });

  for (const iteration of [1, 2, 3]) {
    it(`both succeed without deadlocks; the table equals the simulator tasks and each run's ledger adds up (iteration ${iteration})`, async () => {
      const db = await createTestDatabase();
      try {
        const config = fleetConfig(simulator, fleet, { concurrency: 8, pageSize: 50, batchSize: 50 });
        // The second run walks the clusters in the opposite order: the runs cross, and for a
        // while both write the same clusters' rows at once, whichever of them starts first.
        const reversed = {
          ...config,
          projects: fleet
            .projectIds()
            .reverse()
            .map((projectId) => ({ projectId, clusters: fleet.clustersOf(projectId).map((c) => c.id).reverse() })),
        };
        const reports: RunReport[] = await Promise.all([exportOnce(db.url, config), exportOnce(db.url, reversed)]);
        for (const report of reports) {
          expect(report.status).toBe('succeeded');
          expect(report.exitCode).toBe(ExitCode.OK);
          expect(report.clusters.filter((c) => c.error !== null || c.ledgerError !== null)).toEqual([]);
        }
        expect(await storedTasks(db.pool)).toEqual(fleetTasks(fleet));

        const total = fleet.totalTasks();
        const runs = await db.pool.query<{
          run_id: number;
          status: string;
          fetched: number;
          inserted: number;
          updated: number;
          unchanged: number;
          first_written: number;
        }>(
          `SELECT r.run_id::int AS run_id, r.status, r.tasks_fetched::int AS fetched,
                  r.rows_inserted::int AS inserted, r.rows_updated::int AS updated, r.rows_unchanged::int AS unchanged,
                  (SELECT count(*)::int FROM dws.logical_cluster_tasks t WHERE t.first_run_id = r.run_id) AS first_written
             FROM dws.export_runs r ORDER BY r.run_id`,
        );
        expect(runs.rows.map((r) => r.run_id).sort()).toEqual(reports.map((r) => r.runId).sort());
        for (const run of runs.rows) {
          expect(run.status).toBe('succeeded');
          expect(run.fetched).toBe(total);
          expect(run.inserted + run.updated + run.unchanged).toBe(run.fetched);
          // Both runs sent identical tasks: nothing to update, and a run claims exactly the rows it first wrote.
          expect(run.updated).toBe(0);
          expect(run.inserted).toBe(run.first_written);
        }
        expect(runs.rows.reduce((sum, r) => sum + r.inserted, 0)).toBe(total);

        // Per cluster too: between them the two runs inserted each task once.
        const perCluster = await db.pool.query<{ cluster_id: string; inserted: number; fetched: number; runs: number }>(
          `SELECT cluster_id, sum(rows_inserted)::int AS inserted, min(tasks_fetched)::int AS fetched, count(*)::int AS runs
             FROM dws.export_cluster_runs GROUP BY cluster_id`,
        );
        expect(new Map(perCluster.rows.map((r) => [r.cluster_id, [r.inserted, r.fetched, r.runs]]))).toEqual(
          new Map(fleet.clusters.map((c) => [c.id, [c.tasks.length, c.tasks.length, 2]])),
        );

        const running = await db.pool.query<{ n: number }>(
          `SELECT (SELECT count(*) FROM dws.export_runs WHERE status = 'running')
                + (SELECT count(*) FROM dws.export_cluster_runs WHERE status = 'running') AS n`,
        );
        expect(Number(running.rows[0]?.n)).toBe(0);

        // A deadlock would be retried (40P01 is transient) and so invisible above: ask the server.
        await waitForExporterSessionsGone(db.pool);
        const stats = await db.pool.query<{ deadlocks: number }>(
          'SELECT deadlocks::int AS deadlocks FROM pg_stat_database WHERE datname = current_database()',
        );
        expect(stats.rows).toEqual([{ deadlocks: 0 }]);
      } finally {
        await db.drop();
      }
    });
  }
});

describe('two migrate processes at once', () => {
  it('both exit 0; one applies every migration, the other finds the schema up to date; each migration is recorded once', async () => {
    const db = await createTestDatabase({ migrated: false });
    try {
      const env = { DATABASE_URL: db.url };
      const results = await Promise.all([runCli(['migrate'], env), runCli(['migrate'], env)]);
      const migrations = await readMigrations();
      for (const result of results) {
        expect(result.code, describeResult(result)).toBe(ExitCode.OK);
        // Only the database it writes to, named before it writes (stdout keeps the result alone).
        expect(result.stderr, describeResult(result)).toBe(`Writing to ${redactUrl(db.url)} (DATABASE_URL).\n`);
      }
      const outputs = results.map((r) => r.stdout.trim()).sort();
      expect(outputs).toEqual(
        [
          `Applied ${migrations.length} migration(s): ${migrations.map((m) => m.version).join(', ')}.`,
          `Schema up to date (${migrations.length} migration(s) applied earlier).`,
        ].sort(),
      );
      const recorded = await db.pool.query<{ version: string; checksum: string }>(
        'SELECT version, checksum FROM dws.schema_migrations ORDER BY version',
      );
      expect(recorded.rows).toEqual(migrations.map((m) => ({ version: m.version, checksum: m.checksum })));
    } finally {
      await db.drop();
    }
  });
});

describe('abandoned-run detection while another run is alive', () => {
  it('a run started while another is running closes only dead runs as abandoned; the live run stays running and then succeeds', async () => {
    const db = await createTestDatabase();
    const fleetA = SimFleet.generate({ seed: 303, projects: 1, clustersPerProject: 2, minTasks: 60, maxTasks: 120 });
    const fleetB = SimFleet.generate({ seed: 305, projects: 1, clustersPerProject: 3, minTasks: 10, maxTasks: 60 });
    // Run A's API answers only when the test lets it: until then every request
    // outlasts A's 1 s HTTP timeout and is retried, so A is alive and waiting.
    const gate: SimulatorOptions & { latencyMs: number } = {
      fleet: fleetA,
      pageSizeCap: 50,
      latencyMs: 600_000,
      auth: { token: TEST_TOKEN },
    };
    const simA = await startSimulator(gate);
    const simB = await startSimulator({ fleet: fleetB, auth: { token: TEST_TOKEN } });
    const controller = new AbortController();
    setMaxListeners(0, controller.signal);
    let a: Promise<RunReport> | undefined;
    try {
      let aSettled = false;
      a = exportOnce(
        db.url,
        fleetConfig(simA, fleetA, {
          concurrency: 1,
          http: { timeoutMs: 1000, maxRetries: 20, retryMinDelayMs: 5, retryMaxDelayMs: 50, maxRequestsPerSecond: 5000 },
        }),
        { kind: 'token', token: TEST_TOKEN },
        controller.signal,
      ).finally(() => (aSettled = true));
      const aRunId = await waitFor('run A to open its run and start a cluster', async () => {
        if (aSettled) throw new Error('run A ended early');
        const r = await db.pool.query<{ run_id: number }>(
          `SELECT r.run_id::int AS run_id FROM dws.export_runs r
             JOIN dws.export_cluster_runs c USING (run_id)
            WHERE r.status = 'running' AND c.status = 'running'`,
        );
        return r.rows[0]?.run_id;
      });

      // A run whose process is gone: `running`, with a running cluster, and nobody holding its lock.
      const dead = await db.pool.query<{ run_id: number }>(
        `INSERT INTO dws.export_runs (exporter_version, hostname, source_time_zone, clusters_total)
         VALUES ('0.0.0', 'a-dead-pod', 'UTC', 1) RETURNING run_id::int AS run_id`,
      );
      const deadRunId = dead.rows[0]?.run_id;
      await db.pool.query(
        "INSERT INTO dws.export_cluster_runs (run_id, project_id, cluster_id) VALUES ($1, 'p-dead', 'c-dead')",
        [deadRunId],
      );

      const b = await exportOnce(db.url, fleetConfig(simB, fleetB));
      expect(b.status).toBe('succeeded');

      const statuses = async (): Promise<Record<string, string>> => {
        const r = await db.pool.query<{ key: string; status: string }>(
          `SELECT 'run ' || run_id AS key, status FROM dws.export_runs
            UNION ALL
           SELECT 'cluster ' || run_id || ' ' || cluster_id, status FROM dws.export_cluster_runs WHERE run_id IN ($1, $2)`,
          [aRunId, deadRunId],
        );
        return Object.fromEntries(r.rows.map((row) => [row.key, row.status]));
      };
      const afterB = await statuses();
      expect(aSettled).toBe(false);
      expect(afterB[`run ${aRunId}`]).toBe('running');
      expect(Object.entries(afterB).filter(([key]) => key.startsWith(`cluster ${aRunId} `)).map(([, s]) => s)).toContain('running');
      expect(Object.entries(afterB).filter(([key, s]) => key.startsWith(`cluster ${aRunId} `) && s === 'abandoned')).toEqual([]);
      expect(afterB[`run ${deadRunId}`]).toBe('abandoned');
      expect(afterB[`cluster ${deadRunId} c-dead`]).toBe('abandoned');
      expect(afterB[`run ${b.runId}`]).toBe('succeeded');

      // Let A's API answer: A finishes, succeeded, and says so in the ledger.
      gate.latencyMs = 0;
      const report = await a;
      expect(report.runId).toBe(aRunId);
      expect(report.status).toBe('succeeded');
      const final = await db.pool.query<{ status: string; error_code: string | null }>(
        'SELECT status, error_code FROM dws.export_runs WHERE run_id = $1',
        [aRunId],
      );
      expect(final.rows).toEqual([{ status: 'succeeded', error_code: null }]);
      expect(await storedTasks(db.pool)).toEqual([...fleetTasks(fleetA), ...fleetTasks(fleetB)].sort());
    } finally {
      controller.abort('SIGTERM');
      await a?.catch(() => undefined);
      await simA.close();
      await simB.close();
      await db.drop();
    }
  });
});
