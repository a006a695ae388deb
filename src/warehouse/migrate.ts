/**
 * Applies migrations/*.sql in name order, each in its own transaction,
 * recorded with a SHA-256 checksum. Two pods starting at once serialise on an
 * advisory lock, taken by polling pg_try_advisory_lock: a blocking
 * pg_advisory_lock can deadlock against a concurrent index build.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type pg from 'pg';
import { DbError, ExporterError, MigrationError, SchemaNotMigratedError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { PACKAGE_ROOT } from '../core/package-info.js';
import type { Database } from './database.js';
import { releaseClient, withTransaction } from './transaction.js';

export const MIGRATIONS_DIR = join(PACKAGE_ROOT, 'migrations');
/** Arbitrary but fixed: "dws-task-exporter migrate" as a bigint. */
const MIGRATION_LOCK_KEY = 7_246_311_590_412_113n;
const LOCK_POLL_MS = 250;

const BOOTSTRAP_SQL = `
  CREATE SCHEMA IF NOT EXISTS dws;
  CREATE TABLE IF NOT EXISTS dws.schema_migrations (
      version     text        PRIMARY KEY,
      checksum    text        NOT NULL,
      applied_at  timestamptz NOT NULL DEFAULT now(),
      duration_ms integer     NOT NULL
  );
  COMMENT ON TABLE dws.schema_migrations IS 'Migrations applied by dws-task-exporter migrate (file name and SHA-256).';
  COMMENT ON COLUMN dws.schema_migrations.version IS 'Migration file name, e.g. 0001_export_schema.sql; applied in name order.';
  COMMENT ON COLUMN dws.schema_migrations.checksum IS 'SHA-256 of the file when it was applied; a changed file is refused.';
  COMMENT ON COLUMN dws.schema_migrations.applied_at IS 'When the migration was applied.';
  COMMENT ON COLUMN dws.schema_migrations.duration_ms IS 'How long applying it took, in milliseconds.';
`;

export interface Migration {
  readonly version: string;
  readonly sql: string;
  readonly checksum: string;
}

export async function readMigrations(dir: string = MIGRATIONS_DIR): Promise<Migration[]> {
  const names = (await readdir(dir)).filter((name) => name.endsWith('.sql')).sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(join(dir, name), 'utf8');
      return { version: name, sql, checksum: createHash('sha256').update(sql).digest('hex') };
    }),
  );
}

export interface MigrateResult {
  readonly applied: readonly string[];
  readonly alreadyApplied: number;
}

export async function migrate(
  client: pg.ClientBase,
  options: { readonly dir?: string; readonly lockTimeoutMs?: number } = {},
): Promise<MigrateResult> {
  const migrations = await readMigrations(options.dir);
  await acquireLock(client, options.lockTimeoutMs ?? 120_000);
  try {
    await client.query(BOOTSTRAP_SQL);
    const applied = await appliedChecksums(client);
    const done: string[] = [];
    for (const migration of migrations) {
      const checksum = applied.get(migration.version);
      if (checksum !== undefined) {
        if (checksum !== migration.checksum) {
          throw new MigrationError(
            `migration ${migration.version} was changed after it was applied (checksum differs); ` +
              'never edit an applied migration: add a new one',
          );
        }
        continue;
      }
      await applyOne(client, migration);
      done.push(migration.version);
    }
    return { applied: done, alreadyApplied: migrations.length - done.length };
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY.toString()]);
  }
}

/** The migrations not yet applied (for --no-migrate runs). */
export async function pendingMigrations(client: pg.ClientBase, dir?: string): Promise<string[]> {
  const migrations = await readMigrations(dir);
  const exists = await client.query<{ table: string | null }>(
    "SELECT to_regclass('dws.schema_migrations')::text AS table",
  );
  if (!exists.rows[0]?.table) return migrations.map((m) => m.version);
  const applied = await appliedChecksums(client);
  return migrations.filter((m) => !applied.has(m.version)).map((m) => m.version);
}

export async function assertMigrated(client: pg.ClientBase): Promise<void> {
  const pending = await pendingMigrations(client);
  if (pending.length > 0) throw new SchemaNotMigratedError(pending);
}

async function acquireLock(client: pg.ClientBase, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [
      MIGRATION_LOCK_KEY.toString(),
    ]);
    if (result.rows[0]?.locked) return;
    if (Date.now() > deadline) {
      throw new MigrationError(`another process has held the migration lock for over ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
  }
}

async function appliedChecksums(client: pg.ClientBase): Promise<Map<string, string>> {
  const result = await client.query<{ version: string; checksum: string }>(
    'SELECT version, checksum FROM dws.schema_migrations',
  );
  return new Map(result.rows.map((row) => [row.version, row.checksum]));
}

async function applyOne(client: pg.ClientBase, migration: Migration): Promise<void> {
  const started = Date.now();
  try {
    await withTransaction(client, async () => {
      await client.query(migration.sql);
      await client.query(
        'INSERT INTO dws.schema_migrations (version, checksum, duration_ms) VALUES ($1, $2, $3)',
        [migration.version, migration.checksum, Date.now() - started],
      );
    });
  } catch (error) {
    throw new DbError(`migration ${migration.version} failed`, error);
  }
}

/** Before a run: apply pending migrations, or (with --no-migrate) insist there are none. */
export async function prepareSchema(database: Database, apply: boolean, logger: Logger): Promise<void> {
  let client: pg.PoolClient | undefined;
  try {
    client = await database.pool.connect();
    if (!apply) {
      await assertMigrated(client);
      return;
    }
    const result = await migrate(client);
    if (result.applied.length > 0) logger.info({ applied: result.applied }, 'migrations applied');
  } catch (error) {
    if (error instanceof ExporterError) throw error;
    throw new DbError(apply ? 'applying migrations failed' : 'checking the schema failed', error);
  } finally {
    if (client) releaseClient(client);
  }
}
