/**
 * A fresh database per test file (or per test), on the server global-setup
 * found, dropped afterwards: tests never see each other's rows and can run
 * in parallel.
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { inject } from 'vitest';
import { migrate } from '../../src/warehouse/migrate.js';

export interface TestDatabase {
  readonly url: string;
  readonly pool: pg.Pool;
  drop(): Promise<void>;
}

export function adminUrl(): string {
  return inject('adminDatabaseUrl');
}

export function withDatabaseName(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

export async function createTestDatabase(options: { readonly migrated?: boolean } = {}): Promise<TestDatabase> {
  const name = `dws_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client(adminUrl());
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = withDatabaseName(adminUrl(), name);
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on('error', () => undefined);
  if (options.migrated ?? true) {
    const client = await pool.connect();
    try {
      await migrate(client);
    } finally {
      client.release();
    }
  }
  return {
    url,
    pool,
    async drop() {
      await pool.end();
      const dropper = new pg.Client(adminUrl());
      await dropper.connect();
      try {
        await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await dropper.end();
      }
    },
  };
}

/** A fresh migrated database for the duration of `body`, dropped afterwards. */
export async function withDatabase<T>(body: (db: TestDatabase) => Promise<T>): Promise<T> {
  const db = await createTestDatabase();
  try {
    return await body(db);
  } finally {
    await db.drop();
  }
}

/** Every row of every table and view in schema dws, as text. */
export async function dumpDwsSchema(pool: pg.Pool): Promise<string> {
  const relations = await pool.query<{ name: string }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS name
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'dws' AND c.relkind IN ('r', 'p', 'v', 'm')`,
  );
  const lines: string[] = [];
  for (const { name } of relations.rows) {
    const rows = await pool.query<{ row: string }>(`SELECT t::text AS row FROM ${name} t`);
    lines.push(...rows.rows.map((r) => `${name} ${r.row}`));
  }
  return lines.join('\n');
}

const ROLES_SQL = fileURLToPath(new URL('../../docker/sql/roles.sql', import.meta.url));

/**
 * docker/sql/roles.sql, as an administrator runs it, on `pool`'s database. The
 * group roles are cluster-wide: another test file may create them at the same
 * moment, so a duplicate-role race is retried.
 */
export async function applyRolesSql(pool: pg.Pool): Promise<void> {
  const sql = await readFile(ROLES_SQL, 'utf8');
  for (let attempt = 0; ; attempt++) {
    try {
      await pool.query(sql);
      return;
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (attempt < 3 && (code === '23505' || code === '42710')) continue;
      throw error;
    }
  }
}
