/**
 * What is stored of one cluster, read with one indexed query when its export
 * starts: each task's identity, fingerprint and whether it was running, for
 * the identity rule (transform/task-identity.ts).
 */
import type pg from 'pg';
import type { StoredTask } from '../transform/task-identity.js';
import { naturalKey } from '../transform/task-row.js';

// The primary key's leading column: an index scan of the cluster's rows.
const STORED_TASKS_SQL = `
SELECT logical_cluster_name, task_type, start_time_raw, occurrence, row_fingerprint, is_running
  FROM dws.logical_cluster_tasks
 WHERE cluster_id = $1`;

type StoredRow = [string, string, string, number, string | null, boolean];

export async function readStoredTasks(pool: pg.Pool, clusterId: string): Promise<StoredTask[]> {
  // Arrays, not objects: a large cluster has hundreds of thousands of rows.
  const result = await pool.query<StoredRow>({ text: STORED_TASKS_SQL, values: [clusterId], rowMode: 'array' });
  return result.rows.map(([logicalClusterName, taskType, startTimeRaw, occurrence, fingerprint, running]) => ({
    key: naturalKey({ logicalClusterName, taskType, startTimeRaw }),
    occurrence,
    fingerprint: fingerprint === null ? null : Number(fingerprint),
    running,
  }));
}
