/**
 * The run's machine-readable result (--summary-json, --output json) and
 * sharded runs, through the real CLI in child processes, against the DWS API
 * simulator and a real PostgreSQL. Every value in the document is checked
 * against the ledger the run wrote.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/core/exit-codes.js';
import type { RunSummaryDocument } from '../../src/report/summary-json.js';
import { SimFleet, startSimulator, type Simulator } from '../../src/simulator/index.js';
import { shardOf } from '../../src/plan/shard.js';
import { cliLauncher, describeResult } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { TEST_TOKEN, fleetConfig, fleetTasks, storedTasks } from '../support/exporter.js';


const { runCli } = cliLauncher();

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dws-exporter-summary-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('--summary-json and --output json', () => {
  let db: TestDatabase;
  let simulator: Simulator;
  const fleet = SimFleet.generate({ seed: 41, projects: 2, clustersPerProject: 3, minTasks: 5, maxTasks: 120 });
  const [broken] = fleet.clusters;
  if (!broken) throw new Error('fixture too small');
  broken.fault = { kind: 'status', status: 404, errorCode: 'DWS.0015', errorMsg: 'The cluster does not exist.' };

  beforeAll(async () => {
    db = await createTestDatabase();
    simulator = await startSimulator({ fleet, auth: { token: TEST_TOKEN } });
  });
  afterAll(async () => {
    await simulator.close();
    await db.drop();
  });

  it('writes one document whose numbers are the ledger\'s, and prints the same document alone on stdout', async () => {
    const configPath = join(dir, 'partial.json');
    const summaryPath = join(dir, 'out', 'summary.json');
    await writeFile(configPath, JSON.stringify(fleetConfig(simulator, fleet)));
    const result = await runCli(
      ['run', '--config', configPath, '--summary-json', summaryPath, '--output', 'json', '--run-group', 'nightly-2026-03-01'],
      { DATABASE_URL: db.url, DWS_AUTH_TOKEN: TEST_TOKEN },
    );
    expect(result.code, describeResult(result)).toBe(ExitCode.PARTIAL);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines, describeResult(result)).toHaveLength(1);
    const printed = JSON.parse(lines[0] ?? '') as RunSummaryDocument;
    const written = JSON.parse(await readFile(summaryPath, 'utf8')) as RunSummaryDocument;
    expect(written).toEqual(printed);

    expect(printed).toMatchObject({
      schemaVersion: 1,
      runGroupId: 'nightly-2026-03-01',
      shard: { index: 0, count: 1 },
      status: 'partial',
      exitCode: 3,
      outcome: 'partial',
      retryable: true,
      error: null,
    });
    const run = await db.pool.query(
      `SELECT run_id::int, status, run_group_id, clusters_ok, clusters_failed, tasks_fetched::int, rows_inserted::int,
              rows_updated::int, rows_unchanged::int, api_requests::int, api_retries::int
         FROM dws.export_runs WHERE run_id = $1`,
      [printed.runId],
    );
    const row = run.rows[0] as Record<string, unknown>;
    expect(row).toMatchObject({ status: 'partial', run_group_id: 'nightly-2026-03-01' });
    expect(printed.totals).toEqual({
      clustersPlanned: 6,
      clustersOk: row.clusters_ok,
      clustersIncomplete: 0,
      clustersFailed: row.clusters_failed,
      clustersInterrupted: 0,
      clustersNotStarted: 0,
      tasksFetched: row.tasks_fetched,
      rowsInserted: row.rows_inserted,
      rowsUpdated: row.rows_updated,
      rowsUnchanged: row.rows_unchanged,
      apiRequests: row.api_requests,
      apiRetries: row.api_retries,
    });
    expect(printed.clusters).toHaveLength(6);
    expect(printed.endpoints).toEqual([{ endpoint: simulator.url, clusters: 6, unreachable: false, clustersNotExported: 0, lastError: null }]);
    expect(printed.abandonedRuns).toEqual([]);
    const failed = printed.clusters.find((c) => c.clusterId === broken.id);
    expect(failed).toMatchObject({
      status: 'failed',
      error: { code: 'DWS_API_ERROR', httpStatus: 404, apiErrorCode: 'DWS.0015' },
    });
    expect(failed?.error?.requestId).toMatch(/^[0-9a-f]{32}$/);
    const ledger = await db.pool.query<{ cluster_id: string; tasks_fetched: number; rows_inserted: number }>(
      'SELECT cluster_id, tasks_fetched, rows_inserted FROM dws.export_cluster_runs WHERE run_id = $1',
      [printed.runId],
    );
    for (const l of ledger.rows) {
      expect(printed.clusters.find((c) => c.clusterId === l.cluster_id)).toMatchObject({ tasksFetched: l.tasks_fetched, rowsInserted: l.rows_inserted });
    }
    expect(Date.parse(printed.finishedAt)).toBeGreaterThanOrEqual(Date.parse(printed.startedAt));
  });

  it('describes a run that could not reach its database, with status "error" and the database exit code', async () => {
    const configPath = join(dir, 'nodb.json');
    const summaryPath = join(dir, 'nodb-summary.json');
    await writeFile(configPath, JSON.stringify(fleetConfig(simulator, fleet)));
    const result = await runCli(['run', '--config', configPath, '--summary-json', summaryPath], {
      DATABASE_URL: 'postgres://nobody:secret-pw@127.0.0.1:1/none',
      DWS_AUTH_TOKEN: TEST_TOKEN,
    });
    expect(result.code, describeResult(result)).toBe(ExitCode.DATABASE);
    const text = await readFile(summaryPath, 'utf8');
    expect(text).not.toContain('secret-pw');
    expect(JSON.parse(text)).toMatchObject({
      runId: null,
      status: 'error',
      exitCode: 5,
      outcome: 'database',
      retryable: true,
      totals: null,
      clusters: [],
      error: { code: 'DB_UNAVAILABLE' },
    });
  });

  it('a cluster\'s ledger row that cannot be written after the run was closed: status "error", exit 5, and still the run id and the totals the ledger has', async () => {
    const own = await createTestDatabase();
    try {
      const [refused] = fleet.clusters.slice(-1);
      if (!refused) throw new Error('fixture too small');
      // A real statement failure on one cluster's final ledger write (not a transient one: not retried).
      await own.pool.query(`CREATE FUNCTION pg_temp_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
                              BEGIN RAISE EXCEPTION 'test: this ledger row cannot be written'; END $$`);
      await own.pool.query(
        `CREATE TRIGGER refuse_finish BEFORE UPDATE ON dws.export_cluster_runs FOR EACH ROW
           WHEN (NEW.cluster_id = '${refused.id}' AND NEW.status <> 'running') EXECUTE FUNCTION pg_temp_refuse()`,
      );
      const configPath = join(dir, 'ledger-broken.json');
      const summaryPath = join(dir, 'ledger-broken-summary.json');
      await writeFile(configPath, JSON.stringify(fleetConfig(simulator, fleet)));
      const result = await runCli(['run', '--config', configPath, '--summary-json', summaryPath], { DATABASE_URL: own.url, DWS_AUTH_TOKEN: TEST_TOKEN });
      expect(result.code, describeResult(result)).toBe(ExitCode.DATABASE);
      const written = JSON.parse(await readFile(summaryPath, 'utf8')) as RunSummaryDocument;
      const runs = await own.pool.query<{ run_id: number; finished: boolean; clusters_ok: number; api_requests: number }>(
        'SELECT run_id::int, finished_at IS NOT NULL AS finished, clusters_ok, api_requests::int FROM dws.export_runs',
      );
      expect(runs.rows).toHaveLength(1);
      const [run] = runs.rows;
      expect(run?.finished).toBe(true);
      expect(written).toMatchObject({ status: 'error', exitCode: 5, runId: run?.run_id, error: { code: 'DB_ERROR' } });
      expect(written.totals).toMatchObject({ clustersPlanned: 6, clustersOk: run?.clusters_ok, apiRequests: run?.api_requests });
    } finally {
      await own.drop();
    }
  });

  it('a --summary-json path that cannot be written is refused before any work, exit 2, not found missing after a good run', async () => {
    const configPath = join(dir, 'unwritable.json');
    await writeFile(configPath, JSON.stringify(fleetConfig(simulator, fleet)));
    const blocker = join(dir, 'a-file');
    await writeFile(blocker, 'not a directory\n');
    const result = await runCli(['run', '--config', configPath, '--summary-json', join(blocker, 'summary.json')], {
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
      DWS_AUTH_TOKEN: TEST_TOKEN,
    });
    expect(result.code, describeResult(result)).toBe(ExitCode.USAGE_OR_CONFIG);
    expect(result.stderr).toMatch(/CONFIG_INVALID: --summary-json .*a-file\/summary\.json: cannot write the summary there/);
    // Refused before the database was even tried.
    expect(result.stderr).not.toContain('DB_UNAVAILABLE');
  });

  it('describes a config error as not retryable, on stdout with --output json', async () => {
    const result = await runCli(['run', '--config', join(dir, 'missing.json'), '--output', 'json'], {
      DATABASE_URL: db.url,
      DWS_AUTH_TOKEN: TEST_TOKEN,
    });
    expect(result.code, describeResult(result)).toBe(ExitCode.USAGE_OR_CONFIG);
    expect(JSON.parse(result.stdout)).toMatchObject({ status: 'error', exitCode: 2, outcome: 'usage_or_config', retryable: false, error: { code: 'CONFIG_INVALID' } });
    expect(result.stderr).toContain('CONFIG_INVALID');
  });

  it('refuses bad values naming the flag', async () => {
    const output = await runCli(['run', '--output', 'xml'], {});
    expect(output.code).toBe(ExitCode.USAGE_OR_CONFIG);
    expect(output.stderr).toContain('--output must be "text" or "json"');
    const shard = await runCli(['run', '--shard-count', '2', '--shard-index', '2'], {});
    expect(shard.code).toBe(ExitCode.USAGE_OR_CONFIG);
    expect(shard.stderr).toContain('--shard-index 2 needs --shard-count above 2');
    const empty = await runCli(['run', '--summary-json', ''], {});
    expect(empty.code).toBe(ExitCode.USAGE_OR_CONFIG);
    expect(empty.stderr).toContain('--summary-json needs a value (PATH)');
  });
});

describe('sharded runs (an Indexed Job\'s pods)', () => {
  it('three shards running at once export every cluster exactly once, each with its own run row in one run group', async () => {
    const db = await createTestDatabase();
    const fleet = SimFleet.generate({ seed: 43, projects: 2, clustersPerProject: 9, minTasks: 0, maxTasks: 150 });
    const simulator = await startSimulator({ fleet, pageSizeCap: 40, auth: { token: TEST_TOKEN } });
    try {
      // Migrate first, as the migrate Job does; the shards run with --no-migrate.
      const migrate = await runCli(['migrate'], { DATABASE_URL: db.url });
      expect(migrate.code, describeResult(migrate)).toBe(0);
      const configPath = join(dir, 'sharded.json');
      await writeFile(configPath, JSON.stringify(fleetConfig(simulator, fleet)));
      const shards = await Promise.all(
        [0, 1, 2].map((index) =>
          runCli(['run', '--config', configPath, '--no-migrate', '--shard-count', '3', '--output', 'json'], {
            DATABASE_URL: db.url,
            DWS_AUTH_TOKEN: TEST_TOKEN,
            // As Kubernetes sets them in an Indexed Job created by a CronJob.
            JOB_COMPLETION_INDEX: String(index),
            DWS_EXPORTER_RUN_GROUP: 'dws-task-exporter-sharded-29384756',
          }),
        ),
      );
      for (const shard of shards) expect(shard.code, describeResult(shard)).toBe(0);
      const documents = shards.map((s) => JSON.parse(s.stdout) as RunSummaryDocument);
      expect(documents.map((d) => d.shard)).toEqual([0, 1, 2].map((index) => ({ index, count: 3 })));
      for (const d of documents) {
        expect(d.clusters.every((c) => shardOf(c.clusterId, 3) === d.shard.index)).toBe(true);
      }
      const exported = documents.flatMap((d) => d.clusters.map((c) => c.clusterId));
      expect(new Set(exported).size).toBe(exported.length);
      expect(new Set(exported)).toEqual(new Set(fleet.clusters.map((c) => c.id)));
      expect(await storedTasks(db.pool)).toEqual(fleetTasks(fleet));

      const runs = await db.pool.query(
        `SELECT shard_index, shard_count, status, clusters_total FROM dws.export_runs
          WHERE run_group_id = 'dws-task-exporter-sharded-29384756' ORDER BY shard_index`,
      );
      expect(runs.rows).toEqual(
        documents.map((d) => ({ shard_index: d.shard.index, shard_count: 3, status: 'succeeded', clusters_total: d.clusters.length })),
      );
      const group = await db.pool.query(
        `SELECT status, shard_count, shards_reported::int, runs::int, clusters_total::int, clusters_ok::int
           FROM dws.v_run_groups WHERE run_group_id = 'dws-task-exporter-sharded-29384756'`,
      );
      expect(group.rows).toEqual([
        { status: 'succeeded', shard_count: 3, shards_reported: 3, runs: 3, clusters_total: fleet.clusters.length, clusters_ok: fleet.clusters.length },
      ]);
    } finally {
      await simulator.close();
      await db.drop();
    }
  });
});
