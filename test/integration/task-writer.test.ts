/**
 * The writer against a real PostgreSQL: new tasks go straight into the table
 * with COPY; when another run stored them meanwhile (the COPY meets a unique
 * violation) they are merged instead, and counted for what they were.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/logger.js';
import { SimFleet, type SimCluster } from '../../src/simulator/index.js';
import type { RawTask } from '../../src/source/task-page.js';
import { ClusterListing } from '../../src/warehouse/cluster-listing.js';
import { TaskWriter, type LoadMethod, type RowCounts, type TaskWriterOptions } from '../../src/warehouse/task-writer.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { fleetTasks, storedTasks } from '../support/exporter.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

async function newRun(): Promise<number> {
  const run = await db.pool.query<{ run_id: string }>(
    `INSERT INTO dws.export_runs (exporter_version, hostname, source_time_zone) VALUES ('test', 'test', 'UTC') RETURNING run_id`,
  );
  return Number(run.rows[0]?.run_id);
}

/** A writer for run `runId` with one test's batching; everything else as a run has it. */
function newWriter(runId: number, batching: Pick<TaskWriterOptions, 'writers' | 'maxDelayMs'>, method: LoadMethod = 'auto'): TaskWriter {
  return new TaskWriter({
    pool: db.pool,
    retry: { attempts: 0, delayMs: 0 },
    runId,
    batchRows: 5000,
    method,
    logger: createLogger('silent'),
    ...batching,
  });
}

/** Every task of `cluster` through a listing that believes nothing is stored, as one run. */
async function writeAsNew(cluster: SimCluster, method: LoadMethod, pageSize = 250): Promise<RowCounts> {
  const writer = newWriter(await newRun(), { writers: 1, maxDelayMs: 5 }, method);
  const listing = new ClusterListing(writer, { projectId: cluster.projectId, clusterId: cluster.id, sourceTimeZone: 'UTC' }, []);
  listing.beginWalk();
  const tasks = cluster.tasks.map((t) => JSON.parse(JSON.stringify(t)) as RawTask);
  for (let start = 0; start < tasks.length; start += pageSize) await listing.page(tasks.slice(start, start + pageSize), start).accepted;
  await writer.drain();
  const results = await listing.settled();
  const sum = { inserted: 0, updated: 0, unchanged: 0 };
  for (const result of results) {
    if (result.status === 'rejected') throw result.reason;
    sum.inserted += result.value.inserted;
    sum.updated += result.value.updated;
    sum.unchanged += result.value.unchanged;
  }
  return sum;
}

describe('new tasks another run stored meanwhile', () => {
  for (const [i, method] of (['copy', 'auto', 'insert'] as const).entries()) {
    it(`are merged instead of failing the batch, and counted unchanged (loader ${method})`, async () => {
      const fleet = SimFleet.generate({ seed: 61 + i, projects: 1, clustersPerProject: 1, minTasks: 600, maxTasks: 600 });
      const cluster = fleet.clusters[0] as SimCluster;
      expect(await writeAsNew(cluster, method)).toEqual({ inserted: 600, updated: 0, unchanged: 0 });
      expect(await writeAsNew(cluster, method)).toEqual({ inserted: 0, updated: 0, unchanged: 600 });
      const mine = (await storedTasks(db.pool)).filter((row) => row.includes(cluster.id));
      expect(mine).toEqual(fleetTasks(fleet));
    });
  }
});

describe('pages that trickle in', () => {
  it('wait for a full batch or batchMaxDelayMs after the first of them, not a transaction each', async () => {
    const fleet = SimFleet.generate({ seed: 71, projects: 1, clustersPerProject: 1, minTasks: 1000, maxTasks: 1000 });
    const cluster = fleet.clusters[0] as SimCluster;
    const maxDelayMs = 100;
    const writer = newWriter(await newRun(), { writers: 2, maxDelayMs });
    const listing = new ClusterListing(writer, { projectId: cluster.projectId, clusterId: cluster.id, sourceTimeZone: 'UTC' }, []);
    listing.beginWalk();
    const tasks = cluster.tasks.map((t) => JSON.parse(JSON.stringify(t)) as RawTask);
    const started = performance.now();
    for (let start = 0; start < tasks.length; start += 5) {
      await listing.page(tasks.slice(start, start + 5), start).accepted;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const feedingMs = performance.now() - started;
    await writer.drain();
    expect((await listing.settled()).every((s) => s.status === 'fulfilled')).toBe(true);
    // The inserting transaction of each row: one per batch written.
    const batches = await db.pool.query<{ n: number }>(
      'SELECT count(DISTINCT xmin::text)::int AS n FROM dws.logical_cluster_tasks WHERE cluster_id = $1',
      [cluster.id],
    );
    expect(await storedTasks(db.pool).then((rows) => rows.filter((row) => row.includes(cluster.id)))).toEqual(fleetTasks(fleet));
    // 200 pages over `feedingMs`: at most one batch per delay, plus the last.
    expect(batches.rows[0]?.n).toBeLessThanOrEqual(Math.ceil(feedingMs / maxDelayMs) + 1);
  });
});

describe('the last rows of a run', () => {
  it('are written as soon as every cluster has walked, not batchMaxDelayMs later', async () => {
    const fleet = SimFleet.generate({ seed: 73, projects: 1, clustersPerProject: 1, minTasks: 5, maxTasks: 5 });
    const cluster = fleet.clusters[0] as SimCluster;
    // Far longer than the test's own timeout: only lastRowsQueued() can start this batch.
    const writer = newWriter(await newRun(), { writers: 2, maxDelayMs: 600_000 });
    const listing = new ClusterListing(writer, { projectId: cluster.projectId, clusterId: cluster.id, sourceTimeZone: 'UTC' }, []);
    listing.beginWalk();
    await listing.page(cluster.tasks.map((t) => JSON.parse(JSON.stringify(t)) as RawTask), 0).accepted;
    writer.lastRowsQueued();
    const [stored] = await listing.settled();
    expect(stored).toMatchObject({ status: 'fulfilled', value: { inserted: 5, updated: 0, unchanged: 0 } });
  });
});
