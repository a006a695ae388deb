/**
 * Soak: 200 clusters against a simulator that fails about one request in six
 * (5xx, 429, connection resets), through the real exporter into a real
 * PostgreSQL. The table must end exactly equal to the simulator's data, and
 * the ledger must explain every retry: each failed attempt the simulator
 * answered is one retry in dws.export_cluster_runs.api_retries (the exporter
 * counts a retry when it decides to send the request again, src/source/
 * dws-client.ts onRetry via src/source/retry-policy.ts; with no cluster
 * failing, no failed attempt went without its retry).
 */
import { describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.js';
import { ExitCode } from '../../src/core/exit-codes.js';
import type { FaultSpec } from '../../src/simulator/faults.js';
import { SimFleet, startSimulator, type Simulator } from '../../src/simulator/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { TEST_TOKEN, exportOnce, fleetConfig, fleetTasks, storedTasks } from '../support/exporter.js';

const FAILED_ATTEMPTS = ['429', '500', '502', '503', '504', 'reset'] as const;

function failedAttempts(simulator: Simulator): number {
  return FAILED_ATTEMPTS.reduce((total, key) => total + (simulator.stats.byStatus[key] ?? 0), 0);
}

function injectedFailures(simulator: Simulator): number {
  const injected = simulator.faults?.injected ?? {};
  return Object.entries(injected)
    .filter(([kind]) => kind.startsWith('status:') || kind === 'reset')
    .reduce((total, [, n]) => total + n, 0);
}

interface ClusterRun {
  readonly cluster_id: string;
  readonly status: string;
  readonly api_requests: number;
  readonly api_retries: number;
}

async function soak(
  faults: FaultSpec,
  check: (db: TestDatabase, simulator: Simulator, report: Awaited<ReturnType<typeof exportOnce>>, runs: ClusterRun[]) => Promise<void>,
): Promise<void> {
  const fleet = SimFleet.generate({ seed: 73, projects: 4, clustersPerProject: 50, minTasks: 0, maxTasks: 60 });
  const db = await createTestDatabase();
  const simulator = await startSimulator({ fleet, pageSizeCap: 20, faults, auth: { token: TEST_TOKEN } });
  try {
    const http: ConfigInput['http'] = { maxRetries: 8, retryMinDelayMs: 1, retryMaxDelayMs: 20, maxRequestsPerSecond: 5000 };
    const report = await exportOnce(db.url, fleetConfig(simulator, fleet, { concurrency: 8, pageSize: 50, http }));
    const runs = await db.pool.query<ClusterRun>(
      'SELECT cluster_id, status, api_requests, api_retries FROM dws.export_cluster_runs WHERE run_id = $1',
      [report.runId],
    );
    expect(runs.rows).toHaveLength(200);
    expect(await storedTasks(db.pool)).toEqual(fleetTasks(fleet));
    await check(db, simulator, report, runs.rows);
  } finally {
    await simulator.close();
    await db.drop();
  }
}

/** The ledger explains every attempt: all of them per cluster, and every failed one as a retry. */
async function expectEveryRetryExplained(
  db: TestDatabase,
  simulator: Simulator,
  runId: number,
  runs: readonly ClusterRun[],
): Promise<void> {
  const failed = failedAttempts(simulator);
  expect(failed).toBeGreaterThan(0);
  expect(failed).toBe(injectedFailures(simulator));
  expect(runs.filter((r) => r.status === 'failed')).toEqual([]);
  expect(runs.reduce((total, r) => total + r.api_retries, 0)).toBe(failed);
  // api_requests counts requests sent, retries included (the column's documented meaning).
  for (const run of runs) {
    expect(run.api_requests, `attempts of ${run.cluster_id}`).toBe(simulator.stats.byCluster[run.cluster_id] ?? 0);
  }
  const totals = await db.pool.query('SELECT api_retries::int AS api_retries FROM dws.export_runs WHERE run_id = $1', [runId]);
  expect(totals.rows[0].api_retries).toBe(failed);
}

const BASE: FaultSpec = { serverErrorRate: 0.1, throttleRate: 0.05, resetRate: 0.02 };

describe('soak: 200 clusters, 10% 5xx, 5% 429, 2% resets', () => {
  it('429s without Retry-After: the table ends exact and every failed attempt is one retry in the ledger', async () => {
    await soak({ ...BASE, seed: 101 }, async (db, simulator, report, runs) => {
      expect(report.status).toBe('succeeded');
      expect(report.exitCode).toBe(ExitCode.OK);
      expect(simulator.stats.byStatus['429']).toBeGreaterThan(0);
      await expectEveryRetryExplained(db, simulator, report.runId, runs);
    });
  });

  it('429s with Retry-After: 0 (retry at once): the table ends exact and every failed attempt is one retry in the ledger', async () => {
    await soak({ ...BASE, seed: 103, retryAfterSeconds: 0 }, async (db, simulator, report, runs) => {
      expect(report.status).toBe('succeeded');
      expect(simulator.stats.byStatus['429']).toBeGreaterThan(0);
      await expectEveryRetryExplained(db, simulator, report.runId, runs);
    });
  });

  it('with count drift as well: the table still ends exact and every failed attempt is one retry in the ledger', async () => {
    await soak({ ...BASE, seed: 127, countDriftRate: 0.3 }, async (db, simulator, report, runs) => {
      expect(simulator.faults?.injected.count_drift).toBeGreaterThan(0);
      expect(report.clusters.every((c) => c.status === 'succeeded' || c.status === 'incomplete')).toBe(true);
      await expectEveryRetryExplained(db, simulator, report.runId, runs);
    });
  });
});
