/**
 * Reading what is stored of a cluster (src/warehouse/stored-tasks.ts), which
 * the identity rule depends on: keys with any text, the separators of the
 * one-value-per-cluster read included, are read back exactly, so a rerun
 * finds every task unchanged and writes nothing.
 */
import { describe, expect, it } from 'vitest';
import { SimFleet, type SimCluster, type SimTask } from '../../src/simulator/index.js';
import { withDatabase } from '../support/database.js';
import { exportOnce, fleetConfig, fleetTasks, storedTasks, withSimulator } from '../support/exporter.js';

const HOSTILE_NAMES = ['unit\u001fsep', 'record\u001esep', 'tab\there', 'back\\slash', '逻辑集群', ''];

function hostileFleet(): SimFleet {
  const base = SimFleet.generate({ seed: 71, projects: 1, clustersPerProject: 2, minTasks: 30, maxTasks: 30 });
  const [plain, hostile] = base.clusters as [SimCluster, SimCluster];
  const tasks = hostile.tasks.map((t, i): SimTask => ({ ...t, logical_cluster_name: HOSTILE_NAMES[i % HOSTILE_NAMES.length] ?? null, type: i % 7 === 0 ? 'Ty\u001fpe' : t.type }));
  return new SimFleet([plain, { ...hostile, tasks }]);
}

describe('stored tasks with any text in their key', () => {
  it('are recognised by the next export: nothing inserted, updated or even locked, the table unchanged', async () => {
    const fleet = hostileFleet();
    await withDatabase(async (db) => {
      await withSimulator({ fleet, pageSizeCap: 10 }, async (simulator) => {
        const first = await exportOnce(db.url, fleetConfig(simulator, fleet));
        expect(first.status).toBe('succeeded');
        const versions = async (): Promise<string[]> =>
          (await db.pool.query<{ v: string }>('SELECT (ctid, xmin, xmax)::text AS v FROM dws.logical_cluster_tasks ORDER BY 1')).rows.map((r) => r.v);
        const before = await versions();
        const second = await exportOnce(db.url, fleetConfig(simulator, fleet));
        expect(second.totals).toMatchObject({ rowsInserted: 0, rowsUpdated: 0, rowsUnchanged: 60 });
        expect(await versions()).toEqual(before);
        expect(await storedTasks(db.pool)).toEqual(fleetTasks(fleet));
      });
    });
  });
});
