/**
 * Pagination anomalies (src/simulator/faults.ts shapePage / maybeAppendTask)
 * against the real exporter and a real PostgreSQL. For each: either the
 * table ends exactly equal to the simulator's data, or the cluster is
 * `incomplete`, its fetched rows are stored, and its ledger row says why
 * (api_count, tasks_fetched, stop_reason). A cluster is never `succeeded`
 * with rows missing, and no row is ever invented.
 *
 * Tests that need one exact sequence of faults run one cluster at a time
 * (concurrency 1): the fault dice are seeded, so the sequence is fixed.
 */
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/core/exit-codes.js';
import type { FaultSpec } from '../../src/simulator/faults.js';
import {
  SimFleet,
  
  type SimCluster,
  type SimTask,
  
  
} from '../../src/simulator/index.js';
import { type TestDatabase, withDatabase } from '../support/database.js';
import { exportOnce, fleetConfig, fleetTasks, storedTasks, withSimulator } from '../support/exporter.js';

interface ClusterRun {
  readonly cluster_id: string;
  readonly status: string;
  readonly api_count: number | null;
  readonly tasks_fetched: number;
  readonly duplicates_skipped: number;
  readonly api_requests: number;
  readonly stop_reason: string | null;
  readonly error_code: string | null;
}

async function clusterRuns(db: TestDatabase, runId: number): Promise<Map<string, ClusterRun>> {
  const result = await db.pool.query<ClusterRun>(
    `SELECT cluster_id, status, api_count::int AS api_count, tasks_fetched, duplicates_skipped,
            api_requests, stop_reason, error_code
       FROM dws.export_cluster_runs WHERE run_id = $1`,
    [runId],
  );
  return new Map(result.rows.map((row) => [row.cluster_id, row]));
}

/** storedTasks / fleetTasks rows (JSON arrays whose first element is the cluster id), by cluster. */
function byCluster(rows: readonly string[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const row of rows) {
    const clusterId = (JSON.parse(row) as string[])[0] ?? '';
    const list = map.get(clusterId) ?? [];
    list.push(row);
    map.set(clusterId, list);
  }
  return map;
}

function oneCluster(tasks: number, seed = 31): SimFleet {
  return SimFleet.generate({ seed, projects: 1, clustersPerProject: 1, minTasks: tasks, maxTasks: tasks });
}

function onlyCluster(fleet: SimFleet): SimCluster {
  const cluster = fleet.clusters[0];
  if (!cluster) throw new Error('empty fleet');
  return cluster;
}

/** The simulator's ASC order: start_time, then logical cluster name, then type. */
function ascending(tasks: readonly SimTask[]): SimTask[] {
  const text = (value: string | null): string => value ?? '';
  const compare = (a: string, b: string): number => (a === b ? 0 : a < b ? -1 : 1);
  return [...tasks].sort(
    (a, b) =>
      compare(text(a.start_time), text(b.start_time)) ||
      compare(text(a.logical_cluster_name), text(b.logical_cluster_name)) ||
      compare(text(a.type), text(b.type)),
  );
}

/**
 * What every anomaly must leave behind: no invented row; the ledger counts
 * exactly the rows stored; a `succeeded` cluster holds exactly the
 * simulator's tasks; any other cluster is `incomplete` with fewer distinct
 * tasks than the API's count and a stop reason.
 */
async function expectLedgerExplainsTable(db: TestDatabase, runId: number, fleet: SimFleet): Promise<Map<string, ClusterRun>> {
  const runs = await clusterRuns(db, runId);
  const stored = byCluster(await storedTasks(db.pool));
  const truth = byCluster(fleetTasks(fleet));
  for (const cluster of fleet.clusters) {
    const run = runs.get(cluster.id);
    const rows = stored.get(cluster.id) ?? [];
    const expected = truth.get(cluster.id) ?? [];
    expect(run, `ledger row of ${cluster.id}`).toBeDefined();
    if (!run) continue;
    expect(rows.filter((row) => !expected.includes(row)), `invented rows in ${cluster.id}`).toEqual([]);
    expect(rows.length, `stored rows vs tasks_fetched of ${cluster.id}`).toBe(run.tasks_fetched);
    if (run.status === 'succeeded') {
      expect(rows, `succeeded cluster ${cluster.id}`).toEqual(expected);
    } else {
      expect(run).toMatchObject({ status: 'incomplete', error_code: null });
      expect(run.tasks_fetched).toBeLessThan(run.api_count ?? Number.POSITIVE_INFINITY);
      expect(['empty_page', 'no_progress', 'page_limit']).toContain(run.stop_reason);
    }
  }
  return runs;
}

const fleetSpec = { seed: 31, projects: 1, clustersPerProject: 6, minTasks: 0, maxTasks: 120 } as const;

describe('count drift', () => {
  it('a lying count never invents rows, and the ledger shows the count it was given next to the distinct tasks fetched', async () => {
    await withDatabase(async (db) => {
      const fleet = SimFleet.generate(fleetSpec);
      const faults: FaultSpec = { seed: 3, countDriftRate: 0.3 };
      await withSimulator({ fleet, pageSizeCap: 20, faults }, async (simulator) => {
        const report = await exportOnce(db.url, fleetConfig(simulator, fleet, { concurrency: 3 }));
        expect(simulator.faults?.injected.count_drift).toBeGreaterThan(0);
        const runs = await clusterRuns(db, report.runId);
        const stored = byCluster(await storedTasks(db.pool));
        const truth = byCluster(fleetTasks(fleet));
        for (const cluster of fleet.clusters) {
          const run = runs.get(cluster.id);
          const rows = stored.get(cluster.id) ?? [];
          expect(rows.filter((row) => !(truth.get(cluster.id) ?? []).includes(row))).toEqual([]);
          expect(rows.length).toBe(run?.tasks_fetched);
          // succeeded exactly when at least the last count the API gave was
          // fetched and paging ended on a short or empty page (a stale low
          // count is confirmed by one more page, never trusted blindly).
          const reachedCount = (run?.tasks_fetched ?? 0) >= (run?.api_count ?? Number.POSITIVE_INFINITY);
          const endedNormally = run?.stop_reason === 'count_reached' || run?.stop_reason === 'empty_page';
          expect(run?.status === 'succeeded').toBe(reachedCount && endedNormally);
          if (run?.status === 'succeeded') expect(rows).toEqual(truth.get(cluster.id) ?? []);
        }
      });
    });
  });

  // 41 tasks, pages of 20; page 1 says count 42, page 2 says 40: the walk
  // must not stop at 40 and report the cluster `succeeded` a task short.
  it('a count that under-reports while one task remains does not end the walk early: the table is exact', async () => {
    await withDatabase(async (db) => {
      const fleet = oneCluster(41);
      await withSimulator({ fleet, faults: { seed: 1, countDriftRate: 1 } }, async (simulator) => {
        const report = await exportOnce(
          db.url,
          fleetConfig(simulator, fleet, { concurrency: 1, pageConcurrency: 1, pageSize: 20 }),
        );
        expect(await storedTasks(db.pool)).toEqual(fleetTasks(fleet));
        // Every count lies here, so the cluster may well be `incomplete`; but never short.
        expect((await clusterRuns(db, report.runId)).get(onlyCluster(fleet).id)?.tasks_fetched).toBe(41);
      });
    });
  });

  it('a count under-reported by one on every page does not hide the last task: the table is exact', async () => {
    await withDatabase(async (db) => {
      const fleet = oneCluster(21);
      await withSimulator({ fleet, faults: { seed: 3, countDriftRate: 1 } }, async (simulator) => {
        const report = await exportOnce(
          db.url,
          fleetConfig(simulator, fleet, { concurrency: 1, pageConcurrency: 1, pageSize: 20 }),
        );
        expect(await storedTasks(db.pool)).toEqual(fleetTasks(fleet));
        expect((await clusterRuns(db, report.runId)).get(onlyCluster(fleet).id)?.tasks_fetched).toBe(21);
      });
    });
  });

  // Cluster A has one task and its count says 2, so its first page looks
  // capped at 1 row; with limit 1 both offset meanings agree, and what the
  // probe shows must not be cached for the endpoint: cluster B, next on the
  // same pages-mode server, must still be paged as pages.
  it('a tiny cluster with an over-reported count does not decide the offset mode for the rest of its endpoint', async () => {
    await withDatabase(async (db) => {
      const tiny = onlyCluster(oneCluster(1, 5));
      const big = onlyCluster(oneCluster(95, 6));
      const fleet = new SimFleet([tiny, { ...big, projectId: tiny.projectId }]);
      await withSimulator({ fleet, faults: { seed: 1, countDriftRate: 1 } }, async (simulator) => {
        const report = await exportOnce(
          db.url,
          fleetConfig(simulator, fleet, { concurrency: 1, pageConcurrency: 1, pageSize: 20 }),
        );
        const runs = await clusterRuns(db, report.runId);
        expect(report.clusters.find((c) => c.clusterId === big.id)?.offsetMode).toBe('pages');
        expect(runs.get(big.id)?.tasks_fetched).toBe(95);
        expect(await storedTasks(db.pool)).toEqual(fleetTasks(fleet));
      });
    });
  });
});

describe('tasks appended while the exporter pages', () => {
  it('read page by page, the table ends equal to the fleet as it is after the run, and a second run stays exact', async () => {
    await withDatabase(async (db) => {
      const fleet = SimFleet.generate(fleetSpec);
      const before = fleet.totalTasks();
      const faults: FaultSpec = { seed: 9, appendTaskRate: 0.4, maxAppendedTasks: 8 };
      await withSimulator({ fleet, pageSizeCap: 20, faults }, async (simulator) => {
        const config = fleetConfig(simulator, fleet, { concurrency: 3, pageConcurrency: 1 });
        const first = await exportOnce(db.url, config);
        expect(simulator.faults?.appendedTasks).toBeGreaterThan(0);
        expect(fleet.totalTasks()).toBe(before + (simulator.faults?.appendedTasks ?? 0));
        expect(first.status).toBe('succeeded');
        expect(await storedTasks(db.pool)).toEqual(fleetTasks(fleet));
        await expectLedgerExplainsTable(db, first.runId, fleet);

        // Tasks may appear during the second run too (up to the cap): it still ends exact.
        const second = await exportOnce(db.url, config);
        expect(second.status).toBe('succeeded');
        expect(await storedTasks(db.pool)).toEqual(fleetTasks(fleet));
        expect(first.totals.rowsInserted + second.totals.rowsInserted).toBe(fleet.totalTasks());
      });
    });
  });

  it('with parallel paging every run is exact or explained in the ledger, and the first run during which nothing appears leaves the table exact', async () => {
    await withDatabase(async (db) => {
      const fleet = SimFleet.generate({ ...fleetSpec, seed: 59, minTasks: 60, maxTasks: 200 });
      const faults: FaultSpec = { seed: 10, appendTaskRate: 0.3, maxAppendedTasks: 10 };
      await withSimulator({ fleet, pageSizeCap: 20, faults }, async (simulator) => {
        const config = fleetConfig(simulator, fleet, { concurrency: 3, pageConcurrency: 4 });
        let quietRun: number | null = null;
        for (let attempt = 0; attempt < 6 && quietRun === null; attempt++) {
          const appendedBefore = simulator.faults?.appendedTasks ?? 0;
          const report = await exportOnce(db.url, config);
          await expectLedgerExplainsTable(db, report.runId, fleet);
          if ((simulator.faults?.appendedTasks ?? 0) === appendedBefore) {
            expect(report.status).toBe('succeeded');
            quietRun = report.runId;
          }
        }
        expect(quietRun).not.toBeNull();
        expect(simulator.faults?.appendedTasks).toBeGreaterThan(0);
        expect(await storedTasks(db.pool)).toEqual(fleetTasks(fleet));
      });
    });
  });
});

describe('duplicate rows across pages', () => {
  it('a row repeated at the start of the next page is stored once and counted in duplicates_skipped (offset in pages)', async () => {
    await withDatabase(async (db) => {
      const fleet = SimFleet.generate(fleetSpec);
      await withSimulator({ fleet, pageSizeCap: 20, faults: { seed: 2, duplicateRate: 0.4 } }, async (simulator) => {
        const report = await exportOnce(db.url, fleetConfig(simulator, fleet, { concurrency: 3 }));
        expect(report.status).toBe('succeeded');
        expect(await storedTasks(db.pool)).toEqual(fleetTasks(fleet));
        const runs = await expectLedgerExplainsTable(db, report.runId, fleet);
        const skipped = [...runs.values()].reduce((total, run) => total + run.duplicates_skipped, 0);
        expect(skipped).toBeGreaterThan(0);
        expect(skipped).toBe(simulator.faults?.injected.duplicate);
      });
    });
  });

  // Offset in rows: a page that starts with a repeat of the previous page's
  // last row must not move the next offset past an unread row.
  it('a repeated row never makes the exporter skip the next one when offset counts rows: the table is exact', async () => {
    await withDatabase(async (db) => {
      const fleet = oneCluster(95);
      await withSimulator({ fleet, offsetMode: 'rows', faults: { duplicateRate: 0.3 } }, async (simulator) => {
        const report = await exportOnce(
          db.url,
          fleetConfig(simulator, fleet, { concurrency: 1, pageConcurrency: 1, pageSize: 20, offsetMode: 'rows' }),
        );
        expect(report.status).toBe('succeeded');
        expect(await storedTasks(db.pool)).toEqual(fleetTasks(fleet));
      });
    });
  });

  // Offset in rows, every page repeating the row before it: the probe
  // (offset=1) answers [task0, task1, …], which is still a rows answer.
  it('a repeated row on the probe page does not fool offset-mode detection: the table is exact', async () => {
    await withDatabase(async (db) => {
      const fleet = oneCluster(95);
      await withSimulator({ fleet, offsetMode: 'rows', faults: { duplicateRate: 1 } }, async (simulator) => {
        const report = await exportOnce(db.url, fleetConfig(simulator, fleet, { concurrency: 1, pageConcurrency: 1, pageSize: 20 }));
        expect(report.clusters[0]?.offsetMode).toBe('rows');
        expect(report.status).toBe('succeeded');
        expect(await storedTasks(db.pool)).toEqual(fleetTasks(fleet));
      });
    });
  });
});

describe('short and empty pages before count', () => {
  it('short pages from a server counting offset in rows, read page by page, are read past: the table is exact', async () => {
    await withDatabase(async (db) => {
      const fleet = SimFleet.generate(fleetSpec);
      const faults: FaultSpec = { seed: 6, shortPageRate: 0.4 };
      await withSimulator({ fleet, offsetMode: 'rows', pageSizeCap: 20, faults }, async (simulator) => {
        const report = await exportOnce(db.url, fleetConfig(simulator, fleet, { concurrency: 3, pageConcurrency: 1 }));
        expect(simulator.faults?.injected.short_page).toBeGreaterThan(0);
        expect(report.status).toBe('succeeded');
        expect(await storedTasks(db.pool)).toEqual(fleetTasks(fleet));
        await expectLedgerExplainsTable(db, report.runId, fleet);
      });
    });
  });

  // Pages fetched in parallel are planned from `count` as if each came back
  // full; a short one in rows mode leaves a gap that must still be read.
  // http.maxInFlight 1 only fixes the order of requests, hence the dice.
  it('short pages from a server counting offset in rows, fetched in parallel, leave no gap: the table is exact', async () => {
    await withDatabase(async (db) => {
      const fleet = oneCluster(119);
      await withSimulator({ fleet, offsetMode: 'rows', faults: { seed: 1, shortPageRate: 0.3 } }, async (simulator) => {
        const report = await exportOnce(
          db.url,
          fleetConfig(simulator, fleet, {
            concurrency: 1,
            pageConcurrency: 4,
            pageSize: 20,
            http: { retryMinDelayMs: 5, retryMaxDelayMs: 50, maxRequestsPerSecond: 5000, maxInFlight: 1 },
          }),
        );
        expect(simulator.faults?.injected.short_page).toBeGreaterThan(0);
        expect(report.status).toBe('succeeded');
        expect(await storedTasks(db.pool)).toEqual(fleetTasks(fleet));
      });
    });
  });

  it('short pages from a server counting offset in pages: each cluster is exact, or incomplete with its rows stored and the reason in the ledger', async () => {
    await withDatabase(async (db) => {
      const fleet = SimFleet.generate(fleetSpec);
      const faults: FaultSpec = { seed: 6, shortPageRate: 0.3 };
      await withSimulator({ fleet, pageSizeCap: 20, faults }, async (simulator) => {
        const report = await exportOnce(db.url, fleetConfig(simulator, fleet, { concurrency: 3 }));
        expect(simulator.faults?.injected.short_page).toBeGreaterThan(0);
        await expectLedgerExplainsTable(db, report.runId, fleet);
        expect(report.exitCode).toBe(report.status === 'succeeded' ? ExitCode.OK : ExitCode.PARTIAL);
      });
    });
  });

  it('empty pages before count: each cluster is exact, or incomplete with its rows stored and the reason in the ledger', async () => {
    await withDatabase(async (db) => {
      const fleet = SimFleet.generate(fleetSpec);
      const faults: FaultSpec = { seed: 8, emptyPageRate: 0.3 };
      await withSimulator({ fleet, pageSizeCap: 20, faults }, async (simulator) => {
        const report = await exportOnce(db.url, fleetConfig(simulator, fleet, { concurrency: 3 }));
        expect(simulator.faults?.injected.empty_page).toBeGreaterThan(0);
        await expectLedgerExplainsTable(db, report.runId, fleet);
      });
    });
  });

  it('a server whose every later page is empty leaves the cluster incomplete with stop_reason empty_page and its first page stored', async () => {
    await withDatabase(async (db) => {
      const fleet = oneCluster(95);
      await withSimulator({ fleet, faults: { emptyPageRate: 1 } }, async (simulator) => {
        const report = await exportOnce(db.url, fleetConfig(simulator, fleet, { concurrency: 1, pageConcurrency: 1, pageSize: 20 }));
        expect(report.status).toBe('partial');
        const run = (await expectLedgerExplainsTable(db, report.runId, fleet)).get(onlyCluster(fleet).id);
        expect(run).toMatchObject({ status: 'incomplete', api_count: 95, tasks_fetched: 20, stop_reason: 'empty_page' });
        const firstPage = ascending(onlyCluster(fleet).tasks).slice(0, 20);
        expect(await storedTasks(db.pool)).toEqual(fleetTasks(new SimFleet([{ ...onlyCluster(fleet), tasks: firstPage }])));
      });
    });
  });

  // Seed 42: page 6 of the first walk comes back empty, every page of the
  // re-walk is whole; the re-walk must read past the pages already stored
  // (they bring nothing new, which is not a server ignoring offset).
  it('after an empty page mid-walk, the re-walk reads past the pages already seen: the table is exact', async () => {
    await withDatabase(async (db) => {
      const fleet = oneCluster(200);
      await withSimulator({ fleet, faults: { seed: 42, emptyPageRate: 0.2 } }, async (simulator) => {
        const report = await exportOnce(
          db.url,
          fleetConfig(simulator, fleet, { concurrency: 1, pageConcurrency: 1, pageSize: 20, offsetMode: 'pages' }),
        );
        expect(simulator.faults?.injected.empty_page).toBeGreaterThan(0);
        expect(report.status).toBe('succeeded');
        expect(await storedTasks(db.pool)).toEqual(fleetTasks(fleet));
      });
    });
  });
});

describe('a server that ignores offset', () => {
  it('the run terminates: each cluster larger than a page is incomplete with stop_reason no_progress and its first page stored', async () => {
    await withDatabase(async (db) => {
      const big = SimFleet.generate({ seed: 47, projects: 1, clustersPerProject: 3, minTasks: 25, maxTasks: 120 });
      const small = SimFleet.generate({ seed: 53, projects: 1, clustersPerProject: 1, minTasks: 12, maxTasks: 12 });
      const fleet = new SimFleet([...big.clusters, ...small.clusters]);
      await withSimulator({ fleet, faults: { ignoreOffset: true } }, async (simulator) => {
        const report = await exportOnce(db.url, fleetConfig(simulator, fleet, { concurrency: 2, pageSize: 20 }));
        expect(report.status).toBe('partial');
        expect(report.exitCode).toBe(ExitCode.PARTIAL);
        const runs = await expectLedgerExplainsTable(db, report.runId, fleet);
        for (const cluster of big.clusters) {
          expect(runs.get(cluster.id)).toMatchObject({
            status: 'incomplete',
            stop_reason: 'no_progress',
            api_count: cluster.tasks.length,
            tasks_fetched: 20,
          });
          expect(runs.get(cluster.id)?.duplicates_skipped).toBeGreaterThan(0);
        }
        // A cluster that fits in one page is complete even so.
        expect(runs.get(small.clusters[0]?.id ?? '')).toMatchObject({ status: 'succeeded', tasks_fetched: 12 });
        const firstPages = new SimFleet(fleet.clusters.map((c) => ({ ...c, tasks: ascending(c.tasks).slice(0, 20) })));
        expect(await storedTasks(db.pool)).toEqual(fleetTasks(firstPages));
      });
    });
  });
});

describe('pages without count', () => {
  // Every field of the SDK models is optional: a page without "count" is read,
  // and paging goes on until an empty page.
  it('a server that never sends count is paged until an empty page: the table is exact', async () => {
    await withDatabase(async (db) => {
      const fleet = SimFleet.generate(fleetSpec);
      for (const offsetMode of ['pages', 'rows'] as const) {
        await withSimulator({ fleet, offsetMode, pageSizeCap: 20, faults: { omitCount: true } }, async (simulator) => {
          const report = await exportOnce(db.url, fleetConfig(simulator, fleet, { concurrency: 3 }));
          expect(report.status).toBe('succeeded');
          expect(await storedTasks(db.pool)).toEqual(fleetTasks(fleet));
          const runs = await clusterRuns(db, report.runId);
          for (const run of runs.values()) {
            expect(run).toMatchObject({ status: 'succeeded', api_count: null, stop_reason: 'empty_page' });
          }
        });
      }
    });
  });
});

describe('a page that fails while others are in flight (pageConcurrency > 1)', () => {
  it('stops fetching the cluster, stores what was fetched, and the report, the ledger and the table agree', async () => {
    const tasks = Array.from({ length: 2000 }, (_, i) => ({
      type: 'Grow',
      logical_cluster_name: 'lc',
      start_time: `2024-01-0${1 + Math.floor(i / 1000)} ${String(Math.floor((i % 1000) / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}:00`,
      end_time: '2024-01-31 00:00:00',
      result: 'success',
      log: `t${i}`,
    }));
    const fleet = new SimFleet([
      { projectId: 'c'.repeat(32), id: '5e2b8c1d-0a4f-4e6b-9c3d-7f1a2b3c4d5e', name: 'big', status: 'ACTIVE', tasks },
    ]);
    await withDatabase(async (db) => {
      // The 6th tasks request answers 404 (never retried): the walk fails there while 3 other pages are out.
      await withSimulator({ fleet, pageSizeCap: 50, latencyMs: 20, faults: { every: { n: 6, status: 404 } } }, async (simulator) => {
        const report = await exportOnce(db.url, fleetConfig(simulator, fleet, { concurrency: 1, pageConcurrency: 4, pageSize: 50 }));
        const cluster = report.clusters[0];
        const requestsWhenDone = simulator.stats.requests;
        // Pages sent after the cluster closed would arrive now.
        await new Promise((resolve) => setTimeout(resolve, 500));
        expect(simulator.stats.requests).toBe(requestsWhenDone);
        expect(cluster?.status).toBe('failed');
        const stored = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM dws.logical_cluster_tasks');
        const ledger = await db.pool.query<{ tasks_fetched: number; rows_inserted: number; api_requests: number }>(
          'SELECT tasks_fetched, rows_inserted, api_requests FROM dws.export_cluster_runs',
        );
        expect(stored.rows[0]?.n).toBe(cluster?.tasksFetched);
        expect(ledger.rows[0]).toEqual({
          tasks_fetched: cluster?.tasksFetched,
          rows_inserted: cluster?.rows.inserted,
          api_requests: simulator.stats.requests,
        });
      });
    });
  });
});
