/**
 * HTTP-level faults on the tasks endpoint (src/simulator/faults.ts), against
 * the real exporter and a real PostgreSQL: what is retried, what is not, how
 * each retry lands in the ledger, and the run's API budget. Assertions are on
 * the stored rows against the simulator's data, on dws.export_cluster_runs,
 * and on what the simulator itself counted; never on elapsed time.
 */
import { setMaxListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/core/exit-codes.js';
import { SimFleet, type Simulator } from '../../src/simulator/index.js';
import { type TestDatabase, withDatabase } from '../support/database.js';
import { waitFor } from '../support/cli.js';
import { exportOnce, fleetConfig, fleetTasks, storedTasks, withSimulator } from '../support/exporter.js';

interface ClusterRun {
  readonly cluster_id: string;
  readonly status: string;
  readonly api_requests: number;
  readonly api_retries: number;
  readonly tasks_fetched: number;
  readonly error_code: string | null;
  readonly error_message: string | null;
  readonly http_status: number | null;
  readonly api_error_code: string | null;
  readonly request_id: string | null;
}

async function clusterRuns(db: TestDatabase, runId: number): Promise<Map<string, ClusterRun>> {
  const result = await db.pool.query<ClusterRun>(
    `SELECT cluster_id, status, api_requests, api_retries, tasks_fetched, error_code, error_message,
            http_status, api_error_code, request_id
       FROM dws.export_cluster_runs WHERE run_id = $1`,
    [runId],
  );
  return new Map(result.rows.map((row) => [row.cluster_id, row]));
}

function sum(rows: Iterable<ClusterRun>, field: 'api_requests' | 'api_retries'): number {
  let total = 0;
  for (const row of rows) total += row[field];
  return total;
}

/**
 * Every attempt the simulator received for a cluster is in its ledger row:
 * api_requests counts requests sent, retries included (the column's
 * documented meaning, migrations/0001_export_schema.sql).
 */
function expectEveryAttemptAccounted(simulator: Simulator, runs: Map<string, ClusterRun>): void {
  for (const run of runs.values()) {
    expect(run.api_requests, `attempts of cluster ${run.cluster_id}`).toBe(simulator.stats.byCluster[run.cluster_id] ?? 0);
  }
}

const REQUEST_ID = /^[0-9a-f]{32}$/;

describe('retryable statuses', () => {
  const fleet = SimFleet.generate({ seed: 23, projects: 1, clustersPerProject: 4, minTasks: 30, maxTasks: 90 });

  for (const status of [429, 500, 502, 503, 504] as const) {
    it(`every ${status} answer is retried: the table ends exact and the ledger records one retry per ${status} answered`, async () => {
      await withDatabase(async (db) => {
        // Every third request fails; with one request at a time its retry is never the next third.
        await withSimulator({ fleet, pageSizeCap: 20, faults: { every: { n: 3, status } } }, async (simulator) => {
          const report = await exportOnce(
            db.url,
            fleetConfig(simulator, fleet, { concurrency: 1, pageConcurrency: 1, http: {} }),
          );
          expect(report.status).toBe('succeeded');
          expect(report.exitCode).toBe(ExitCode.OK);
          expect(await storedTasks(db.pool)).toEqual(fleetTasks(fleet));

          const answered = simulator.stats.byStatus[String(status)] ?? 0;
          expect(answered).toBeGreaterThan(0);
          expect(answered).toBe(simulator.faults?.injected[`status:${status}`]);
          const runs = await clusterRuns(db, report.runId);
          expect([...runs.values()].every((r) => r.status === 'succeeded' && r.error_code === null)).toBe(true);
          expect(sum(runs.values(), 'api_retries')).toBe(answered);
          expect(report.totals.apiRetries).toBe(answered);
          expectEveryAttemptAccounted(simulator, runs);
        });
      });
    });
  }
});

describe('requests cut short', () => {
  it('retries cancelled in their backoff and requests stopped before they were sent are not counted: api_requests is what the API received', async () => {
    await withDatabase(async (db) => {
      const fleet = SimFleet.generate({ seed: 31, projects: 1, clustersPerProject: 8, minTasks: 5, maxTasks: 20 });
      // The first request proves the credential (a one-page cluster); every later one is throttled.
      await withSimulator({ fleet, faults: { throttleBurst: { from: 2, count: 1000 } } }, async (simulator) => {
        const shutdown = new AbortController();
        // Every request in flight listens on it, as on the CLI's (src/commands/shutdown.ts).
        setMaxListeners(0, shutdown.signal);
        // Two requests in flight, each waiting out a long backoff after its 429;
        // the other clusters' first requests queue behind them.
        const config = fleetConfig(simulator, fleet, {
          concurrency: 8,
          pageConcurrency: 1,
          http: { maxInFlight: 2, retryMinDelayMs: 60_000, retryMaxDelayMs: 60_000 },
        });
        const running = exportOnce(db.url, config, undefined, shutdown.signal);
        await waitFor('the first two 429s', async () => (simulator.stats.byStatus['429'] ?? 0) >= 2);
        shutdown.abort('SIGTERM');
        const report = await running;
        expect(report.status).toBe('interrupted');
        const runs = await clusterRuns(db, report.runId);
        expectEveryAttemptAccounted(simulator, runs);
        expect(report.totals.apiRequests).toBe(simulator.stats.requests);
      });
    });
  });
});

describe('Retry-After', () => {
  const fleet = SimFleet.generate({ seed: 29, projects: 1, clustersPerProject: 2, minTasks: 45, maxTasks: 60 });
  const [first, second] = fleet.clusters;
  if (!first || !second) throw new Error('fixture too small');

  it('a 429 whose Retry-After (1 s) is below retryMaxDelayMs is waited out and retried; the cluster succeeds', async () => {
    await withDatabase(async (db) => {
      const faults = { throttleBurst: { from: 2, count: 1, retryAfterSeconds: 1 } };
      await withSimulator({ fleet, pageSizeCap: 20, faults }, async (simulator) => {
        const report = await exportOnce(
          db.url,
          fleetConfig(simulator, fleet, { concurrency: 1, pageConcurrency: 1, http: { retryMaxDelayMs: 1500 } }),
        );
        expect(report.status).toBe('succeeded');
        expect(await storedTasks(db.pool)).toEqual(fleetTasks(fleet));
        expect(simulator.stats.byStatus['429']).toBe(1);
        const runs = await clusterRuns(db, report.runId);
        expect(runs.get(first.id)).toMatchObject({ status: 'succeeded', api_retries: 1 });
        expect(runs.get(second.id)).toMatchObject({ status: 'succeeded', api_retries: 0 });
        expectEveryAttemptAccounted(simulator, runs);
      });
    });
  });

  it('a 429 whose Retry-After exceeds retryMaxDelayMs fails that cluster at once, with the 429 in the ledger; the others export', async () => {
    await withDatabase(async (db) => {
      // One hour: had the exporter slept, the test would time out.
      const faults = { throttleBurst: { from: 1, count: 1, retryAfterSeconds: 3600 } };
      await withSimulator({ fleet, pageSizeCap: 20, faults }, async (simulator) => {
        const report = await exportOnce(db.url, fleetConfig(simulator, fleet, { concurrency: 1, pageConcurrency: 1, http: {} }));
        expect(report.status).toBe('partial');
        expect(report.exitCode).toBe(ExitCode.PARTIAL);
        const runs = await clusterRuns(db, report.runId);
        expect(runs.get(first.id)).toMatchObject({
          status: 'failed',
          api_requests: 1,
          api_retries: 0,
          tasks_fetched: 0,
          error_code: 'DWS_API_ERROR',
          http_status: 429,
          api_error_code: 'APIG.0308',
        });
        expect(runs.get(first.id)?.request_id).toMatch(REQUEST_ID);
        expect(simulator.stats.byCluster[first.id]).toBe(1);
        expect(runs.get(second.id)).toMatchObject({ status: 'succeeded', api_retries: 0 });
        expect(await storedTasks(db.pool)).toEqual(fleetTasks(new SimFleet([second])));
      });
    });
  });
});

describe('network faults', () => {
  const fleet = SimFleet.generate({ seed: 37, projects: 1, clustersPerProject: 6, minTasks: 10, maxTasks: 120 });

  it('connections reset without an answer are retried: the table ends exact and each reset is one retry in the ledger', async () => {
    await withDatabase(async (db) => {
      await withSimulator({ fleet, pageSizeCap: 20, faults: { seed: 5, resetRate: 0.25 } }, async (simulator) => {
        const report = await exportOnce(
          db.url,
          fleetConfig(simulator, fleet, { concurrency: 3, http: { maxRetries: 8 } }),
        );
        expect(report.status).toBe('succeeded');
        expect(await storedTasks(db.pool)).toEqual(fleetTasks(fleet));
        const resets = simulator.stats.byStatus.reset ?? 0;
        expect(resets).toBeGreaterThan(0);
        expect(resets).toBe(simulator.faults?.injected.reset);
        const runs = await clusterRuns(db, report.runId);
        expect(sum(runs.values(), 'api_retries')).toBe(resets);
        expectEveryAttemptAccounted(simulator, runs);
      });
    });
  });

  it('answers slower than http.timeoutMs are abandoned and retried as timeouts: the table ends exact', async () => {
    await withDatabase(async (db) => {
      const faults = { seed: 4, slowRate: 0.25, slowMs: 1000 };
      await withSimulator({ fleet, pageSizeCap: 20, faults }, async (simulator) => {
        const report = await exportOnce(
          db.url,
          fleetConfig(simulator, fleet, { concurrency: 3, http: { timeoutMs: 200, maxRetries: 8 } }),
        );
        expect(report.status).toBe('succeeded');
        expect(await storedTasks(db.pool)).toEqual(fleetTasks(fleet));
        const slow = simulator.faults?.injected.slow ?? 0;
        expect(slow).toBeGreaterThan(0);
        const runs = await clusterRuns(db, report.runId);
        // Slow answers timed out and were retried. (Not one retry per slow
        // answer: on a loaded machine the attempt counts drift either way,
        // so the exact relation is checked on requests below.)
        expect(sum(runs.values(), 'api_retries')).toBeGreaterThan(0);
        // A slow request reaches the per-cluster counter only after its delay,
        // so compare with the count taken on arrival: every attempt is in the ledger.
        expect(sum(runs.values(), 'api_requests')).toBe(simulator.stats.requests);
      });
    });
  });
});

describe('statuses that are never retried', () => {
  it('a 400 and a 404 are asked exactly once and fail only their cluster, with status, API code and request id in the ledger', async () => {
    await withDatabase(async (db) => {
      const fleet = SimFleet.generate({ seed: 41, projects: 1, clustersPerProject: 3, minTasks: 10, maxTasks: 50 });
      const [rejected, deleted, healthy] = fleet.clusters;
      if (!rejected || !deleted || !healthy) throw new Error('fixture too small');
      rejected.fault = { kind: 'status', status: 400, errorCode: 'DWS.0001', errorMsg: 'Invalid parameter.' };
      deleted.fault = { kind: 'status', status: 404, errorCode: 'DWS.0015', errorMsg: 'The cluster does not exist.' };
      await withSimulator({ fleet, pageSizeCap: 20 }, async (simulator) => {
        const report = await exportOnce(db.url, fleetConfig(simulator, fleet, { http: { maxRetries: 8 } }));
        expect(report.status).toBe('partial');
        expect(simulator.stats.byCluster[rejected.id]).toBe(1);
        expect(simulator.stats.byCluster[deleted.id]).toBe(1);
        const runs = await clusterRuns(db, report.runId);
        expect(runs.get(rejected.id)).toMatchObject({
          status: 'failed',
          api_requests: 1,
          api_retries: 0,
          error_code: 'DWS_API_ERROR',
          http_status: 400,
          api_error_code: 'DWS.0001',
        });
        expect(runs.get(deleted.id)).toMatchObject({
          status: 'failed',
          api_requests: 1,
          api_retries: 0,
          error_code: 'DWS_API_ERROR',
          http_status: 404,
          api_error_code: 'DWS.0015',
        });
        expect(runs.get(rejected.id)?.request_id).toMatch(REQUEST_ID);
        expect(runs.get(deleted.id)?.request_id).toMatch(REQUEST_ID);
        expect(runs.get(healthy.id)).toMatchObject({ status: 'succeeded', api_retries: 0 });
        expect(await storedTasks(db.pool)).toEqual(fleetTasks(new SimFleet([healthy])));
      });
    });
  });
});

describe('API budget', () => {
  it('with http.maxInFlight 2 the server never sees more than 2 requests at once, even at concurrency 8', async () => {
    await withDatabase(async (db) => {
      const fleet = SimFleet.generate({ seed: 43, projects: 1, clustersPerProject: 8, minTasks: 40, maxTasks: 100 });
      await withSimulator({ fleet, pageSizeCap: 10, latencyMs: 10 }, async (simulator) => {
        const capped = await exportOnce(
          db.url,
          fleetConfig(simulator, fleet, { concurrency: 8, http: { maxInFlight: 2 } }),
        );
        expect(capped.status).toBe('succeeded');
        expect(await storedTasks(db.pool)).toEqual(fleetTasks(fleet));
        expect(simulator.stats.maxInFlight).toBeLessThanOrEqual(2);

        // The same run without the cap does overlap more: the measurement can see it.
        simulator.resetStats();
        const uncapped = await exportOnce(db.url, fleetConfig(simulator, fleet, { concurrency: 8, http: {} }));
        expect(uncapped.status).toBe('succeeded');
        expect(simulator.stats.maxInFlight).toBeGreaterThan(2);
      });
    });
  });
});
