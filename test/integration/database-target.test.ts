/**
 * Which database each command writes to (issue 10, item 3): the demo never
 * touches DATABASE_URL unless `--database-url` names a database; every
 * command names its target (password masked) before it writes; `demo
 * --keep-open` leaves its embedded server up for psql and BI tools until
 * Ctrl-C. The real CLI in a child process, a real PostgreSQL.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/core/exit-codes.js';
import { SimFleet, startSimulator, type Simulator } from '../../src/simulator/index.js';
import { redactUrl } from '../../src/warehouse/database.js';
import { cliLauncher, describeResult, waitFor } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { fleetConfig, TEST_TOKEN } from '../support/exporter.js';

const { runCli, startCli } = cliLauncher({ logLevel: 'warn', timeoutSignal: 'SIGTERM' });
const SUMMARY_OK = /^Run \d+ succeeded in \d+\.\d s: (\d+)\/(\d+) clusters complete\.$/m;
const DEMO_ARGS = ['demo', '--projects', '1', '--clusters-per-project', '2', '--max-tasks', '20'];

let workDir: string;
let db: TestDatabase;
/** db.url with a password in it (trust ignores it; password auth already has one), to see it masked. */
let urlWithPassword: string;
let password: string;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'dws-exporter-target-'));
  db = await createTestDatabase({ migrated: false });
  const url = new URL(db.url);
  if (!url.password) url.password = 'not-shown-anywhere';
  urlWithPassword = url.toString();
  password = decodeURIComponent(url.password);
});
afterAll(async () => {
  await db?.drop();
  await rm(workDir, { recursive: true, force: true });
});

async function dwsRelations(): Promise<number> {
  const r = await db.pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'dws'`,
  );
  return r.rows[0]?.n ?? -1;
}

describe('demo', () => {
  // Each data directory a mkdtemp of its own: reachable by `postgres` when the tests run as root, so it stays in place.
  it('with DATABASE_URL exported writes to its own embedded database, says so, and leaves DATABASE_URL untouched', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'dws-exporter-demo-env-'));
    const result = await runCli(DEMO_ARGS, { DATABASE_URL: urlWithPassword, DWS_EXPORTER_DATA_DIR: dataDir }).finally(() =>
      rm(dataDir, { recursive: true, force: true }),
    );
    expect(result.code, describeResult(result)).toBe(ExitCode.OK);
    expect(SUMMARY_OK.exec(result.stdout)?.slice(1), describeResult(result)).toEqual(['2', '2']);
    expect(result.stdout).toContain('DATABASE_URL is set, but the demo does not write to it');
    expect(result.stdout).toContain(`Writing to the demo's embedded PostgreSQL postgres://postgres:***@127.0.0.1:`);
    expect(result.stdout).toContain(`, data in ${join(dataDir, 'demo', 'pgdata')} (`);
    expect(result.stdout + result.stderr).not.toContain(password);
    expect(await dwsRelations()).toBe(0);
  });

  it('with --database-url URL writes there and names it, password masked', async () => {
    // Its report and fleet anchor go to a data directory of its own, never the checkout's .dws-exporter.
    const dataDir = await mkdtemp(join(tmpdir(), 'dws-exporter-demo-url-'));
    const result = await runCli([...DEMO_ARGS, '--database-url', urlWithPassword], { DWS_EXPORTER_DATA_DIR: dataDir }).finally(() =>
      rm(dataDir, { recursive: true, force: true }),
    );
    expect(result.code, describeResult(result)).toBe(ExitCode.OK);
    expect(result.stdout).toContain(`Writing to ${redactUrl(urlWithPassword)} (--database-url).`);
    expect(redactUrl(urlWithPassword)).toContain(':***@');
    expect(result.stdout + result.stderr).not.toContain(password);
    // Listed like a real fleet: names, not bare ids, for the report and BI tools.
    const clusters = await db.pool.query<{ n: number; named: number }>('SELECT count(*)::int AS n, count(cluster_name)::int AS named FROM dws.clusters');
    expect(clusters.rows).toEqual([{ n: 2, named: 2 }]);
  });

  it('--keep-open keeps the embedded server after the summary, prints psql and a URL, and stops on Ctrl-C (exit 0)', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'dws-exporter-keep-open-'));
    const child = startCli([...DEMO_ARGS, '--keep-open'], { DWS_EXPORTER_DATA_DIR: dataDir });
    try {
      const url = await waitFor('the psql command', async () => /^ {2}psql "(postgres:\/\/[^"]+)"$/m.exec(child.stdout())?.[1]);
      expect(SUMMARY_OK.exec(child.stdout())?.slice(1), child.output()).toEqual(['2', '2']);
      expect(child.stdout()).toMatch(new RegExp(`^  URL for a BI tool: ${url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        const clusters = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM dws.clusters');
        expect(clusters.rows).toEqual([{ n: 2 }]);
      } finally {
        await client.end();
      }
      child.kill('SIGINT');
      const result = await child.done;
      expect(result.code, describeResult(result)).toBe(ExitCode.OK);
      expect(existsSync(join(dataDir, 'demo', 'pgdata', 'postmaster.pid'))).toBe(false);
    } finally {
      if (!child.exited()) child.kill('SIGTERM');
      await child.done.catch(() => undefined);
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('--keep-open with --database-url is a usage error (it keeps the embedded server only)', async () => {
    const result = await runCli([...DEMO_ARGS, '--keep-open', '--database-url', urlWithPassword]);
    expect(result.code, describeResult(result)).toBe(ExitCode.USAGE_OR_CONFIG);
    expect(result.stderr).toMatch(/^dws-task-exporter: USAGE: --keep-open/m);
  });
});

describe('run and migrate name their target before writing', () => {
  let simulator: Simulator;
  const fleet = SimFleet.generate({ seed: 3, projects: 1, clustersPerProject: 2, minTasks: 1, maxTasks: 20 });
  beforeAll(async () => {
    simulator = await startSimulator({ fleet, auth: { token: TEST_TOKEN } });
  });
  afterAll(async () => {
    await simulator?.close();
  });

  it('migrate names the masked DATABASE_URL on stderr; stdout keeps its result alone', async () => {
    const result = await runCli(['migrate'], { DATABASE_URL: urlWithPassword });
    expect(result.code, describeResult(result)).toBe(ExitCode.OK);
    expect(result.stderr).toBe(`Writing to ${redactUrl(urlWithPassword)} (DATABASE_URL).\n`);
    expect(result.stdout).toMatch(/^Schema up to date|^Applied/);
    expect(result.stdout + result.stderr).not.toContain(password);
  });

  it('run names the masked DATABASE_URL on stderr, once; stdout keeps the summary alone', async () => {
    const config = join(workDir, 'run-config.json');
    await writeFile(config, JSON.stringify(fleetConfig(simulator, fleet)));
    const result = await runCli(['run', '--config', config], { DATABASE_URL: urlWithPassword, DWS_AUTH_TOKEN: TEST_TOKEN });
    expect(result.code, describeResult(result)).toBe(ExitCode.OK);
    expect(result.stderr).toBe(`Writing to ${redactUrl(urlWithPassword)} (DATABASE_URL).\n`);
    expect(result.stdout).not.toContain('Writing to');
    expect(result.stdout + result.stderr).not.toContain(password);
  });
});
