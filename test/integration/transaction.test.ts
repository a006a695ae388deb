/**
 * withTransaction against a real PostgreSQL: commit, rollback, and a
 * connection that dies mid-transaction is destroyed, never handed out again.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withPooledTransaction, withTransaction } from '../../src/warehouse/transaction.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase({ migrated: false });
  await db.pool.query('CREATE TABLE notes (note text)');
});
afterAll(async () => {
  await db.drop();
});

async function notes(): Promise<string[]> {
  return (await db.pool.query<{ note: string }>('SELECT note FROM notes ORDER BY note')).rows.map((r) => r.note);
}

describe('withTransaction', () => {
  it('commits what the work wrote and returns its result', async () => {
    const result = await withPooledTransaction(db.pool, async (client) => {
      await client.query("INSERT INTO notes VALUES ('kept')");
      return 42;
    });
    expect(result).toBe(42);
    expect(await notes()).toEqual(['kept']);
  });

  it('rolls back when the work throws, rethrows that error, and leaves the connection usable', async () => {
    const client = await db.pool.connect();
    try {
      const failure = withTransaction(client, async () => {
        await client.query("INSERT INTO notes VALUES ('lost')");
        throw new Error('work failed');
      });
      await expect(failure).rejects.toThrow('work failed');
      expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      client.release();
    }
    expect(await notes()).toEqual(['kept']);
  });

  it('destroys a connection whose session died mid-transaction instead of returning it to the pool', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 1 });
    pool.on('error', () => undefined);
    try {
      let pid = 0;
      const failure = withPooledTransaction(pool, async (client) => {
        client.on('error', () => undefined);
        pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid ?? 0;
        await db.pool.query('SELECT pg_terminate_backend($1)', [pid]);
        await client.query("INSERT INTO notes VALUES ('never')");
      });
      await expect(failure).rejects.toThrow();
      expect(pool.totalCount).toBe(0);
      const next = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      expect(next.rows[0]?.pid).not.toBe(pid);
    } finally {
      await pool.end();
    }
    expect(await notes()).toEqual(['kept']);
  });
});
