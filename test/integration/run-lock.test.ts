/**
 * The run lock against the abandoned-run sweep: a live run, however young,
 * is never closed as abandoned; a run whose session died still is.
 */
import { describe, expect, it } from 'vitest';
import type pg from 'pg';
import { SimFleet } from '../../src/simulator/index.js';
import { startRun } from '../../src/warehouse/ledger.js';
import { markAbandonedRuns, startLockedRun } from '../../src/warehouse/run-lock.js';
import { withDatabase } from '../support/database.js';
import { exportOnce, fleetConfig, withSimulator } from '../support/exporter.js';

const RUN_LOCK_NAMESPACE = 0x44575345;
// pg_locks spans the server: other test databases have runs with the same ids.
const THIS_DATABASE = '(SELECT oid FROM pg_database WHERE datname = current_database())';
// Long enough that a lost lock session is not re-taken while a test looks.
const NO_RETAKE_MS = 600_000;

async function statusOf(pool: pg.Pool, runId: number): Promise<string | null> {
  const result = await pool.query<{ status: string }>('SELECT status FROM dws.export_runs WHERE run_id = $1', [runId]);
  return result.rows[0]?.status ?? null;
}

describe('opening a run under its lock', () => {
  it('a sweep between the insert of a run row and its lock does not see the row, and after the start the run stays running', async () => {
    await withDatabase(async (db) => {
      const inWindow: { swept: number[]; status: string | null }[] = [];
      const { runId, lock } = await startLockedRun(db.pool, NO_RETAKE_MS, async (session) => {
        const id = await startRun(session, 'UTC', 1);
        inWindow.push({ swept: await markAbandonedRuns(db.pool), status: await statusOf(db.pool, id) });
        return id;
      });
      try {
        expect(inWindow).toEqual([{ swept: [], status: null }]);
        expect(await markAbandonedRuns(db.pool)).toEqual([]);
        expect(await statusOf(db.pool, runId)).toBe('running');
      } finally {
        await lock.release();
      }
    });
  });

  it('a run whose lock session died is still closed as abandoned', async () => {
    await withDatabase(async (db) => {
      const { runId, lock } = await startLockedRun(db.pool, NO_RETAKE_MS, (session) => startRun(session, 'UTC', 1));
      try {
        const killed = await db.pool.query<{ killed: boolean }>(
          `SELECT pg_terminate_backend(pid, 10000) AS killed FROM pg_locks
            WHERE locktype = 'advisory' AND granted AND database = ${THIS_DATABASE}
              AND classid::bigint = $1 AND objid::bigint = $2`,
          [RUN_LOCK_NAMESPACE, runId],
        );
        expect(killed.rows).toEqual([{ killed: true }]);
        expect(await markAbandonedRuns(db.pool)).toEqual([runId]);
        expect(await statusOf(db.pool, runId)).toBe('abandoned');
      } finally {
        await lock.release();
      }
    });
  });

  it('a failed insert leaves neither a run row nor a held lock', async () => {
    await withDatabase(async (db) => {
      await expect(
        startLockedRun(db.pool, NO_RETAKE_MS, async (session) => {
          await startRun(session, 'UTC', 1);
          throw new Error('insert failed');
        }),
      ).rejects.toThrow('insert failed');
      const left = await db.pool.query<{ runs: number; locks: number }>(
        `SELECT (SELECT count(*)::int FROM dws.export_runs) AS runs,
                (SELECT count(*)::int FROM pg_locks
                  WHERE locktype = 'advisory' AND database = ${THIS_DATABASE} AND classid::bigint = $1) AS locks`,
        [RUN_LOCK_NAMESPACE],
      );
      expect(left.rows).toEqual([{ runs: 0, locks: 0 }]);
    });
  });
});

describe('runs (shards) starting at the same moment', () => {
  const RUNS = 12;
  const SWEEPERS = 3;

  it('none is ever closed as abandoned, even with abandoned-run sweeps running all the while', async () => {
    const fleet = SimFleet.generate({ seed: 401, projects: 1, clustersPerProject: RUNS, minTasks: 1, maxTasks: 5 });
    await withDatabase(async (db) => {
      // The ledger ends right even after a wrong mark (the run overwrites its
      // status when it finishes): only a record of every mark shows one.
      await db.pool.query(`
        CREATE TABLE public.abandoned_marks (run_id bigint NOT NULL);
        CREATE FUNCTION public.record_abandoned() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          INSERT INTO public.abandoned_marks (run_id) VALUES (NEW.run_id);
          RETURN NULL;
        END $$;
        CREATE TRIGGER record_abandoned AFTER UPDATE OF status ON dws.export_runs
          FOR EACH ROW WHEN (NEW.status = 'abandoned') EXECUTE FUNCTION public.record_abandoned();
      `);
      await withSimulator({ fleet }, async (simulator) => {
        const base = fleetConfig(simulator, fleet);
        let starting = true;
        const sweeps = Array.from({ length: SWEEPERS }, async () => {
          const closed: number[] = [];
          while (starting) closed.push(...(await markAbandonedRuns(db.pool)));
          return closed;
        });
        let statuses: string[];
        try {
          // One cluster each, as shards: runs never write the same task rows.
          const reports = await Promise.all(
            fleet.clusters.map((cluster) =>
              exportOnce(db.url, { ...base, projects: [{ projectId: cluster.projectId, clusters: [cluster.id] }] }),
            ),
          );
          statuses = reports.map((r) => r.status);
        } finally {
          starting = false;
        }
        expect((await Promise.all(sweeps)).flat()).toEqual([]);
        expect(statuses).toEqual(Array.from({ length: RUNS }, () => 'succeeded'));
        const marks = await db.pool.query<{ run_id: string }>('SELECT run_id FROM public.abandoned_marks');
        expect(marks.rows).toEqual([]);
      });
    });
  });
});
