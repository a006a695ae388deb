/**
 * One batch = one transaction: the task rows and the ledger counters commit
 * together. A batch that fails because the server went away is retried whole
 * (the upsert is idempotent); the rows stay in memory until then.
 */
import type pg from 'pg';
import { DbError } from '../errors.js';
import type { TaskRow } from '../transform/task-row.js';
import { withDbRetry, type DbRetryPolicy } from './db-retry.js';
import { addBatchCounts } from './ledger.js';
import { upsertTasks, type UpsertCounts } from './upsert-tasks.js';

export async function loadBatch(
  pool: pg.Pool,
  retry: DbRetryPolicy,
  runId: number,
  clusterId: string,
  rows: readonly TaskRow[],
): Promise<UpsertCounts> {
  try {
    return await withDbRetry(retry, () => loadOnce(pool, runId, clusterId, rows));
  } catch (error) {
    throw new DbError(`storing ${rows.length} tasks of cluster ${clusterId} failed`, error);
  }
}

async function loadOnce(
  pool: pg.Pool,
  runId: number,
  clusterId: string,
  rows: readonly TaskRow[],
): Promise<UpsertCounts> {
  const client = await pool.connect();
  let failure: unknown;
  try {
    await client.query('BEGIN');
    const counts = await upsertTasks(client, rows, runId);
    const flagged = rows.filter((row) => row.issues.length > 0).length;
    await addBatchCounts(client, runId, clusterId, { ...counts, fetched: rows.length, flagged });
    await client.query('COMMIT');
    return counts;
  } catch (error) {
    // A failed ROLLBACK means the connection is gone: destroy it, never reuse it.
    failure = await client.query('ROLLBACK').then(
      () => undefined,
      (rollbackError: unknown) => rollbackError,
    );
    throw error;
  } finally {
    client.release(failure instanceof Error ? failure : undefined);
  }
}
