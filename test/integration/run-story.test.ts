/**
 * Every way a run can end (success, partial, failure, interrupt, and a kill
 * -9 that a later run closes as abandoned) is told the same way by the text
 * summary, the summary JSON, the pushed metrics and the ledger: planned = ok
 * + incomplete + failed + interrupted + not started. The real CLI in a child
 * process, the DWS API simulator, a Pushgateway stand-in, a real PostgreSQL.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.js';
import type { RunSummaryDocument } from '../../src/report/summary-json.js';
import { SimFleet, startSimulator, type Simulator } from '../../src/simulator/index.js';
import { cliLauncher, describeResult, waitFor, waitForExporterSessionsGone, type CliResult } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { clusterId, projectId } from '../support/ids.js';
import { TEST_TOKEN, fleetConfig } from '../support/exporter.js';
import { PushReceiver } from '../support/pushgateway.js';

const { startCli } = cliLauncher();

interface Counts {
  readonly planned: number;
  readonly ok: number;
  readonly incomplete: number;
  readonly failed: number;
  readonly interrupted: number;
  readonly notStarted: number;
}

const COUNTS_LINE =
  /^Run (\d+) \w+ in [\d.]+ s: (\d+)\/(\d+) clusters complete(?:, (\d+) incomplete)?(?:, (\d+) failed)?(?:, (\d+) interrupted)?(?:, (\d+) not started)?\.$/m;

function fromText(stdout: string): Counts & { readonly runId: number } {
  const m = COUNTS_LINE.exec(stdout);
  if (!m) throw new Error(`no counts line in:\n${stdout}`);
  const n = (i: number): number => Number(m[i] ?? 0);
  return { runId: n(1), ok: n(2), planned: n(3), incomplete: n(4), failed: n(5), interrupted: n(6), notStarted: n(7) };
}

function fromJson(doc: RunSummaryDocument): Counts {
  const t = doc.totals;
  if (!t) throw new Error('no totals');
  // The document's cluster list tells the same story as its totals.
  const listed = (status: string, notStarted: boolean): number =>
    doc.clusters.filter((c) => c.status === status && (c.error?.code === 'NOT_STARTED') === notStarted).length;
  expect(doc.clusters).toHaveLength(t.clustersPlanned);
  expect([listed('succeeded', false), listed('incomplete', false), listed('failed', false), listed('interrupted', false), listed('interrupted', true)]).toEqual([
    t.clustersOk,
    t.clustersIncomplete,
    t.clustersFailed,
    t.clustersInterrupted,
    t.clustersNotStarted,
  ]);
  return { planned: t.clustersPlanned, ok: t.clustersOk, incomplete: t.clustersIncomplete, failed: t.clustersFailed, interrupted: t.clustersInterrupted, notStarted: t.clustersNotStarted };
}

function fromMetrics(receiver: PushReceiver, group: string): Counts {
  const v = (status: string): number => receiver.value(group, `dws_exporter_clusters{status="${status}"}`) ?? -1;
  return { planned: v('planned'), ok: v('succeeded'), incomplete: v('incomplete'), failed: v('failed'), interrupted: v('interrupted'), notStarted: v('not_started') };
}

/** From the cluster rows (a planned cluster without a row never started), checked against the run row. */
async function fromLedger(pool: pg.Pool, runId: number): Promise<Counts & { readonly abandoned: number }> {
  const rows = await pool.query<{ status: string; error_code: string | null }>('SELECT status, error_code FROM dws.export_cluster_runs WHERE run_id = $1', [runId]);
  const run = await pool.query<{ clusters_total: number; clusters_ok: number; clusters_incomplete: number; clusters_failed: number }>(
    'SELECT clusters_total, clusters_ok, clusters_incomplete, clusters_failed FROM dws.export_runs WHERE run_id = $1',
    [runId],
  );
  const r = run.rows[0];
  if (!r) throw new Error(`no run ${runId}`);
  const count = (pick: (row: { status: string; error_code: string | null }) => boolean): number => rows.rows.filter(pick).length;
  const counts = {
    planned: r.clusters_total,
    ok: count((row) => row.status === 'succeeded'),
    incomplete: count((row) => row.status === 'incomplete'),
    failed: count((row) => row.status === 'failed'),
    interrupted: count((row) => row.status === 'interrupted' && row.error_code !== 'NOT_STARTED'),
    notStarted: count((row) => row.error_code === 'NOT_STARTED') + r.clusters_total - rows.rows.length,
    abandoned: count((row) => row.status === 'abandoned'),
  };
  expect([r.clusters_ok, r.clusters_incomplete, r.clusters_failed]).toEqual([counts.ok, counts.incomplete, counts.failed]);
  return counts;
}

let dir: string;
let receiver: PushReceiver;
let configs = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dws-exporter-story-'));
  receiver = new PushReceiver();
  await receiver.start();
});
afterAll(async () => {
  await receiver.stop();
  await rm(dir, { recursive: true, force: true });
});

interface Ending {
  readonly result: CliResult;
  readonly summary: RunSummaryDocument;
  readonly group: string;
}

/** Runs the CLI with --summary-json and a push job of its own; `during` may signal the child. */
async function runCli(db: TestDatabase, config: ConfigInput, job: string, during?: (kill: (s: NodeJS.Signals) => void) => Promise<void>): Promise<Ending> {
  const configPath = join(dir, `config-${++configs}.json`);
  const summaryPath = join(dir, `summary-${configs}.json`);
  await writeFile(configPath, JSON.stringify(config));
  const child = startCli(['run', '--config', configPath, '--summary-json', summaryPath], {
    DATABASE_URL: db.url,
    DWS_AUTH_TOKEN: TEST_TOKEN,
    PUSHGATEWAY_URL: receiver.url,
    PUSHGATEWAY_JOB: job,
  });
  await during?.((signal) => child.kill(signal));
  const result = await child.done;
  const summary = JSON.parse(await readFile(summaryPath, 'utf8')) as RunSummaryDocument;
  return { result, summary, group: `/metrics/job/${job}/shard/0` };
}

async function expectOneStory(db: TestDatabase, ending: Ending): Promise<Counts> {
  const text = fromText(ending.result.stdout);
  const { runId, ...fromTextCounts } = text;
  expect(runId).toBe(ending.summary.runId);
  const json = fromJson(ending.summary);
  const { abandoned, ...ledger } = await fromLedger(db.pool, runId);
  expect(abandoned).toBe(0);
  expect(fromTextCounts, describeResult(ending.result)).toEqual(json);
  expect(fromMetrics(receiver, ending.group)).toEqual(json);
  expect(ledger).toEqual(json);
  expect(json.ok + json.incomplete + json.failed + json.interrupted + json.notStarted).toBe(json.planned);
  expect(receiver.value(ending.group, 'dws_exporter_last_run_exit_code')).toBe(ending.result.code);
  expect(ending.summary.exitCode).toBe(ending.result.code);
  return json;
}

describe('one story in every ending', () => {
  const fleet = SimFleet.generate({ seed: 83, projects: 1, clustersPerProject: 12, minTasks: 200, maxTasks: 400 });
  let fast: Simulator;
  let slow: Simulator;

  beforeAll(async () => {
    fast = await startSimulator({ fleet, pageSizeCap: 50, auth: { token: TEST_TOKEN } });
    slow = await startSimulator({ fleet, pageSizeCap: 50, latencyMs: 150, auth: { token: TEST_TOKEN } });
  });
  afterAll(async () => {
    await fast.close();
    await slow.close();
  });

  const slowConfig = (): ConfigInput => fleetConfig(slow, fleet, { concurrency: 2, pageSize: 50, batchSize: 50, shutdownGraceMs: 60_000 });

  /** Until the child has stored rows (so the run is under way, with clusters not yet started). */
  async function rowsStored(db: TestDatabase): Promise<void> {
    await waitFor('the child to store rows', async () =>
      db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM dws.logical_cluster_tasks').then((r) => (r.rows[0]?.n ?? 0) > 0, () => false),
    );
  }

  it('success', async () => {
    const db = await createTestDatabase();
    try {
      const ending = await runCli(db, fleetConfig(fast, fleet), 'story-success');
      expect(ending.result.code, describeResult(ending.result)).toBe(0);
      expect(await expectOneStory(db, ending)).toEqual({ planned: 12, ok: 12, incomplete: 0, failed: 0, interrupted: 0, notStarted: 0 });
    } finally {
      await db.drop();
    }
  });

  it('partial', async () => {
    const db = await createTestDatabase();
    const [broken] = fleet.clusters;
    if (!broken) throw new Error('fixture too small');
    broken.fault = { kind: 'status', status: 404, errorCode: 'DWS.0015', errorMsg: 'The cluster does not exist.' };
    try {
      const ending = await runCli(db, fleetConfig(fast, fleet), 'story-partial');
      expect(ending.result.code, describeResult(ending.result)).toBe(3);
      expect(await expectOneStory(db, ending)).toEqual({ planned: 12, ok: 11, incomplete: 0, failed: 1, interrupted: 0, notStarted: 0 });
    } finally {
      delete broken.fault;
      await db.drop();
    }
  });

  it('failure (every cluster behind an endpoint that refuses connections)', async () => {
    const db = await createTestDatabase();
    try {
      const dead: ConfigInput = { endpoint: 'http://127.0.0.1:9', projects: [{ projectId: projectId('p-dead'), clusters: ['a', 'b', 'c', 'd', 'e'].map(clusterId) }] };
      const ending = await runCli(db, dead, 'story-failure');
      expect(ending.result.code, describeResult(ending.result)).toBe(4);
      expect(await expectOneStory(db, ending)).toEqual({ planned: 5, ok: 0, incomplete: 0, failed: 5, interrupted: 0, notStarted: 0 });
      expect(receiver.value(ending.group, 'dws_exporter_endpoint_unreachable{endpoint="http://127.0.0.1:9"}')).toBe(1);
    } finally {
      await db.drop();
    }
  });

  it('interrupt (SIGINT mid-run): interrupted and not started, never "failed"', async () => {
    const db = await createTestDatabase();
    try {
      const ending = await runCli(db, slowConfig(), 'story-interrupt', async (kill) => {
        await rowsStored(db);
        kill('SIGINT');
      });
      expect(ending.result.code, describeResult(ending.result)).toBe(130);
      const counts = await expectOneStory(db, ending);
      expect(counts.failed).toBe(0);
      expect(counts.notStarted).toBeGreaterThan(0);
      expect(counts.planned).toBe(12);
    } finally {
      await db.drop();
    }
  });

  it('abandoned (kill -9): the next run closes it, and says so in its summary, its JSON and its metrics, as the ledger has it', async () => {
    const db = await createTestDatabase();
    try {
      const killed = await runCli(db, slowConfig(), 'story-abandoned', async (kill) => {
        await rowsStored(db);
        kill('SIGKILL');
      }).catch((error: unknown) => error);
      // A killed process writes no summary: the file read fails.
      expect(killed).toBeInstanceOf(Error);
      await waitForExporterSessionsGone(db.pool);
      const deadRun = await db.pool.query<{ run_id: number }>("SELECT run_id::int FROM dws.export_runs WHERE status = 'running'");
      const deadRunId = deadRun.rows[0]?.run_id ?? -1;

      const next = await runCli(db, fleetConfig(fast, fleet), 'story-abandoned');
      expect(next.result.code, describeResult(next.result)).toBe(0);
      const ledger = await fromLedger(db.pool, deadRunId);
      expect(ledger.abandoned).toBeGreaterThan(0);
      const expected = {
        runId: deadRunId,
        clustersPlanned: ledger.planned,
        clustersOk: ledger.ok,
        clustersIncomplete: ledger.incomplete,
        clustersFailed: ledger.failed,
        clustersInterrupted: ledger.interrupted,
        clustersNotStarted: ledger.notStarted,
        clustersAbandoned: ledger.abandoned,
      };
      const { clustersOk, clustersIncomplete, clustersFailed, clustersInterrupted, clustersAbandoned, clustersNotStarted } = expected;
      expect(clustersOk + clustersIncomplete + clustersFailed + clustersInterrupted + clustersAbandoned + clustersNotStarted).toBe(12);
      expect(next.summary.abandonedRuns).toEqual([expected]);
      expect(receiver.value(next.group, 'dws_exporter_abandoned_runs_closed')).toBe(1);
      const abandonedParts = [
        `${ledger.ok}/${ledger.planned} clusters complete`,
        ...(ledger.failed ? [`${ledger.failed} failed`] : []),
        `${ledger.abandoned} abandoned`,
        ...(ledger.notStarted ? [`${ledger.notStarted} not started`] : []),
      ];
      expect(next.result.stdout).toContain(`  Closed run ${deadRunId} as abandoned (its process died): ${abandonedParts.join(', ')}.`);
      const run = await db.pool.query('SELECT status, error_code FROM dws.export_runs WHERE run_id = $1', [deadRunId]);
      expect(run.rows).toEqual([{ status: 'abandoned', error_code: 'ABANDONED' }]);
      // The run that closed it tells its own story as usual.
      await expectOneStory(db, next);
    } finally {
      await db.drop();
    }
  });
});
