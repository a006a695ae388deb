/**
 * A warehouse loaded by real exports of the simulator, for the BI tests:
 * two projects of three clusters each (one cluster name in both), tasks over
 * the two years before today, failed and running tasks, retries, four runs:
 *   run 1     every cluster succeeds; then aged by 3 days (AGE_RUN);
 *   run 2     STALE answers 404, DENIED 403 (a per-cluster permission),
 *             every 5th tasks request a 503 (retried);
 *   run 3, 4  shards 0 and 1 of RUN_GROUP: STALE still 404, DENIED recovered.
 * STALE's last complete export is then 3 days old: the stale cluster.
 */
import { expect } from 'vitest';
import { SimFleet, type SimCluster } from '../../src/simulator/index.js';
import type { TestDatabase } from './database.js';
import { exportOnce, fleetConfig, withSimulator } from './exporter.js';

export const DAY_MS = 86_400_000;
export const HISTORY_START = new Date(Date.now() - 730 * DAY_MS).toISOString().slice(0, 10);
export const fleet = SimFleet.generate({ seed: 61, projects: 2, clustersPerProject: 3, minTasks: 40, maxTasks: 120, startDate: HISTORY_START });
function cluster(index: number): SimCluster {
  const found = fleet.clusters[index];
  if (!found) throw new Error(`the fleet has no cluster #${index}`);
  return found;
}
export const STALE = cluster(0);
export const DENIED = cluster(1);
/** Gets a new running task, a new failed one and a finished one between runs 1 and 2. */
export const BUSY = cluster(2);
export const RUN_GROUP = 'nightly-test';

/** `YYYY-MM-DD HH:mm:ss` in UTC, as the API sends times (the config's sourceTimeZone is UTC). */
const apiTime = (ms: number): string => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

/**
 * Exports have no clock to inject and the ledger's times are the database's
 * now(), so "last success more than a day ago" is made by moving run 1 back
 * in time after it ran: every timestamp it wrote, minus 3 days.
 */
const AGE_RUN = `
UPDATE dws.export_runs SET started_at = started_at - interval '3 days', finished_at = finished_at - interval '3 days' WHERE run_id = $1;
UPDATE dws.export_cluster_runs SET started_at = started_at - interval '3 days', finished_at = finished_at - interval '3 days' WHERE run_id = $1;
UPDATE dws.logical_cluster_tasks SET first_seen_at = first_seen_at - interval '3 days', last_seen_at = last_seen_at - interval '3 days' WHERE first_run_id = $1;`;

export async function loadWarehouse(db: TestDatabase): Promise<void> {
  const config = (simulator: Parameters<typeof fleetConfig>[0]) =>
    fleetConfig(simulator, fleet, { projects: fleet.projectIds().map((projectId) => ({ projectId, clusters: 'all' as const })) });
  const first = await withSimulator({ fleet }, (simulator) => exportOnce(db.url, config(simulator)));
  expect(first.status).toBe('succeeded');
  for (const statement of AGE_RUN.trim().split(';\n')) await db.pool.query(statement, [first.runId]);

  // Between runs: a running task finishes, a new one starts, one fails.
  const running = BUSY.tasks.findIndex((t) => t.end_time === '');
  fleet.finishRunningTask(BUSY.projectId, BUSY.id, running, apiTime(Date.now() - 2 * DAY_MS), 'success');
  fleet.addTask(BUSY.projectId, BUSY.id, { type: 'Expand', logical_cluster_name: 'lc_etl', start_time: apiTime(Date.now() - 3 * 3600_000), end_time: '', result: '', log: 'Expand is in progress' });
  fleet.addTask(BUSY.projectId, BUSY.id, {
    type: 'Restart', logical_cluster_name: 'lc_etl', start_time: apiTime(Date.now() - DAY_MS), end_time: apiTime(Date.now() - DAY_MS + 600_000),
    result: 'failed', log: 'Execute "gs_om -t status --detail" failed: exit code 1',
  });

  STALE.fault = { kind: 'status', status: 404, errorCode: 'DWS.0015', errorMsg: 'The cluster does not exist.' };
  DENIED.fault = { kind: 'status', status: 403, errorCode: 'DWS.0001', errorMsg: 'The user has no permission on this cluster.' };
  const second = await withSimulator({ fleet, faults: { every: { n: 5, status: 503 } } }, (simulator) => exportOnce(db.url, config(simulator)));
  expect(second.status).toBe('partial');
  expect(second.totals.apiRetries).toBeGreaterThan(0);

  delete DENIED.fault;
  const shards = await withSimulator({ fleet }, async (simulator) => [
    await exportOnce(db.url, config(simulator), undefined, undefined, { shard: { index: 0, count: 2 }, runGroupId: RUN_GROUP }),
    await exportOnce(db.url, config(simulator), undefined, undefined, { shard: { index: 1, count: 2 }, runGroupId: RUN_GROUP }),
  ]);
  expect(shards.map((s) => s.clusters.length).every((n) => n > 0)).toBe(true);
  expect(shards.map((s) => s.status).sort()).toEqual(['partial', 'succeeded']);
}
