/**
 * Resilience against the ways a scheduler ends a job: kill -9 (OOM killer,
 * node lost), SIGTERM (pod eviction, Airflow), SIGINT (Ctrl-C), a second
 * signal, and the grace period running out. The real CLI in a child process
 * (`node --import tsx src/cli.ts run`), the DWS API simulator in this process
 * over HTTP (with latency, so a run lasts long enough to be interrupted), a
 * real PostgreSQL, real signals. Assertions are on exit codes and on the rows
 * in the warehouse and the run ledger; waits poll with generous timeouts.
 */
import { setMaxListeners } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.js';
import { ExitCode } from '../../src/core/exit-codes.js';
import { SimFleet, startSimulator, type Simulator } from '../../src/simulator/index.js';
import { cliLauncher, describeResult, once, waitFor, waitForExporterSessionsGone, type CliProcess, type CliResult } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { TEST_TOKEN, captureLogger, exportOnce, fleetConfig, fleetTasks, storedTasks } from '../support/exporter.js';

const { startCli } = cliLauncher();

async function storedCount(pool: pg.Pool): Promise<number> {
  // The table does not exist until the child has migrated.
  return pool
    .query<{ n: number }>('SELECT count(*)::int AS n FROM dws.logical_cluster_tasks')
    .then((r) => r.rows[0]?.n ?? 0, () => 0);
}

/** Waits until the child has stored some rows; fails at once if it exited first. */
async function waitForRows(pool: pg.Pool, child: CliProcess): Promise<number> {
  return waitFor('the child to store its first rows', async () => {
    if (child.exited()) throw new Error(`the child exited before storing any row\n${child.output()}`);
    return storedCount(pool);
  });
}

/** Waits until the child has opened its run in the ledger (so its signal handlers are installed). */
async function waitForRunningRun(pool: pg.Pool, child: CliProcess): Promise<void> {
  await waitFor('the child to open its run', async () => {
    if (child.exited()) throw new Error(`the child exited before opening its run\n${child.output()}`);
    return pool
      .query<{ n: number }>("SELECT count(*)::int AS n FROM dws.export_runs WHERE status = 'running'")
      .then((r) => (r.rows[0]?.n ?? 0) > 0, () => false);
  });
}

/** Until the server has ended every session of the exporter (a killed client's backend exits asynchronously). */

interface LedgerRun {
  readonly run_id: number;
  readonly status: string;
  readonly error_code: string | null;
  readonly finished: boolean;
}

interface LedgerCluster {
  readonly run_id: number;
  readonly cluster_id: string;
  readonly status: string;
  readonly error_code: string | null;
  readonly error_message: string | null;
  readonly duration_ms: number | null;
}

async function ledgerRuns(pool: pg.Pool): Promise<LedgerRun[]> {
  const r = await pool.query<LedgerRun>(
    `SELECT run_id::int AS run_id, status, error_code, finished_at IS NOT NULL AS finished
       FROM dws.export_runs ORDER BY run_id`,
  );
  return r.rows;
}

async function ledgerClusters(pool: pg.Pool, runId: number): Promise<LedgerCluster[]> {
  const r = await pool.query<LedgerCluster>(
    `SELECT run_id::int AS run_id, cluster_id, status, error_code, error_message, duration_ms
       FROM dws.export_cluster_runs WHERE run_id = $1 ORDER BY cluster_id`,
    [runId],
  );
  return r.rows;
}

async function storedByCluster(pool: pg.Pool): Promise<Map<string, number>> {
  const r = await pool.query<{ cluster_id: string; n: number }>(
    'SELECT cluster_id, count(*)::int AS n FROM dws.logical_cluster_tasks GROUP BY cluster_id',
  );
  return new Map(r.rows.map((row) => [row.cluster_id, row.n]));
}

function configFor(simulator: Simulator, fleet: SimFleet, overrides: Partial<ConfigInput> = {}): ConfigInput {
  return fleetConfig(simulator, fleet, { concurrency: 2, pageSize: 50, batchSize: 50, ...overrides });
}

let workDir: string;
let configCounter = 0;

async function writeConfig(config: ConfigInput): Promise<string> {
  const path = join(workDir, `config-${++configCounter}.json`);
  await writeFile(path, JSON.stringify(config, null, 2));
  return path;
}

// 12 clusters, 200-400 tasks each, 50 per page, two clusters at a time: with
// 150 ms per request a run lasts several seconds, so a signal sent once the
// first rows are stored always lands mid-run with clusters not yet started.
const fleet = SimFleet.generate({ seed: 101, projects: 1, clustersPerProject: 12, minTasks: 200, maxTasks: 400 });
/** Slow: the run to interrupt. */
let slow: Simulator;
/** Same fleet, no latency: the rerun. */
let fast: Simulator;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'dws-exporter-resilience-signals-'));
  slow = await startSimulator({ fleet, pageSizeCap: 50, latencyMs: 150, auth: { token: TEST_TOKEN } });
  fast = await startSimulator({ fleet, pageSizeCap: 50, auth: { token: TEST_TOKEN } });
});

afterAll(async () => {
  await slow?.close();
  await fast?.close();
  await rm(workDir, { recursive: true, force: true });
});

async function rerun(db: TestDatabase): Promise<CliResult> {
  const path = await writeConfig(configFor(fast, fleet, { concurrency: 4, batchSize: 500 }));
  return startCli(['run', '--config', path], { DATABASE_URL: db.url, DWS_AUTH_TOKEN: TEST_TOKEN }).done;
}

describe('kill -9 mid-run, then a rerun', () => {
  it('the rerun stores exactly the simulator tasks, closes the killed run and its running clusters as abandoned, and succeeds', async () => {
    const db = await createTestDatabase({ migrated: false });
    try {
      const path = await writeConfig(configFor(slow, fleet));
      const child = startCli(['run', '--config', path], { DATABASE_URL: db.url, DWS_AUTH_TOKEN: TEST_TOKEN });
      await waitForRows(db.pool, child);
      child.kill('SIGKILL');
      const killed = await child.done;
      expect(killed.signal, describeResult(killed)).toBe('SIGKILL');
      // What the dead process left: a run still `running`, with rows of it committed.
      const [left] = await ledgerRuns(db.pool);
      expect(left).toMatchObject({ status: 'running', finished: false });
      const leftRunId = left?.run_id ?? -1;
      expect(await storedCount(db.pool)).toBeGreaterThan(0);
      await waitForExporterSessionsGone(db.pool);

      const second = await rerun(db);
      expect(second.code, describeResult(second)).toBe(ExitCode.OK);
      expect(await storedTasks(db.pool)).toEqual(fleetTasks(fleet));

      const runs = await ledgerRuns(db.pool);
      expect(runs).toEqual([
        { run_id: leftRunId, status: 'abandoned', error_code: 'ABANDONED', finished: true },
        { run_id: expect.any(Number), status: 'succeeded', error_code: null, finished: true },
      ]);
      const firstClusters = await ledgerClusters(db.pool, leftRunId);
      // Clusters the killed run had finished keep their outcome; the ones in progress are abandoned.
      expect(firstClusters.filter((c) => !['succeeded', 'abandoned'].includes(c.status))).toEqual([]);
      const abandoned = firstClusters.filter((c) => c.status === 'abandoned');
      expect(abandoned.length).toBeGreaterThan(0);
      expect(abandoned.every((c) => c.error_code === 'ABANDONED')).toBe(true);
      const secondRun = await db.pool.query<{ clusters_ok: number; tasks_fetched: number; rows: number }>(
        `SELECT clusters_ok, tasks_fetched::int AS tasks_fetched,
                (rows_inserted + rows_updated + rows_unchanged)::int AS rows
           FROM dws.export_runs WHERE run_id = $1`,
        [runs[1]?.run_id],
      );
      expect(secondRun.rows).toEqual([{ clusters_ok: 12, tasks_fetched: fleet.totalTasks(), rows: fleet.totalTasks() }]);
    } finally {
      await db.drop();
    }
  });
});

interface SignalScenario {
  readonly interrupted: CliResult;
  readonly runsAfterSignal: LedgerRun[];
  readonly clustersAfterSignal: LedgerCluster[];
  readonly storedAfterSignal: Map<string, number>;
  readonly tasksAfterSignal: string[];
  readonly rerun: CliResult;
  readonly runsAfterRerun: LedgerRun[];
  readonly tasksAfterRerun: string[];
}

/** A CLI run interrupted by `signal` once it has stored rows, then a rerun to completion. */
async function interruptThenRerun(signal: NodeJS.Signals): Promise<SignalScenario> {
  const db = await createTestDatabase({ migrated: false });
  try {
    const path = await writeConfig(configFor(slow, fleet, { shutdownGraceMs: 60_000 }));
    const child = startCli(['run', '--config', path], { DATABASE_URL: db.url, DWS_AUTH_TOKEN: TEST_TOKEN });
    await waitForRows(db.pool, child);
    child.kill(signal);
    const interrupted = await child.done;
    const runsAfterSignal = await ledgerRuns(db.pool);
    const clustersAfterSignal = await ledgerClusters(db.pool, runsAfterSignal[0]?.run_id ?? -1);
    const storedAfterSignal = await storedByCluster(db.pool);
    const tasksAfterSignal = await storedTasks(db.pool);
    await waitForExporterSessionsGone(db.pool);
    const second = await rerun(db);
    return {
      interrupted,
      runsAfterSignal,
      clustersAfterSignal,
      storedAfterSignal,
      tasksAfterSignal,
      rerun: second,
      runsAfterRerun: await ledgerRuns(db.pool),
      tasksAfterRerun: await storedTasks(db.pool),
    };
  } finally {
    await db.drop();
  }
}

/** What the graceful shutdown must leave in the warehouse, and what a rerun must keep of it. */
type LedgerView = Pick<
  SignalScenario,
  'runsAfterSignal' | 'clustersAfterSignal' | 'storedAfterSignal' | 'tasksAfterSignal' | 'runsAfterRerun'
>;

function expectGracefulLedger(s: LedgerView): void {
  const truth = fleetTasks(fleet);
  const runId = s.runsAfterSignal[0]?.run_id;
  expect(s.runsAfterSignal).toEqual([{ run_id: runId, status: 'interrupted', error_code: null, finished: true }]);
  // Every planned cluster has a row: finished ones succeeded, the rest interrupted.
  expect(s.clustersAfterSignal.map((c) => c.cluster_id).sort()).toEqual(fleet.clusters.map((c) => c.id).sort());
  expect(s.clustersAfterSignal.filter((c) => !['succeeded', 'interrupted'].includes(c.status))).toEqual([]);
  const interrupted = s.clustersAfterSignal.filter((c) => c.status === 'interrupted');
  // Two clusters at a time and 12 in all: some never started, and say so (NOT_STARTED, not INTERRUPTED).
  const notStarted = interrupted.filter((c) => c.error_code === 'NOT_STARTED');
  expect(interrupted.filter((c) => c.error_code !== 'NOT_STARTED').every((c) => c.error_code === 'INTERRUPTED')).toBe(true);
  expect(notStarted.length).toBeGreaterThan(0);
  expect(notStarted.every((c) => c.error_message?.startsWith('not started'))).toBe(true);
  expect(notStarted.every((c) => c.duration_ms === 0)).toBe(true);
  // A cluster that succeeded has all its tasks stored; nothing stored is made up.
  for (const c of s.clustersAfterSignal.filter((c) => c.status === 'succeeded')) {
    const expected = fleet.clusters.find((f) => f.id === c.cluster_id)?.tasks.length ?? -1;
    expect(s.storedAfterSignal.get(c.cluster_id) ?? 0, c.cluster_id).toBe(expected);
  }
  expect(s.tasksAfterSignal.every((t) => truth.includes(t))).toBe(true);
  // The rerun leaves an interrupted run as it was (only dead `running` runs become abandoned).
  expect(s.runsAfterRerun[0]).toEqual({ run_id: runId, status: 'interrupted', error_code: null, finished: true });
}

describe('SIGTERM mid-run', () => {
  const scenario = once(() => interruptThenRerun('SIGTERM'));

  it('exits 143, and a rerun succeeds and stores exactly the simulator tasks', async () => {
    const s = await scenario();
    expect(s.interrupted.code, describeResult(s.interrupted)).toBe(ExitCode.INTERRUPTED_SIGTERM);
    expect(s.interrupted.timedOut).toBe(false);
    // Nothing stored before the signal is wrong, and nothing is lost after the rerun.
    const truth = fleetTasks(fleet);
    expect(s.tasksAfterSignal.every((t) => truth.includes(t))).toBe(true);
    expect(s.rerun.code, describeResult(s.rerun)).toBe(ExitCode.OK);
    expect(s.runsAfterRerun.at(-1)).toMatchObject({ status: 'succeeded', finished: true });
    expect(s.runsAfterRerun.filter((r) => r.status === 'running')).toEqual([]);
    expect(s.tasksAfterRerun).toEqual(truth);
  });

  it('closes the ledger as interrupted: finished clusters succeeded with all their rows, the rest interrupted (never-started ones too)', async () => {
    expectGracefulLedger(await scenario());
  });
});

describe('SIGINT mid-run', () => {
  const scenario = once(() => interruptThenRerun('SIGINT'));

  it('exits 130, and a rerun stores exactly the simulator tasks', async () => {
    const s = await scenario();
    expect(s.interrupted.code, describeResult(s.interrupted)).toBe(ExitCode.INTERRUPTED_SIGINT);
    expect(s.interrupted.timedOut).toBe(false);
    expect(s.rerun.code, describeResult(s.rerun)).toBe(ExitCode.OK);
    expect(s.tasksAfterRerun).toEqual(fleetTasks(fleet));
  });

  it('closes the ledger as interrupted, like SIGTERM', async () => {
    expectGracefulLedger(await scenario());
  });
});

describe('shutdown that cannot finish', () => {
  // Every request takes ten minutes, and the test holds a lock on the run's
  // ledger row: nothing the shutdown does after the first signal can complete
  // (requests are aborted, but closing the ledger waits for the lock).
  const stuckFleet = SimFleet.generate({ seed: 103, projects: 1, clustersPerProject: 4, minTasks: 50, maxTasks: 100 });
  let stuck: Simulator;

  beforeAll(async () => {
    stuck = await startSimulator({ fleet: stuckFleet, latencyMs: 600_000, auth: { token: TEST_TOKEN } });
  });
  afterAll(async () => {
    await stuck?.close();
  });

  /**
   * Starts a run against the stuck simulator, locks its ledger row once it is
   * open, sends SIGTERM, then (if `second`) SIGTERM again once the child has
   * logged that it is shutting down.
   */
  async function signalStuckRun(shutdownGraceMs: number, second: boolean): Promise<CliResult> {
    const db = await createTestDatabase();
    try {
      const path = await writeConfig(configFor(stuck, stuckFleet, { shutdownGraceMs }));
      const child = startCli(['run', '--config', path], { DATABASE_URL: db.url, DWS_AUTH_TOKEN: TEST_TOKEN });
      await waitForRunningRun(db.pool, child);
      const holder = await db.pool.connect();
      try {
        await holder.query('BEGIN');
        await holder.query("SELECT run_id FROM dws.export_runs WHERE status = 'running' FOR UPDATE");
        child.kill('SIGTERM');
        if (second) {
          await waitFor('the child to log that it is shutting down', async () => {
            if (child.exited()) return true;
            return child.stderr().includes('shutting down');
          });
          child.kill('SIGTERM');
        }
        return await child.done;
      } finally {
        await holder.query('ROLLBACK').catch(() => undefined);
        holder.release();
      }
    } finally {
      await db.drop();
    }
  }

  it('a second SIGTERM while the first is being handled exits 143 at once, without waiting for the grace period', async () => {
    const result = await signalStuckRun(600_000, true);
    expect(result.timedOut, describeResult(result)).toBe(false);
    expect(result.code, describeResult(result)).toBe(ExitCode.INTERRUPTED_SIGTERM);
    expect(result.stderr).toContain('second signal');
  });

  it('when the grace period runs out before the shutdown is done, the process exits 143', async () => {
    const result = await signalStuckRun(50, false);
    expect(result.timedOut, describeResult(result)).toBe(false);
    expect(result.code, describeResult(result)).toBe(ExitCode.INTERRUPTED_SIGTERM);
    expect(result.stderr).toContain('grace period over');
  });
});

describe('shutdown through the run signal (in-process, what the CLI does on SIGTERM/SIGINT)', () => {
  for (const [reason, exitCode] of [
    ['SIGTERM', ExitCode.INTERRUPTED_SIGTERM],
    ['SIGINT', ExitCode.INTERRUPTED_SIGINT],
  ] as const) {
    it(`aborted with ${reason} mid-run: the run closes as interrupted (exit ${exitCode}), finished clusters keep all their rows, the rest are interrupted, and a rerun is exact`, async () => {
      const db = await createTestDatabase();
      try {
        const controller = new AbortController();
        // Every request in flight listens on it, as in production (src/commands/shutdown.ts).
        setMaxListeners(0, controller.signal);
        const run = exportOnce(
          db.url,
          fleetConfig(slow, fleet, { concurrency: 2, pageSize: 50, batchSize: 50 }),
          { kind: 'token', token: TEST_TOKEN },
          controller.signal,
        );
        let settled = false;
        void run.then(
          () => (settled = true),
          () => (settled = true),
        );
        await waitFor('the run to store its first rows', async () => {
          if (settled) throw new Error('the run ended before storing any row');
          return storedCount(db.pool);
        });
        controller.abort(reason);
        const report = await run;
        expect(report.status).toBe('interrupted');
        expect(report.exitCode).toBe(exitCode);
        const afterSignal = {
          runsAfterSignal: await ledgerRuns(db.pool),
          clustersAfterSignal: await ledgerClusters(db.pool, report.runId),
          storedAfterSignal: await storedByCluster(db.pool),
          tasksAfterSignal: await storedTasks(db.pool),
        };
        const second = await exportOnce(db.url, fleetConfig(fast, fleet, { concurrency: 4 }));
        expect(second.status).toBe('succeeded');
        expectGracefulLedger({ ...afterSignal, runsAfterRerun: await ledgerRuns(db.pool) });
        expect(await storedTasks(db.pool)).toEqual(fleetTasks(fleet));
      } finally {
        await db.drop();
      }
    });
  }
});

describe('shutdown while the cluster lists are being read', () => {
  it('SIGTERM during listing ends the run as interrupted (exit 143), with no "cannot list the clusters" failure', async () => {
    const db = await createTestDatabase();
    const fleet = SimFleet.generate({ seed: 89, projects: 1, clustersPerProject: 3, minTasks: 1, maxTasks: 5 });
    // Slow answers: the list request is still out when the signal comes.
    const simulator = await startSimulator({ fleet, auth: { token: TEST_TOKEN }, latencyMs: 5000 });
    try {
      const controller = new AbortController();
      setMaxListeners(0, controller.signal);
      const { lines, logger } = captureLogger();
      const config = { ...fleetConfig(simulator, fleet), projects: fleet.projectIds().map((projectId) => ({ projectId, clusters: 'all' as const })) };
      const run = exportOnce(db.url, config, { kind: 'token', token: TEST_TOKEN }, controller.signal, { logger });
      await waitFor('the cluster list to be requested', async () => simulator.stats.requests > 0);
      controller.abort('SIGTERM');
      const report = await run;
      expect(report.status).toBe('interrupted');
      expect(report.exitCode).toBe(ExitCode.INTERRUPTED_SIGTERM);
      expect(await ledgerRuns(db.pool)).toEqual([expect.objectContaining({ run_id: report.runId, status: 'interrupted', finished: true })]);
      expect(lines.filter((line) => line.level === 'error')).toEqual([]);
    } finally {
      await simulator.close();
      await db.drop();
    }
  });
});
