/**
 * Resilience against the warehouse going away: a PostgreSQL restart in the
 * middle of a run (failover, minor-version upgrade, OOM restart) and a server
 * that does not come back. A dedicated embedded PostgreSQL per file (real
 * binaries, its own data directory under the OS temp dir) that the tests stop
 * and start again on the same directory and port; the DWS API simulator over
 * HTTP with latency so runs last long enough to be cut; the export in-process
 * (`exportOnce`) and through the real CLI in a child process.

 */
import { setMaxListeners } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.js';
import { ExporterError } from '../../src/core/errors.js';
import type { RunReport } from '../../src/export/run-export.js';
import { ExitCode } from '../../src/core/exit-codes.js';
import { SimFleet, startSimulator, type Simulator } from '../../src/simulator/index.js';
import { startEmbeddedPostgres, type EmbeddedServer } from '../../src/warehouse/embedded-postgres.js';
import { cliLauncher, describeResult, once, waitFor } from '../support/cli.js';
import { withDatabaseName } from '../support/database.js';
import { TEST_TOKEN, exportOnce, fleetConfig, fleetTasks, storedTasks } from '../support/exporter.js';

/** Cases that need every pool client to survive a server restart (src/warehouse/database.ts). */
const itLockClient = it;

/** Cases that need the run lock to be taken again after a restart (src/warehouse/run-lock.ts). */
const itRunLockLost = it;

/** The advisory-lock namespace of run ids (src/warehouse/run-lock.ts), "DWSE". */
const RUN_LOCK_NAMESPACE = 0x44575345;

const { startCli } = cliLauncher();

let baseDir: string;
let workDir: string;
let server: EmbeddedServer;
let port: number;
let serverUp = false;

async function startServer(): Promise<void> {
  server = await startEmbeddedPostgres(baseDir, { port });
  serverUp = true;
}

async function stopServer(): Promise<void> {
  serverUp = false;
  await server.stop();
}

/** Stop, a second of downtime, start again on the same data directory and port. */
async function restartServer(): Promise<void> {
  await stopServer();
  await sleep(1000);
  await startServer();
}

let databaseCounter = 0;

async function freshDatabase(): Promise<string> {
  const name = `resilience_${++databaseCounter}`;
  await query(server.url, `CREATE DATABASE ${name}`);
  return withDatabaseName(server.url, name);
}

/** One connection per call: the server restarts under these tests, pooled connections would not survive. */
async function query<R extends pg.QueryResultRow>(url: string, sql: string, params: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return (await client.query<R>(sql, params)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function withPool<T>(url: string, body: (pool: pg.Pool) => Promise<T>): Promise<T> {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => undefined);
  try {
    return await body(pool);
  } finally {
    await pool.end();
  }
}

async function storedCount(url: string): Promise<number> {
  return query<{ n: number }>(url, 'SELECT count(*)::int AS n FROM dws.logical_cluster_tasks').then(
    (rows) => rows[0]?.n ?? 0,
    () => 0,
  );
}

/** Waits until some rows are stored; `ended` says the run is over already (then waiting is pointless). */
async function waitForRows(url: string, ended: () => string | null): Promise<void> {
  await waitFor('the first stored rows', async () => {
    const why = ended();
    if (why !== null) throw new Error(`the run ended before storing any row: ${why}`);
    return (await storedCount(url)) > 0;
  });
}

interface Tracked<T> {
  readonly settled: () => boolean;
  readonly outcome: Promise<{ readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown }>;
}

function track<T>(promise: Promise<T>): Tracked<T> {
  let settled = false;
  const outcome = promise.then(
    (value) => {
      settled = true;
      return { ok: true as const, value };
    },
    (error: unknown) => {
      settled = true;
      return { ok: false as const, error };
    },
  );
  return { settled: () => settled, outcome };
}

let configCounter = 0;

async function writeConfig(config: ConfigInput): Promise<string> {
  const path = join(workDir, `config-${++configCounter}.json`);
  await writeFile(path, JSON.stringify(config, null, 2));
  return path;
}

interface RunRow {
  readonly run_id: number;
  readonly status: string;
  readonly rows_inserted: number;
}

async function runRows(url: string): Promise<RunRow[]> {
  return query<RunRow>(url, 'SELECT run_id::int AS run_id, status, rows_inserted::int AS rows_inserted FROM dws.export_runs ORDER BY run_id');
}

async function runningLedgerRows(url: string): Promise<number> {
  const rows = await query<{ n: number }>(
    url,
    `SELECT (SELECT count(*) FROM dws.export_runs WHERE status = 'running')
          + (SELECT count(*) FROM dws.export_cluster_runs WHERE status = 'running') AS n`,
  );
  return Number(rows[0]?.n ?? -1);
}

// 8 clusters, 250-400 tasks, 50 per page, two clusters at a time, 120 ms per
// request: a run lasts several seconds, so the restart lands mid-run.
const fleet = SimFleet.generate({ seed: 201, projects: 1, clustersPerProject: 8, minTasks: 250, maxTasks: 400 });
let slow: Simulator;
let fast: Simulator;

const RIDE_THROUGH: Partial<ConfigInput> = {
  concurrency: 2,
  pageSize: 50,
  batchSize: 50,
  database: { reconnectAttempts: 10, reconnectDelayMs: 300 },
};

function cliConfig(simulator: Simulator, overrides: Partial<ConfigInput>): ConfigInput {
  return { ...fleetConfig(simulator, fleet), ...overrides };
}

beforeAll(async () => {
  baseDir = await mkdtemp(join(tmpdir(), 'dws-exporter-resilience-pg-'));
  workDir = await mkdtemp(join(tmpdir(), 'dws-exporter-resilience-db-'));
  server = await startEmbeddedPostgres(baseDir);
  port = server.port;
  serverUp = true;
  slow = await startSimulator({ fleet, pageSizeCap: 50, latencyMs: 120, auth: { token: TEST_TOKEN } });
  fast = await startSimulator({ fleet, pageSizeCap: 50, auth: { token: TEST_TOKEN } });
});

afterAll(async () => {
  await slow?.close();
  await fast?.close();
  if (serverUp) await server.stop();
  await rm(baseDir, { recursive: true, force: true });
  await rm(workDir, { recursive: true, force: true });
});

describe('database restarted mid-run', () => {
  itLockClient('the in-process run rides through the restart; the table equals the simulator tasks (after a rerun if clusters failed, their failures recorded as DB_ERROR)', async () => {
    const url = await freshDatabase();
    const run = track(exportOnce(url, fleetConfig(slow, fleet, RIDE_THROUGH)));
    await waitForRows(url, () => (run.settled() ? 'settled' : null));
    await restartServer();
    const outcome = await run.outcome;
    if (!outcome.ok) throw outcome.error;
    const report: RunReport = outcome.value;
    const notOk = report.clusters.filter((c) => c.status !== 'succeeded');
    expect(notOk.map((c) => ({ status: c.status, code: c.error?.code }))).toEqual(
      notOk.map(() => ({ status: 'failed', code: 'DB_ERROR' })),
    );
    const ledger = await query<{ cluster_id: string; status: string; error_code: string | null }>(
      url,
      'SELECT cluster_id, status, error_code FROM dws.export_cluster_runs WHERE run_id = $1',
      [report.runId],
    );
    expect(ledger.filter((c) => c.status !== 'succeeded').map((c) => [c.cluster_id, c.status, c.error_code]).sort()).toEqual(
      notOk.map((c) => [c.clusterId, 'failed', 'DB_ERROR']).sort(),
    );
    // A batch retried after the restart is counted once: the ledger claims exactly the rows this run first wrote.
    const firstWritten = await query<{ n: number }>(url, 'SELECT count(*)::int AS n FROM dws.logical_cluster_tasks WHERE first_run_id = $1', [report.runId]);
    const [runRow] = await runRows(url);
    expect(runRow).toEqual({ run_id: report.runId, status: report.status, rows_inserted: firstWritten[0]?.n });
    if (notOk.length > 0) {
      const second = await exportOnce(url, fleetConfig(fast, fleet));
      expect(second.status).toBe('succeeded');
    }
    expect(await withPool(url, storedTasks)).toEqual(fleetTasks(fleet));
    expect(await runningLedgerRows(url)).toBe(0);
  });

  const cliRestart = once(async () => {
    const url = await freshDatabase();
    const path = await writeConfig(cliConfig(slow, RIDE_THROUGH));
    const child = startCli(['run', '--config', path], { DATABASE_URL: url, DWS_AUTH_TOKEN: TEST_TOKEN });
    await waitForRows(url, () => (child.exited() ? 'the child exited' : null));
    await restartServer();
    const first = await child.done;
    const firstRuns = await runRows(url);
    const rerunPath = await writeConfig(cliConfig(fast, {}));
    const second = await startCli(['run', '--config', rerunPath], { DATABASE_URL: url, DWS_AUTH_TOKEN: TEST_TOKEN }).done;
    return {
      first,
      firstRuns,
      second,
      runs: await runRows(url),
      stored: await withPool(url, storedTasks),
      running: await runningLedgerRows(url),
    };
  });

  it('a database restart during a CLI run never leaves the warehouse wrong: a rerun stores exactly the simulator tasks and no run stays running', async () => {
    const s = await cliRestart();
    expect(s.first.timedOut, describeResult(s.first)).toBe(false);
    expect(s.second.code, describeResult(s.second)).toBe(ExitCode.OK);
    expect(s.runs.at(-1)?.status).toBe('succeeded');
    expect(s.stored).toEqual(fleetTasks(fleet));
    expect(s.running).toBe(0);
  });

  itLockClient('a CLI run rides through a database restart: exits 0 and its run succeeded', async () => {
    const s = await cliRestart();
    expect(s.first.code, describeResult(s.first)).toBe(ExitCode.OK);
    expect(s.first.stderr).not.toContain('internal error');
    expect(s.firstRuns).toEqual([expect.objectContaining({ status: 'succeeded' })]);
  });

  itRunLockLost('after a database restart a live run holds its run lock again, and a run started meanwhile does not mark it abandoned', async () => {
    const url = await freshDatabase();
    const stuckFleet = SimFleet.generate({ seed: 203, projects: 1, clustersPerProject: 2, minTasks: 10, maxTasks: 20 });
    const otherFleet = SimFleet.generate({ seed: 205, projects: 1, clustersPerProject: 2, minTasks: 10, maxTasks: 20 });
    // Every request of run A takes ten minutes: A is alive, waiting on the API, across the restart.
    const stuck = await startSimulator({ fleet: stuckFleet, latencyMs: 600_000, auth: { token: TEST_TOKEN } });
    const other = await startSimulator({ fleet: otherFleet, auth: { token: TEST_TOKEN } });
    const controller = new AbortController();
    setMaxListeners(0, controller.signal);
    try {
      const a = track(exportOnce(url, fleetConfig(stuck, stuckFleet, RIDE_THROUGH), { kind: 'token', token: TEST_TOKEN }, controller.signal));
      const [aRun] = await waitFor('run A to open its run', async () => {
        if (a.settled()) throw new Error('run A ended early');
        return runRows(url).then((rows) => rows.length > 0 && rows, () => false);
      });
      const aId = aRun?.run_id ?? -1;
      await restartServer();
      await waitFor('run A to hold its run lock again', async () => {
        const rows = await query<{ n: number }>(
          url,
          `SELECT count(*)::int AS n FROM pg_locks
            WHERE locktype = 'advisory' AND granted AND classid::bigint = $1 AND objid::bigint = $2`,
          [RUN_LOCK_NAMESPACE, aId],
        ).catch(() => [{ n: 0 }]);
        return rows[0]?.n === 1;
      }, 30_000);
      const b = await exportOnce(url, fleetConfig(other, otherFleet));
      expect(b.status).toBe('succeeded');
      expect((await runRows(url)).find((r) => r.run_id === aId)?.status).toBe('running');
      controller.abort('SIGTERM');
      const aOutcome = await a.outcome;
      expect(aOutcome.ok && aOutcome.value.status).toBe('interrupted');
    } finally {
      controller.abort('SIGTERM');
      await stuck.close();
      await other.close();
    }
  });
});

describe('database gone for good mid-run', () => {
  const GIVE_UP_FAST: Partial<ConfigInput> = {
    concurrency: 2,
    pageSize: 50,
    batchSize: 50,
    database: { reconnectAttempts: 2, reconnectDelayMs: 100 },
  };

  itLockClient('the in-process run ends instead of hanging: it throws a database error, or reports its clusters failed with DB_ERROR', async () => {
    const url = await freshDatabase();
    const run = track(exportOnce(url, fleetConfig(slow, fleet, GIVE_UP_FAST)));
    await waitForRows(url, () => (run.settled() ? 'settled' : null));
    await stopServer();
    try {
      const outcome = await run.outcome;
      if (outcome.ok) {
        const failed = outcome.value.clusters.filter((c) => c.status !== 'succeeded');
        expect(failed.length).toBeGreaterThan(0);
        expect(failed.every((c) => c.status === 'failed' && c.error?.code === 'DB_ERROR')).toBe(true);
      } else {
        expect(outcome.error).toBeInstanceOf(ExporterError);
        expect((outcome.error as ExporterError).code).toMatch(/^DB_(ERROR|UNAVAILABLE)$/);
      }
    } finally {
      await startServer();
    }
  });

  const cliDown = once(async () => {
    const url = await freshDatabase();
    const path = await writeConfig(cliConfig(slow, GIVE_UP_FAST));
    const child = startCli(['run', '--config', path], { DATABASE_URL: url, DWS_AUTH_TOKEN: TEST_TOKEN });
    await waitForRows(url, () => (child.exited() ? 'the child exited' : null));
    await stopServer();
    try {
      return await child.done;
    } finally {
      await startServer();
    }
  });

  it('a CLI run whose database goes away for good ends by itself (does not hang)', async () => {
    const result = await cliDown();
    expect(result.timedOut, describeResult(result)).toBe(false);
    expect(result.signal, describeResult(result)).toBeNull();
  });

  itLockClient('a CLI run whose database goes away for good exits 5 with a database error', async () => {
    const result = await cliDown();
    expect(result.code, describeResult(result)).toBe(ExitCode.DATABASE);
    expect(result.stderr).toMatch(/dws-task-exporter: DB_(ERROR|UNAVAILABLE): /);
    expect(result.stderr).not.toContain('internal error');
  });
});
