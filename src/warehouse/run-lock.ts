/**
 * Telling a running run from a dead one: each run holds a session advisory
 * lock on its run id while it lives; a `running` row whose lock nobody holds
 * belongs to a process that died, and the next run closes it as `abandoned`.
 * After a database restart the lock is taken again as soon as it answers.
 */
import type pg from 'pg';
import { withPooledTransaction } from './transaction.js';

/** Advisory lock namespace (first key) for run ids: "DWSE". */
const RUN_LOCK_NAMESPACE = 0x44575345;

export interface RunLock {
  release(): Promise<void>;
}

export interface LockedRun {
  readonly runId: number;
  readonly lock: RunLock;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * Opens a run: `insertRun` inserts the run row on the session that will hold
 * the run's lock, and the lock is taken before that transaction commits. The
 * row becomes visible only with its lock already held, so a run starting at
 * the same moment (another shard) can never take it for a dead one.
 */
export async function startLockedRun(
  pool: pg.Pool,
  retryDelayMs: number,
  insertRun: (session: pg.PoolClient) => Promise<number>,
): Promise<LockedRun> {
  const session = await pool.connect();
  let runId: number;
  try {
    await session.query('BEGIN');
    runId = await insertRun(session);
    // Session-level: COMMIT keeps it.
    await session.query('SELECT pg_advisory_lock($1, $2::int)', [RUN_LOCK_NAMESPACE, runId]);
    await session.query('COMMIT');
  } catch (error) {
    // Ending the session, not ROLLBACK: it may hold the lock already, and if
    // only the COMMIT acknowledgement was lost the row exists; with the
    // session gone its lock is free and the next run closes it as abandoned.
    session.release(asError(error));
    throw error;
  }
  return { runId, lock: keepRunLock(pool, runId, retryDelayMs, session) };
}

function keepRunLock(pool: pg.Pool, runId: number, retryDelayMs: number, session: pg.PoolClient): RunLock {
  let client: pg.PoolClient | null = null;
  let released = false;
  let retry: NodeJS.Timeout | null = null;

  const lose = (): void => {
    const lost = client;
    client = null;
    lost?.release(new Error('run lock session lost'));
    if (!released) retry ??= setTimeout(() => void reacquire(), retryDelayMs);
  };
  const hold = (next: pg.PoolClient): void => {
    client = next;
    next.once('error', lose);
  };
  const acquire = async (): Promise<void> => {
    const next = await pool.connect();
    try {
      await next.query('SELECT pg_advisory_lock($1, $2::int)', [RUN_LOCK_NAMESPACE, runId]);
    } catch (error) {
      next.release(asError(error));
      throw error;
    }
    hold(next);
  };
  const reacquire = async (): Promise<void> => {
    retry = null;
    if (released || client) return;
    try {
      await acquire();
    } catch {
      lose();
    }
  };

  hold(session);
  return {
    async release() {
      released = true;
      if (retry) clearTimeout(retry);
      const held = client;
      client = null;
      if (!held) return;
      held.off('error', lose);
      try {
        await held.query('SELECT pg_advisory_unlock($1, $2::int)', [RUN_LOCK_NAMESPACE, runId]);
        held.release();
      } catch (error) {
        // The session is gone, and its lock with it.
        held.release(asError(error));
      }
    },
  };
}

// The status is checked again on update: a run that finished (and let go of
// its lock) after this statement's snapshot keeps the status it wrote.
const MARK_ABANDONED_SQL = `
WITH running AS MATERIALIZED (
    SELECT run_id FROM dws.export_runs WHERE status = 'running'
), dead AS MATERIALIZED (
    SELECT run_id FROM running WHERE pg_try_advisory_xact_lock($1, run_id::int)
), clusters AS (
    UPDATE dws.export_cluster_runs c
       SET status = 'abandoned', finished_at = now(),
           error_code = 'ABANDONED', error_message = 'the exporter process died while exporting this cluster'
      FROM dead
     WHERE c.run_id = dead.run_id AND c.status = 'running'
)
UPDATE dws.export_runs r
   SET status = 'abandoned', finished_at = now(),
       error_code = 'ABANDONED', error_message = 'the exporter process died before closing this run'
  FROM dead
 WHERE r.run_id = dead.run_id AND r.status = 'running'
RETURNING r.run_id
`;

/** Closes runs left `running` by dead processes; returns their ids. */
export async function markAbandonedRuns(pool: pg.Pool): Promise<number[]> {
  const result = await withPooledTransaction(pool, (client) =>
    client.query<{ run_id: string }>(MARK_ABANDONED_SQL, [RUN_LOCK_NAMESPACE]),
  );
  return result.rows.map((row) => Number(row.run_id));
}
