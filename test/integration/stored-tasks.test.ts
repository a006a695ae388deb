/**
 * Reading what is stored of a cluster (src/warehouse/stored-tasks.ts), which
 * the identity rule depends on: keys with any text, the separators of the
 * one-value-per-cluster read included, are read back exactly, so a rerun
 * finds every task unchanged and writes nothing.
 */
import { describe, expect, it } from 'vitest';
import { SimFleet, type SimCluster, type SimTask } from '../../src/simulator/index.js';
import { rawTaskKey } from '../../src/transform/task-row.js';
import { storedTasksOf, storedTasksSql } from '../../src/warehouse/stored-tasks.js';
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

  it('are read from the one text value PostgreSQL builds, row by row only for the cluster whose keys hold a separator', async () => {
    const fleet = hostileFleet();
    const [plain, hostile] = fleet.clusters as [SimCluster, SimCluster];
    await withDatabase(async (db) => {
      await withSimulator({ fleet }, async (simulator) => {
        expect((await exportOnce(db.url, fleetConfig(simulator, fleet))).status).toBe('succeeded');
        const ids = [plain.id, hostile.id];
        const result = await db.pool.query<[string, string]>({ text: storedTasksSql('$1::text[]'), values: [ids], rowMode: 'array' });
        const [fromText, rowByRow] = await storedTasksOf(db.pool, ids, result.rows);
        // The SQL's separators and the parser's agree: the plain cluster is read from its text, sized up front.
        expect(Array.isArray(fromText)).toBe(false);
        expect(fromText?.size).toBe(plain.tasks.length);
        expect([...(fromText ?? [])].map((t) => t.key).sort()).toEqual(plain.tasks.map((t) => rawTaskKey({ ...t })).sort());
        expect(Array.isArray(rowByRow)).toBe(true);
        expect([...(rowByRow ?? [])].map((t) => t.key).sort()).toEqual(hostile.tasks.map((t) => rawTaskKey({ ...t })).sort());
      });
    });
  });
});
