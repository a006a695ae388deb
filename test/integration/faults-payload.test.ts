/**
 * Hostile payloads against the real exporter and a real PostgreSQL: tasks
 * with odd fields are stored (never dropped) with what could not be read
 * named in parse_issues, and a 200 whose body is not the documented page
 * fails only its own cluster with DWS_PAYLOAD_INVALID and a clear message.
 *
 * SimTask is typed with string|null fields; tasks with other types are cast
 * through `unknown`: the simulator serialises whatever is in the fleet.
 */
import { describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.js';
import { ExitCode } from '../../src/core/exit-codes.js';
import type { FaultSpec } from '../../src/simulator/faults.js';
import {
  SimFleet,
  
  type SimCluster,
  type SimTask,
  
  
} from '../../src/simulator/index.js';
import { type TestDatabase, withDatabase } from '../support/database.js';
import { exportOnce, fleetConfig, fleetTasks, storedTasks, withSimulator } from '../support/exporter.js';

/** A task of any shape, as the simulator will serialise it. */
function odd(task: Record<string, unknown>): SimTask {
  return task as unknown as SimTask;
}

function cluster(projectId: string, id: string, tasks: SimTask[]): SimCluster {
  return { projectId, id, name: `dws-${id.slice(0, 8)}`, status: 'ACTIVE', tasks };
}

const PROJECT = 'b'.repeat(32);
const REQUEST_ID = /^[0-9a-f]{32}$/;

/** ~500 KB of log: escaped and real newlines, quotes, backslashes, tabs, non-ASCII. */
const BIG_LOG = Array.from(
  { length: 9000 },
  (_, i) => `line ${i}: "quoted" C:\\dws\\bin\tstep\\n扩容成功 ✓\n`,
).join('');

interface StoredRow {
  readonly task_type: string;
  readonly logical_cluster_name: string;
  readonly start_time_raw: string;
  readonly start_time: Date | null;
  readonly end_time_raw: string | null;
  readonly end_time: Date | null;
  readonly duration_seconds: number | null;
  readonly is_running: boolean;
  readonly result: string | null;
  readonly log: string | null;
  readonly parse_issues: string[];
  readonly extra: Record<string, unknown> | null;
}

type Expected = Omit<StoredRow, 'parse_issues'> & { readonly parse_issues: readonly string[] };

function row(fields: Partial<Expected> & Pick<Expected, 'task_type' | 'logical_cluster_name' | 'start_time_raw'>): Expected {
  return {
    start_time: null,
    end_time_raw: null,
    end_time: null,
    duration_seconds: null,
    is_running: true,
    result: null,
    log: null,
    parse_issues: [],
    extra: null,
    ...fields,
  };
}

async function storedRows(db: TestDatabase, clusterId: string): Promise<Map<string, StoredRow>> {
  const result = await db.pool.query<StoredRow>(
    `SELECT task_type, logical_cluster_name, start_time_raw, start_time, end_time_raw, end_time,
            duration_seconds, is_running, result, log, parse_issues, extra
       FROM dws.logical_cluster_tasks WHERE cluster_id = $1`,
    [clusterId],
  );
  return new Map(result.rows.map((r) => [JSON.stringify([r.logical_cluster_name, r.task_type, r.start_time_raw]), r]));
}

describe('hostile tasks', () => {
  const hostileId = '3f1c7a52-6b0e-4d5f-9a81-2c4b6d8e0f13';
  const tasks: SimTask[] = [
    odd({ type: 'Grow', logical_cluster_name: 'lc_types', start_time: '2024-03-01 00:00:00', end_time: '2024-03-01 00:10:00', result: true, log: 42 }),
    odd({ type: 'Expand', logical_cluster_name: 'lc_types', start_time: '2024-03-01 01:00:00', end_time: '2024-03-01 01:00:30', result: 'success', log: { step: 1, lines: ['a', 'b'] } }),
    odd({ type: 7, logical_cluster_name: 'lc_types', start_time: '2024-03-01 02:00:00', end_time: '', result: '', log: '' }),
    { type: null, logical_cluster_name: null, start_time: null, end_time: null, result: null, log: null },
    odd({ type: 'Stop' }),
    odd({ type: 'Restart', logical_cluster_name: 'lc_extra', start_time: '2024-03-02 00:00:00', end_time: '2024-03-02 00:01:00', result: 'success', log: 'ok', job_id: 'job-17', progress: 0.5, nested: { tags: ['x', 1, null] } }),
    { type: 'QuantumResize', logical_cluster_name: 'lc_new', start_time: '2024-03-03 00:00:00', end_time: '2024-03-03 00:00:05', result: 'partially_succeeded', log: 'new values' },
    { type: 'Shrink', logical_cluster_name: 'lc_time', start_time: '0000-00-00 00:00:00', end_time: '0000-00-00 00:00:00', result: 'failed', log: 'zero dates' },
    { type: 'Shrink', logical_cluster_name: 'lc_time', start_time: '2023-02-30 10:00:00', end_time: '2023-03-01 10:00:00', result: 'failed', log: 'no such day' },
    { type: 'Grow', logical_cluster_name: 'lc_time', start_time: '2023-06-05T01:58:43Z', end_time: '2023-06-05T02:11:50Z', result: 'success', log: 'iso' },
    { type: 'Grow', logical_cluster_name: 'lc_time', start_time: '2023-06-05 10:00:00', end_time: '2023-06-05 09:00:00', result: 'success', log: 'backwards' },
    { type: 'Expand', logical_cluster_name: 'lc_big', start_time: '2024-03-04 00:00:00', end_time: '2024-03-04 03:00:00', result: 'failed', log: BIG_LOG },
    odd({ type: 'Switch', logical_cluster_name: 'lc_nul', start_time: '2024-03-05 00:00:00', end_time: '2024-03-05 00:00:01', result: 'success', log: 'step 1\u0000step 2', note: 'a\u0000b' }),
    { type: 'Gro\u0000w', logical_cluster_name: 'lc_nul', start_time: '2024-03-05 00:00:00', end_time: '', result: '', log: null },
  ];
  const fleet = new SimFleet([cluster(PROJECT, hostileId, tasks)]);
  const at = (iso: string): Date => new Date(iso);

  // sourceTimeZone Asia/Shanghai (UTC+8): zone-less times shift by 8 h, times with Z do not.
  const expected: Expected[] = [
    row({ task_type: 'Grow', logical_cluster_name: 'lc_types', start_time_raw: '2024-03-01 00:00:00', start_time: at('2024-02-29T16:00:00Z'), end_time_raw: '2024-03-01 00:10:00', end_time: at('2024-02-29T16:10:00Z'), duration_seconds: 600, is_running: false, result: 'true', log: '42', parse_issues: ['log_not_string', 'result_not_string'] }),
    row({ task_type: 'Expand', logical_cluster_name: 'lc_types', start_time_raw: '2024-03-01 01:00:00', start_time: at('2024-02-29T17:00:00Z'), end_time_raw: '2024-03-01 01:00:30', end_time: at('2024-02-29T17:00:30Z'), duration_seconds: 30, is_running: false, result: 'success', log: '{"step":1,"lines":["a","b"]}', parse_issues: ['log_not_string'] }),
    row({ task_type: '7', logical_cluster_name: 'lc_types', start_time_raw: '2024-03-01 02:00:00', start_time: at('2024-02-29T18:00:00Z'), end_time_raw: '', result: '', log: '', parse_issues: ['type_not_string'] }),
    row({ task_type: '', logical_cluster_name: '', start_time_raw: '', parse_issues: ['logical_cluster_name_missing', 'start_time_missing', 'type_missing'] }),
    row({ task_type: 'Stop', logical_cluster_name: '', start_time_raw: '', parse_issues: ['logical_cluster_name_missing', 'start_time_missing'] }),
    row({ task_type: 'Restart', logical_cluster_name: 'lc_extra', start_time_raw: '2024-03-02 00:00:00', start_time: at('2024-03-01T16:00:00Z'), end_time_raw: '2024-03-02 00:01:00', end_time: at('2024-03-01T16:01:00Z'), duration_seconds: 60, is_running: false, result: 'success', log: 'ok', extra: { job_id: 'job-17', progress: 0.5, nested: { tags: ['x', 1, null] } } }),
    row({ task_type: 'QuantumResize', logical_cluster_name: 'lc_new', start_time_raw: '2024-03-03 00:00:00', start_time: at('2024-03-02T16:00:00Z'), end_time_raw: '2024-03-03 00:00:05', end_time: at('2024-03-02T16:00:05Z'), duration_seconds: 5, is_running: false, result: 'partially_succeeded', log: 'new values' }),
    row({ task_type: 'Shrink', logical_cluster_name: 'lc_time', start_time_raw: '0000-00-00 00:00:00', end_time_raw: '0000-00-00 00:00:00', is_running: false, result: 'failed', log: 'zero dates', parse_issues: ['end_time_unparsable', 'start_time_unparsable'] }),
    row({ task_type: 'Shrink', logical_cluster_name: 'lc_time', start_time_raw: '2023-02-30 10:00:00', end_time_raw: '2023-03-01 10:00:00', end_time: at('2023-03-01T02:00:00Z'), is_running: false, result: 'failed', log: 'no such day', parse_issues: ['start_time_unparsable'] }),
    row({ task_type: 'Grow', logical_cluster_name: 'lc_time', start_time_raw: '2023-06-05T01:58:43Z', start_time: at('2023-06-05T01:58:43Z'), end_time_raw: '2023-06-05T02:11:50Z', end_time: at('2023-06-05T02:11:50Z'), duration_seconds: 787, is_running: false, result: 'success', log: 'iso' }),
    row({ task_type: 'Grow', logical_cluster_name: 'lc_time', start_time_raw: '2023-06-05 10:00:00', start_time: at('2023-06-05T02:00:00Z'), end_time_raw: '2023-06-05 09:00:00', end_time: at('2023-06-05T01:00:00Z'), is_running: false, result: 'success', log: 'backwards', parse_issues: ['end_before_start'] }),
    row({ task_type: 'Expand', logical_cluster_name: 'lc_big', start_time_raw: '2024-03-04 00:00:00', start_time: at('2024-03-03T16:00:00Z'), end_time_raw: '2024-03-04 03:00:00', end_time: at('2024-03-03T19:00:00Z'), duration_seconds: 10_800, is_running: false, result: 'failed', log: BIG_LOG }),
    row({ task_type: 'Switch', logical_cluster_name: 'lc_nul', start_time_raw: '2024-03-05 00:00:00', start_time: at('2024-03-04T16:00:00Z'), end_time_raw: '2024-03-05 00:00:01', end_time: at('2024-03-04T16:00:01Z'), duration_seconds: 1, is_running: false, result: 'success', log: 'step 1\\u0000step 2', extra: { note: 'a\\u0000b' }, parse_issues: ['extra_nul_escaped', 'log_nul_escaped'] }),
    row({ task_type: 'Gro\\u0000w', logical_cluster_name: 'lc_nul', start_time_raw: '2024-03-05 00:00:00', start_time: at('2024-03-04T16:00:00Z'), end_time_raw: '', result: '', parse_issues: ['type_nul_escaped'] }),
  ];

  it('every task is stored, odd fields read as documented and named in parse_issues, and the cluster succeeds', async () => {
    expect(Buffer.byteLength(BIG_LOG)).toBeGreaterThan(450_000);
    expect(Buffer.byteLength(BIG_LOG)).toBeLessThan(600_000);
    await withDatabase(async (db) => {
      await withSimulator({ fleet }, async (simulator) => {
        const report = await exportOnce(db.url, fleetConfig(simulator, fleet, { sourceTimeZone: 'Asia/Shanghai', http: {} }));
        expect(report.status).toBe('succeeded');
        const stored = await storedRows(db, hostileId);
        expect(stored.size).toBe(tasks.length);
        for (const want of expected) {
          const key = JSON.stringify([want.logical_cluster_name, want.task_type, want.start_time_raw]);
          const got = stored.get(key);
          expect(got, `row ${key}`).toBeDefined();
          if (!got) continue;
          if (want.log === BIG_LOG) {
            // Compared apart so a mismatch does not print half a megabyte.
            expect(got.log === BIG_LOG, 'the 500 KB log is stored byte for byte').toBe(true);
            expect({ ...got, log: null }).toEqual({ ...want, log: null });
          } else {
            expect({ ...got, parse_issues: [...got.parse_issues].sort() }, `row ${key}`).toEqual({
              ...want,
              parse_issues: [...want.parse_issues].sort(),
            });
          }
        }
        const ledger = await db.pool.query(
          `SELECT status, api_count::int AS api_count, tasks_fetched, rows_flagged
             FROM dws.export_cluster_runs WHERE run_id = $1`,
          [report.runId],
        );
        const flagged = expected.filter((r) => r.parse_issues.length > 0).length;
        expect(ledger.rows).toEqual([
          { status: 'succeeded', api_count: tasks.length, tasks_fetched: tasks.length, rows_flagged: flagged },
        ]);
      });
    });
  });
});

describe('hostile text in bulk, through both load paths', () => {
  // Text that trips COPY's text format if not escaped (\N, \., backslashes,
  // tabs, newlines), quotes, non-ASCII, NUL, and the empty string vs null.
  const SAMPLES: readonly (string | null)[] = [
    '\\N', '\\.', 'C:\\dws\\data1\\new', 'tab\there', 'cr\r\nlf', 'say "hi"', "it's", '扩容失败：节点 dn_6001 状态异常',
    'emoji 🚀 ok', '', null, 'nul\u0000inside', '\\\\double', 'ends with backslash\\', '{"json":"looking"}', ',comma,',
  ];
  const bulkId = '7a0e4c2b-9d13-4f6a-8b25-e1c3d5f7a904';
  const bulkTasks: SimTask[] = Array.from({ length: 320 }, (_, i) => {
    const sample = SAMPLES[i % SAMPLES.length] ?? null;
    const second = String(i % 60).padStart(2, '0');
    const minute = String(Math.floor(i / 60)).padStart(2, '0');
    return {
      type: i % 7 === 0 ? 'Type\twith tab' : 'Expand',
      logical_cluster_name: i % 5 === 0 ? 'lc "quoted" \\ name' : 'lc_bulk',
      start_time: `2024-05-01 10:${minute}:${second}`,
      end_time: i % 3 === 0 ? '' : `2024-05-01 11:${minute}:${second}`,
      result: i % 3 === 0 ? (i % 2 === 0 ? '' : null) : 'success',
      log: sample,
    };
  });
  const fleet = new SimFleet([cluster(PROJECT, bulkId, bulkTasks)]);
  // What the table must hold: NUL as the six characters \u0000, everything else verbatim.
  const escaped = new SimFleet([
    cluster(PROJECT, bulkId, bulkTasks.map((t) => ({ ...t, log: t.log === null ? null : t.log.replaceAll('\u0000', '\\u0000') }))),
  ]);

  for (const loader of ['copy', 'insert'] as const) {
    it(`with loader "${loader}" every row is stored exactly as sent, NUL escaped and flagged`, async () => {
      await withDatabase(async (db) => {
        await withSimulator({ fleet, pageSizeCap: 50 }, async (simulator) => {
          const config = { ...fleetConfig(simulator, fleet, { pageSize: 50, http: {} }), loader } as ConfigInput;
          const report = await exportOnce(db.url, config);
          expect(report.status).toBe('succeeded');
          expect(await storedTasks(db.pool)).toEqual(fleetTasks(escaped));
          const nul = await db.pool.query(
            `SELECT count(*)::int AS n FROM dws.logical_cluster_tasks WHERE 'log_nul_escaped' = ANY (parse_issues)`,
          );
          expect(nul.rows[0].n).toBe(bulkTasks.filter((t) => t.log?.includes('\u0000')).length);
          // A rerun finds every row unchanged: what was stored compares equal to what is sent.
          const again = await exportOnce(db.url, config);
          expect(again.totals).toMatchObject({ rowsInserted: 0, rowsUpdated: 0, rowsUnchanged: bulkTasks.length });
        });
      });
    });
  }
});

describe('bodies that are not the documented page', () => {
  const healthyFleet = SimFleet.generate({ seed: 61, projects: 1, clustersPerProject: 2, minTasks: 10, maxTasks: 60 });
  const faultyFleet = SimFleet.generate({ seed: 67, projects: 1, clustersPerProject: 2, minTasks: 10, maxTasks: 60 });
  const cases: readonly { readonly name: string; readonly faults: FaultSpec; readonly message: string }[] = [
    { name: 'an HTML page with status 200', faults: { malformedRate: 1 }, message: 'body is not JSON (starts with "<html>' },
    { name: 'JSON cut off halfway', faults: { truncatedRate: 1 }, message: 'body is not JSON (starts with "{\\"logical_cluster_tasks\\"' },
    { name: 'a 200 without logical_cluster_tasks', faults: { missingTasksArrayRate: 1 }, message: 'missing "logical_cluster_tasks"' },
  ];

  for (const { name, faults, message } of cases) {
    it(`${name} fails only its own clusters with DWS_PAYLOAD_INVALID and a clear message; the run goes on`, async () => {
      await withDatabase(async (db) => {
        await withSimulator({ fleet: healthyFleet, pageSizeCap: 20 }, async (healthy) => {
          await withSimulator({ fleet: faultyFleet, pageSizeCap: 20, faults }, async (faulty) => {
            const config: ConfigInput = {
              projects: [
                { projectId: healthyFleet.projectIds()[0] ?? '', endpoint: healthy.url, clusters: healthyFleet.clusters.map((c) => c.id) },
                { projectId: faultyFleet.projectIds()[0] ?? '', endpoint: faulty.url, clusters: faultyFleet.clusters.map((c) => c.id) },
              ],
              http: { maxRetries: 8 },
            };
            const report = await exportOnce(db.url, config);
            expect(report.status).toBe('partial');
            expect(report.exitCode).toBe(ExitCode.PARTIAL);
            expect(await storedTasks(db.pool)).toEqual(fleetTasks(healthyFleet));
            const ledger = await db.pool.query(
              `SELECT cluster_id, status, error_code, error_message, http_status, request_id, api_requests, api_retries
                 FROM dws.export_cluster_runs WHERE run_id = $1`,
              [report.runId],
            );
            const byId = new Map(ledger.rows.map((r) => [r.cluster_id as string, r]));
            for (const c of healthyFleet.clusters) expect(byId.get(c.id)).toMatchObject({ status: 'succeeded', error_code: null });
            for (const c of faultyFleet.clusters) {
              const run = byId.get(c.id);
              // A 200 is an answer: not retried, failed at the first page.
              expect(run).toMatchObject({ status: 'failed', error_code: 'DWS_PAYLOAD_INVALID', api_requests: 1, api_retries: 0 });
              expect(run?.error_message).toContain('DWS API returned an invalid page');
              expect(run?.error_message).toContain(`/clusters/${c.id}/logical-clusters/tasks`);
              expect(run?.error_message).toContain(message);
              expect(run?.request_id).toMatch(REQUEST_ID);
              expect(faulty.stats.byCluster[c.id]).toBe(1);
            }
            const run = await db.pool.query('SELECT status, clusters_ok, clusters_failed FROM dws.export_runs WHERE run_id = $1', [report.runId]);
            expect(run.rows[0]).toEqual({ status: 'partial', clusters_ok: 2, clusters_failed: 2 });
          });
        });
      });
    });
  }

  it('a bad page mid-walk fails the cluster and keeps the rows of the pages before it', async () => {
    await withDatabase(async (db) => {
      const fleet = SimFleet.generate({ seed: 71, projects: 1, clustersPerProject: 1, minTasks: 95, maxTasks: 95 });
      const only = fleet.clusters[0];
      if (!only) throw new Error('empty fleet');
      // Seed 2: requests 1 and 2 answer, request 3 is cut off.
      await withSimulator({ fleet, faults: { seed: 2, truncatedRate: 0.3 } }, async (simulator) => {
        const report = await exportOnce(
          db.url,
          fleetConfig(simulator, fleet, { concurrency: 1, pageConcurrency: 1, pageSize: 20, http: {} }),
        );
        expect(simulator.faults?.injected.truncated).toBe(1);
        expect(report.status).toBe('failed');
        const firstTwoPages = [...only.tasks]
          .sort((a, b) => ((a.start_time ?? '') < (b.start_time ?? '') ? -1 : 1))
          .slice(0, 40);
        expect(await storedTasks(db.pool)).toEqual(fleetTasks(new SimFleet([{ ...only, tasks: firstTwoPages }])));
        const ledger = await db.pool.query(
          'SELECT status, error_code, tasks_fetched, rows_inserted FROM dws.export_cluster_runs WHERE run_id = $1',
          [report.runId],
        );
        expect(ledger.rows).toEqual([{ status: 'failed', error_code: 'DWS_PAYLOAD_INVALID', tasks_fetched: 40, rows_inserted: 40 }]);
      });
    });
  });
});
