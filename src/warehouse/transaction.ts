/**
 * BEGIN … COMMIT, the one way the exporter runs a transaction. A failed
 * ROLLBACK means the connection is in an unknown state (usually gone): it is
 * destroyed when released, never handed out again.
 */
import type pg from 'pg';

const broken = new WeakMap<pg.ClientBase, Error>();

/** `work` inside a transaction on a connection the caller holds; rolled back if it throws. */
export async function withTransaction<T>(client: pg.ClientBase, work: () => Promise<T>): Promise<T> {
  try {
    await client.query('BEGIN');
    const result = await work();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: unknown) => {
      broken.set(client, rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError)));
    });
    throw error;
  }
}

/** Returns a connection to its pool, or destroys it if a ROLLBACK on it failed. */
export function releaseClient(client: pg.PoolClient): void {
  client.release(broken.get(client));
}

/** `work` in a transaction on a connection of its own from `pool`. */
export async function withPooledTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    return await withTransaction(client, () => work(client));
  } finally {
    releaseClient(client);
  }
}
