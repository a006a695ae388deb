/**
 * Tasks that share a natural key (same cluster, logical cluster, type and
 * start time: a command retried at once, a double submit) against the real
 * exporter, the simulator and PostgreSQL: every listed task is one row, the
 * count reconciles, drift and re-walks never duplicate, and a rerun of an
 * unchanged listing writes nothing whatever order the ties come in.
 */
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/core/exit-codes.js';
import type { FaultSpec } from '../../src/simulator/faults.js';
import { SimFleet, type SimCluster, type SimTask } from '../../src/simulator/index.js';
import { type TestDatabase, withDatabase } from '../support/database.js';
import { exportOnce, fleetConfig, fleetTasks, storedTasks, withSimulator } from '../support/exporter.js';

const fleetSpec = { seed: 41, projects: 1, clustersPerProject: 6, minTasks: 40, maxTasks: 260, repeatedKeyRatio: 0.25 } as const;

const keyOf = (t: SimTask): string => JSON.stringify([t.logical_cluster_name, t.type, t.start_time]);

/** The same fleet with every run of equal-key tasks listed in reverse order. */
function tiesReversed(fleet: SimFleet): SimFleet {
  const reverse = (tasks: readonly SimTask[]): SimTask[] => {
    const out: SimTask[] = [];
    let run: SimTask[] = [];
    for (const task of tasks) {
      if (run.length > 0 && keyOf(run[0] as SimTask) !== keyOf(task)) {
        out.push(...run.reverse());
        run = [];
      }
      run.push(task);
    }
    return [...out, ...run.reverse()];
  };
  return new SimFleet(fleet.clusters.map((c): SimCluster => ({ ...c, tasks: reverse(c.tasks) })));
}

function sharedKeys(fleet: SimFleet): number {
  const keys = fleet.clusters.flatMap((c) => c.tasks.map((t) => `${c.id}${keyOf(t)}`));
  return keys.length - new Set(keys).size;
}

async function ledger(db: TestDatabase, runId: number): Promise<{ status: string; api_count: number; tasks_fetched: number }[]> {
  const result = await db.pool.query<{ status: string; api_count: number; tasks_fetched: number }>(
    'SELECT status, api_count::int AS api_count, tasks_fetched FROM dws.export_cluster_runs WHERE run_id = $1',
    [runId],
  );
  return result.rows;
}

/** Rows the run wrote (last_run_id), or locked without writing (xmax set). */
async function rowsTouchedBy(db: TestDatabase, runId: number): Promise<number> {
  const result = await db.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM dws.logical_cluster_tasks WHERE last_run_id = $1 OR xmax <> '0'::xid`,
    [runId],
  );
  return result.rows[0]?.n ?? -1;
}

describe('a listing with tasks that share a natural key', () => {
  const fleet = SimFleet.generate(fleetSpec);

  it('the fixture has shared keys, identical twins among them', () => {
    expect(sharedKeys(fleet)).toBeGreaterThan(50);
    const identical = fleet.clusters.flatMap((c) => c.tasks.filter((t, i) => i > 0 && JSON.stringify(t) === JSON.stringify(c.tasks[i - 1])));
    expect(identical.length).toBeGreaterThan(5);
  });

  for (const offsetMode of ['pages', 'rows'] as const) {
    it(`stores every task once and reconciles count (${offsetMode} offsets, pages of 7 fetched 4 at a time)`, async () => {
      await withDatabase(async (db) => {
        await withSimulator({ fleet, offsetMode, pageSizeCap: 7 }, async (simulator) => {
          const report = await exportOnce(db.url, fleetConfig(simulator, fleet, { pageSize: 7, pageConcurrency: 4 }));
          expect(report.status).toBe('succeeded');
          expect(report.exitCode).toBe(ExitCode.OK);
          expect(await storedTasks(db.pool)).toEqual(fleetTasks(fleet));
          expect(report.totals).toMatchObject({ tasksFetched: fleet.totalTasks(), rowsInserted: fleet.totalTasks() });
          for (const run of await ledger(db, report.runId)) expect(run.tasks_fetched).toBe(run.api_count);
        });
      });
    });
  }

  it('a rerun with equal keys listed in another order writes nothing and locks no row', async () => {
    await withDatabase(async (db) => {
      await withSimulator({ fleet, pageSizeCap: 7 }, async (simulator) => {
        await exportOnce(db.url, fleetConfig(simulator, fleet, { pageSize: 7 }));
      });
      const reordered = tiesReversed(fleet);
      await withSimulator({ fleet: reordered, pageSizeCap: 7 }, async (simulator) => {
        const report = await exportOnce(db.url, fleetConfig(simulator, reordered, { pageSize: 7, pageConcurrency: 4 }));
        expect(report.status).toBe('succeeded');
        expect(report.totals).toMatchObject({ rowsInserted: 0, rowsUpdated: 0, rowsUnchanged: fleet.totalTasks() });
        expect(await rowsTouchedBy(db, report.runId)).toBe(0);
      });
      expect(await storedTasks(db.pool)).toEqual(fleetTasks(fleet));
    });
  });

  it('a running task that shares its key with a finished one is updated in place when it finishes', async () => {
    const plain = { seed: 41, projects: 1, clustersPerProject: 1, minTasks: 40, maxTasks: 40 };
    const cluster = SimFleet.generate(plain).clusters[0] as SimCluster;
    const at = cluster.tasks.findIndex((t) => t.end_time !== '');
    const done = cluster.tasks[at] as SimTask;
    const running: SimTask = { ...done, end_time: '', result: '', log: 'in progress' };
    const tasks = [...cluster.tasks.slice(0, at + 1), running, ...cluster.tasks.slice(at + 1)];
    const before = new SimFleet([{ ...cluster, tasks }]);
    await withDatabase(async (db) => {
      await withSimulator({ fleet: before, pageSizeCap: 7 }, async (simulator) => {
        await exportOnce(db.url, fleetConfig(simulator, before, { pageSize: 7 }));
      });
      const finished: SimTask = { ...running, end_time: '2099-01-01 00:00:00', result: 'success', log: 'done' };
      const after = new SimFleet([{ ...cluster, tasks: tasks.map((t) => (t === running ? finished : t)) }]);
      await withSimulator({ fleet: after, pageSizeCap: 7 }, async (simulator) => {
        const report = await exportOnce(db.url, fleetConfig(simulator, after, { pageSize: 7 }));
        expect(report.totals).toMatchObject({ rowsInserted: 0, rowsUpdated: 1, rowsUnchanged: tasks.length - 1 });
      });
      expect(await storedTasks(db.pool)).toEqual(fleetTasks(after));
      const occurrences = await db.pool.query<{ occurrence: number; result: string }>(
        `SELECT occurrence, result FROM dws.logical_cluster_tasks
          WHERE logical_cluster_name = $1 AND task_type = $2 AND start_time_raw = $3 ORDER BY occurrence`,
        [done.logical_cluster_name, done.type, done.start_time],
      );
      expect(occurrences.rows.map((r) => r.occurrence)).toEqual([1, 2]);
    });
  });
});

describe('identical twins split by a page boundary', () => {
  function twinsAtBoundary(): SimFleet {
    const base = SimFleet.generate({ seed: 5, projects: 1, clustersPerProject: 1, minTasks: 9, maxTasks: 9 });
    const cluster = base.clusters[0] as SimCluster;
    // Positions 4 and 5: the last task of page 0 and the first of page 1 (pages of 5).
    const tasks = [...cluster.tasks.slice(0, 5), { ...(cluster.tasks[4] as SimTask) }, ...cluster.tasks.slice(5)];
    return new SimFleet([{ ...cluster, tasks }]);
  }

  for (const pageConcurrency of [1, 4]) {
    it(`are stored as two tasks and the cluster succeeds (page concurrency ${pageConcurrency}); a rerun keeps both and writes nothing`, async () => {
      const fleet = twinsAtBoundary();
      await withDatabase(async (db) => {
        await withSimulator({ fleet }, async (simulator) => {
          const config = fleetConfig(simulator, fleet, { pageSize: 5, pageConcurrency });
          const first = await exportOnce(db.url, config);
          expect(first.status).toBe('succeeded');
          expect(await storedTasks(db.pool)).toEqual(fleetTasks(fleet));
          const second = await exportOnce(db.url, config);
          expect(second.status).toBe('succeeded');
          expect(second.totals).toMatchObject({ rowsInserted: 0, rowsUpdated: 0, rowsUnchanged: 10 });
          expect(await rowsTouchedBy(db, second.runId)).toBe(0);
        });
      });
    });
  }
});

describe('drift and re-walks with shared keys', () => {
  const fleet = SimFleet.generate(fleetSpec);

  // A count that lies low can make a walk look complete although identical
  // twins split by a page boundary were taken for one drifted task: there a
  // succeeded cluster may lack that twin (docs: the identity rule).
  const cases: readonly [string, FaultSpec, boolean][] = [
    ['the previous page\'s last task repeated at the top of pages', { seed: 4, duplicateRate: 0.5 }, true],
    ['pages that come back empty although rows remain (a re-walk follows)', { seed: 6, emptyPageRate: 0.2 }, true],
    ['counts that lie (a re-walk follows when short)', { seed: 8, countDriftRate: 0.3, countDrift: 3 }, false],
  ];
  for (const [name, faults, countIsTrue] of cases) {
    it(`${name}: never a duplicate or invented row${countIsTrue ? '; a cluster that succeeds holds exactly its tasks' : ''}`, async () => {
      await withDatabase(async (db) => {
        await withSimulator({ fleet, pageSizeCap: 7, faults }, async (simulator) => {
          const report = await exportOnce(db.url, fleetConfig(simulator, fleet, { pageSize: 7, concurrency: 2 }));
          expect(Object.values(simulator.faults?.injected ?? {}).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
          const stored = await storedTasks(db.pool);
          const truth = fleetTasks(fleet);
          // Multisets: each stored row uses up one listed task.
          const left = [...truth];
          for (const row of stored) {
            const at = left.indexOf(row);
            expect(at, `a stored row the API never listed (or listed fewer times): ${row}`).toBeGreaterThanOrEqual(0);
            left.splice(at, 1);
          }
          for (const cluster of report.clusters) {
            const rows = stored.filter((r) => r.startsWith(`["${cluster.clusterId}"`));
            expect(rows.length).toBe(cluster.tasksFetched);
            if (cluster.status === 'succeeded' && countIsTrue) {
              expect(rows).toEqual(truth.filter((r) => r.startsWith(`["${cluster.clusterId}"`)));
            }
          }
        });
      });
    });
  }
});
