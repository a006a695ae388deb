/** Opening the warehouse: a pg pool, checked once so a bad URL fails fast and clearly. */
import pg from 'pg';
import { DbUnavailableError } from '../core/errors.js';

export interface Database {
  readonly pool: pg.Pool;
  /** The URL with any password replaced by `***`, for logs and messages. */
  readonly displayUrl: string;
  close(): Promise<void>;
}

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable database URL)';
  }
}

export async function openDatabase(url: string, options: { readonly maxConnections: number }): Promise<Database> {
  const displayUrl = redactUrl(url);
  const pool = new pg.Pool({
    connectionString: url,
    max: options.maxConnections,
    application_name: 'dws-task-exporter',
    connectionTimeoutMillis: 15_000,
    idleTimeoutMillis: 30_000,
  });
  // A server restart ends every session, and pg emits 'error' on each client:
  // idle in the pool (pool 'error') or checked out between two queries (the
  // client's own 'error'). Unheard, either is an uncaught exception that
  // kills the run. The query in flight still fails, and is retried.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => {
    client.on('error', () => undefined);
  });
  try {
    const client = await pool.connect();
    client.release();
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new DbUnavailableError(displayUrl, error);
  }
  return {
    pool,
    displayUrl,
    close: () => pool.end(),
  };
}
