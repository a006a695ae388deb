/**
 * Least privilege, as the README documents it, in a real PostgreSQL:
 * docker/sql/roles.sql run by an administrator, migrations run as the schema
 * owner, the export run as a writer with --no-migrate, and BI reading as a
 * reader. The group roles (dws_owner, dws_writer, dws_reader) are
 * cluster-wide and stay on the server; the login roles are this test's own
 * and are dropped with its database.
 */
import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { setMaxListeners } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runExportSession } from '../../src/commands/export-session.js';
import { parseConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/core/logger.js';
import { SimFleet, startSimulator, type Simulator } from '../../src/simulator/index.js';
import { MIGRATIONS_DIR, migrate } from '../../src/warehouse/migrate.js';
import { adminUrl, applyRolesSql, createTestDatabase, type TestDatabase } from '../support/database.js';
import { TEST_TOKEN, fleetConfig, fleetTasks, storedTasks } from '../support/exporter.js';

const ROLES_SQL = fileURLToPath(new URL('../../docker/sql/roles.sql', import.meta.url));

let db: TestDatabase;
let admin: pg.Pool;
const suffix = randomBytes(4).toString('hex');
const logins = {
  migrator: `dws_t${suffix}_migrator`,
  exporter: `dws_t${suffix}_exporter`,
  bi: `dws_t${suffix}_bi`,
} as const;
const password = randomBytes(12).toString('hex');

/** A URL for one of this test's login roles; the migrator acts as dws_owner. */
function urlAs(login: string, options?: string): string {
  const url = new URL(db.url);
  url.username = login;
  url.password = password;
  if (options) url.searchParams.set('options', options);
  return url.toString();
}

async function withClient<T>(url: string, body: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(url);
  // A failing query rejects on its own; an error after it (a forced drop) is not this test's.
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await body(client);
  } finally {
    await client.end();
  }
}

/** The error code PostgreSQL raises for `sql`, or null if it succeeds. */
async function sqlState(url: string, sql: string): Promise<string | null> {
  return withClient(url, async (client) => {
    try {
      await client.query(sql);
      return null;
    } catch (error) {
      return (error as { code?: string }).code ?? 'unknown';
    }
  });
}

const INSUFFICIENT_PRIVILEGE = '42501';

beforeAll(async () => {
  db = await createTestDatabase({ migrated: false });
  // The test database, as the server's administrator.
  admin = db.pool;
  // The administrator's one-time setup, exactly as documented.
  await applyRolesSql(admin);
  await admin.query(`CREATE ROLE ${logins.migrator} LOGIN PASSWORD '${password}' IN ROLE dws_owner`);
  await admin.query(`CREATE ROLE ${logins.exporter} LOGIN PASSWORD '${password}' IN ROLE dws_writer`);
  await admin.query(`CREATE ROLE ${logins.bi} LOGIN PASSWORD '${password}' IN ROLE dws_reader`);
});

afterAll(async () => {
  await db.drop();
  const server = new pg.Client(adminUrl());
  await server.connect();
  try {
    for (const login of Object.values(logins)) await server.query(`DROP ROLE IF EXISTS ${login}`);
  } finally {
    await server.end();
  }
});

describe('least-privilege roles', () => {
  let simulator: Simulator;
  const fleet = SimFleet.generate({ seed: 47, projects: 1, clustersPerProject: 4, minTasks: 5, maxTasks: 90 });

  beforeAll(async () => {
    simulator = await startSimulator({ fleet, auth: { token: TEST_TOKEN } });
  });
  afterAll(async () => {
    await simulator.close();
  });

  it('the migration role applies every migration, and dws_owner owns everything in schema dws', async () => {
    await withClient(urlAs(logins.migrator, '-c role=dws_owner'), async (client) => {
      const result = await migrate(client);
      expect(result.applied.length).toBeGreaterThanOrEqual(4);
    });
    const owners = await admin.query<{ owner: string; n: number }>(
      `SELECT pg_get_userbyid(c.relowner) AS owner, count(*)::int AS n
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'dws' AND c.relkind IN ('r', 'v', 'S', 'i')
        GROUP BY 1`,
    );
    expect(owners.rows.map((r) => r.owner)).toEqual(['dws_owner']);
    const schemaOwner = await admin.query(`SELECT pg_get_userbyid(nspowner) AS owner FROM pg_namespace WHERE nspname = 'dws'`);
    expect(schemaOwner.rows).toEqual([{ owner: 'dws_owner' }]);
  });

  it('the writer runs the export with --no-migrate and stores every task', async () => {
    const { signal } = new AbortController();
    setMaxListeners(0, signal);
    const credentials = { kind: 'token', token: TEST_TOKEN } as const;
    const report = await runExportSession({
      env: { databaseUrl: urlAs(logins.exporter), configPath: undefined, dataDir: '.dws-exporter', logLevel: 'silent', credentials },
      config: parseConfig(fleetConfig(simulator, fleet), 'test config'),
      credentials,
      migrate: false,
      logger: createLogger('silent'),
      announce: () => undefined,
      signal,
      runGroupId: 'roles-test',
    });
    expect(report.status).toBe('succeeded');
    expect(await storedTasks(db.pool)).toEqual(fleetTasks(fleet));
    // And a second run, which updates the ledger and reads the views for metrics.
    const again = await runExportSession({
      env: { databaseUrl: urlAs(logins.exporter), configPath: undefined, dataDir: '.dws-exporter', logLevel: 'silent', credentials },
      config: parseConfig(fleetConfig(simulator, fleet), 'test config'),
      credentials,
      migrate: false,
      logger: createLogger('silent'),
      announce: () => undefined,
      signal,
    });
    expect(again.totals.rowsUnchanged).toBe(fleet.totalTasks());
    expect(await sqlState(urlAs(logins.exporter), 'SELECT * FROM dws.v_export_health')).toBeNull();
  });

  it('the writer can change no schema and delete no rows', async () => {
    const exporter = urlAs(logins.exporter);
    expect(await sqlState(exporter, 'CREATE TABLE dws.intruder (x int)')).toBe(INSUFFICIENT_PRIVILEGE);
    expect(await sqlState(exporter, 'DROP VIEW dws.v_task_daily')).toBe(INSUFFICIENT_PRIVILEGE);
    expect(await sqlState(exporter, 'ALTER TABLE dws.logical_cluster_tasks ADD COLUMN x int')).toBe(INSUFFICIENT_PRIVILEGE);
    expect(await sqlState(exporter, 'DELETE FROM dws.logical_cluster_tasks')).toBe(INSUFFICIENT_PRIVILEGE);
    expect(await sqlState(exporter, 'TRUNCATE dws.export_runs CASCADE')).toBe(INSUFFICIENT_PRIVILEGE);
    expect(await sqlState(exporter, 'CREATE SCHEMA intruder')).toBe(INSUFFICIENT_PRIVILEGE);
    // Nor can it apply migrations: that is the migration role's job.
    await withClient(exporter, async (client) => {
      await expect(migrate(client)).rejects.toThrow(/permission denied/);
    });
  });

  it('the BI reader reads every table and view and writes nothing', async () => {
    const bi = urlAs(logins.bi);
    for (const relation of ['logical_cluster_tasks', 'export_runs', 'export_cluster_runs', 'clusters', 'v_task_daily', 'v_running_tasks', 'v_export_health', 'v_run_groups']) {
      expect(await sqlState(bi, `SELECT * FROM dws.${relation} LIMIT 1`), relation).toBeNull();
    }
    const rows = await withClient(bi, async (c) => (await c.query('SELECT sum(tasks)::int AS n FROM dws.v_task_daily')).rows[0] as { n: number });
    expect(rows.n).toBeGreaterThan(0);
    expect(await sqlState(bi, `UPDATE dws.logical_cluster_tasks SET log = 'x'`)).toBe(INSUFFICIENT_PRIVILEGE);
    expect(await sqlState(bi, `INSERT INTO dws.clusters (cluster_id, project_id) VALUES ('x', 'y')`)).toBe(INSUFFICIENT_PRIVILEGE);
    expect(await sqlState(bi, 'CREATE TABLE dws.bi_scratch (x int)')).toBe(INSUFFICIENT_PRIVILEGE);
  });

  it('a table that a later migration adds is writable by the writer and readable by BI without new grants', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dws-exporter-roles-'));
    try {
      for (const name of await readdir(MIGRATIONS_DIR)) await copyFile(join(MIGRATIONS_DIR, name), join(dir, name));
      await writeFile(
        join(dir, '9999_later.sql'),
        `CREATE TABLE dws.later (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, note text);
         COMMENT ON TABLE dws.later IS 'test'; COMMENT ON COLUMN dws.later.id IS 'test'; COMMENT ON COLUMN dws.later.note IS 'test';`,
      );
      await withClient(urlAs(logins.migrator, '-c role=dws_owner'), async (client) => {
        expect((await migrate(client, { dir })).applied).toEqual(['9999_later.sql']);
      });
      expect(await sqlState(urlAs(logins.exporter), `INSERT INTO dws.later (note) VALUES ('from the job')`)).toBeNull();
      expect(await sqlState(urlAs(logins.bi), 'SELECT note FROM dws.later')).toBeNull();
      expect(await sqlState(urlAs(logins.bi), `INSERT INTO dws.later (note) VALUES ('no')`)).toBe(INSUFFICIENT_PRIVILEGE);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('roles.sql can be run again, and hands an install migrated by another role over to dws_owner', async () => {
    const other = await createTestDatabase({ migrated: true });
    try {
      const pool = new pg.Pool({ connectionString: other.url, max: 1 });
      // Dropping the database (WITH FORCE) may end a connection still closing: not an error of this test.
      pool.on('error', () => undefined);
      try {
        await pool.query(await readFile(ROLES_SQL, 'utf8'));
        await pool.query(await readFile(ROLES_SQL, 'utf8'));
        const owners = await pool.query<{ owner: string }>(
          `SELECT DISTINCT pg_get_userbyid(c.relowner) AS owner FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'dws' AND c.relkind IN ('r', 'v')`,
        );
        expect(owners.rows).toEqual([{ owner: 'dws_owner' }]);
        const grants = await pool.query<{ ok: boolean }>(
          `SELECT has_table_privilege('dws_writer', 'dws.logical_cluster_tasks', 'INSERT, UPDATE')
                  AND NOT has_table_privilege('dws_writer', 'dws.logical_cluster_tasks', 'DELETE')
                  AND has_table_privilege('dws_reader', 'dws.v_export_health', 'SELECT')
                  AND NOT has_table_privilege('dws_reader', 'dws.export_runs', 'INSERT') AS ok`,
        );
        expect(grants.rows).toEqual([{ ok: true }]);
      } finally {
        await pool.end();
      }
    } finally {
      await other.drop();
    }
  });
});
