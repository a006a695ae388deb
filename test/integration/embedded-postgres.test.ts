/**
 * The embedded default wherever a user stands (issue 10, item 1): the real
 * CLI in a child process from a copy of this checkout in a fresh 0700
 * directory (what `git clone` into `mktemp -d` or /root gives), cwd and data
 * under it, as the user the tests run as (root here, so the server runs as
 * `postgres`); as an unprivileged user; `npm test`'s embedded fallback from
 * that copy; and failures that must come out as one coded line.
 */
import { existsSync } from 'node:fs';
import { chmod, chown, copyFile, link, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedPostgresError } from '../../src/core/errors.js';
import { ExitCode } from '../../src/core/exit-codes.js';
import { SimFleet, startSimulator, type Simulator } from '../../src/simulator/index.js';
import { startEmbeddedPostgres } from '../../src/warehouse/embedded-postgres.js';
import { describeResult } from '../support/cli.js';
import { fleetConfig, TEST_TOKEN } from '../support/exporter.js';
import {
  cleanEnv,
  dataDirIn,
  privateClone,
  RAW_FAILURE,
  removeRelocatedData,
  runCommand,
  type PrivateClone,
} from '../support/private-clone.js';

/** Generous (a first start copies the binaries and runs initdb): never a timing assertion. */
const CHILD_TIMEOUT_MS = 150_000;
const SUMMARY_OK = /^Run \d+ succeeded in \d+\.\d s: (\d+)\/(\d+) clusters complete\.$/m;
const DEMO_ARGS = ['demo', '--projects', '1', '--clusters-per-project', '2', '--max-tasks', '20'];
const IS_ROOT = userInfo().uid === 0;

const cli = (clone: PrivateClone, args: readonly string[], env: Readonly<Record<string, string>> = {}) =>
  runCommand(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: clone.root,
    env: cleanEnv(env),
    timeoutMs: CHILD_TIMEOUT_MS,
  });

describe('from a clone in a fresh 0700 directory, as the user the tests run as', () => {
  let clone: PrivateClone;
  let simulator: Simulator;
  const fleet = SimFleet.generate({ seed: 5, projects: 1, clustersPerProject: 2, minTasks: 1, maxTasks: 30 });
  const dataDirs: string[] = [];

  beforeAll(async () => {
    clone = await privateClone('copy');
    simulator = await startSimulator({ fleet, auth: { token: TEST_TOKEN } });
  });
  afterAll(async () => {
    await simulator?.close();
    for (const dir of dataDirs) await removeRelocatedData(dir);
    await clone?.remove();
  });

  it('demo (cwd and default data dir under it) exports into its embedded PostgreSQL, names it, and stops it', async () => {
    const result = await cli(clone, DEMO_ARGS);
    if (result.stdout.includes(', data in ')) dataDirs.push(dataDirIn(result.stdout));
    expect(result.stderr).not.toMatch(RAW_FAILURE);
    expect(result.code, describeResult(result)).toBe(ExitCode.OK);
    expect(SUMMARY_OK.exec(result.stdout)?.slice(1), describeResult(result)).toEqual(['2', '2']);
    expect(result.stdout).toMatch(/^Writing to the demo's embedded PostgreSQL postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/postgres, data in /m);
    const dataDir = dataDirIn(result.stdout);
    expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(true);
    expect(existsSync(join(dataDir, 'postmaster.pid'))).toBe(false);
  });

  it('run without DATABASE_URL says once, on stderr, that it writes to the embedded database, and exports', async () => {
    const config = join(clone.root, 'config.json');
    await writeFile(config, JSON.stringify(fleetConfig(simulator, fleet)));
    const result = await cli(clone, ['run', '--config', config], { DWS_AUTH_TOKEN: TEST_TOKEN });
    if (result.stderr.includes(', data in ')) dataDirs.push(dataDirIn(result.stderr));
    expect(result.stderr).not.toMatch(RAW_FAILURE);
    expect(result.code, describeResult(result)).toBe(ExitCode.OK);
    expect(SUMMARY_OK.exec(result.stdout)?.slice(1), describeResult(result)).toEqual(['2', '2']);
    const notices = result.stderr.split('\n').filter((line) => line.includes('embedded'));
    expect(notices, describeResult(result)).toHaveLength(1);
    expect(notices[0]).toMatch(/^Writing to the embedded PostgreSQL postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/postgres, data in \S+ \(DATABASE_URL is not set\)\.$/);
    expect(result.stdout).not.toContain('Writing to');
  });

  it('a data directory that cannot be made fails with EMBEDDED_PG_FAILED in one line, exit 5, no stack trace', async () => {
    const notADirectory = join(clone.root, 'a-file');
    await writeFile(notADirectory, 'not a directory\n');
    const result = await cli(clone, ['migrate'], { DWS_EXPORTER_DATA_DIR: notADirectory });
    expect(result.code, describeResult(result)).toBe(ExitCode.DATABASE);
    expect(result.stderr).not.toMatch(RAW_FAILURE);
    expect(result.stderr.trim().split('\n'), describeResult(result)).toHaveLength(1);
    expect(result.stderr).toMatch(/^dws-task-exporter: EMBEDDED_PG_FAILED: .*a-file.*DWS_EXPORTER_DATA_DIR/);
  });

  it.runIf(existsSync('/proc/self'))('a data directory under /proc (where a recursive mkdir never returns) fails at once with EMBEDDED_PG_FAILED naming it', async () => {
    const result = await cli(clone, ['migrate'], { DWS_EXPORTER_DATA_DIR: '/proc/dws-exporter-test' });
    expect(result.code, describeResult(result)).toBe(ExitCode.DATABASE);
    expect(result.stderr.trim().split('\n'), describeResult(result)).toHaveLength(1);
    expect(result.stderr).toMatch(/^dws-task-exporter: EMBEDDED_PG_FAILED: cannot create the embedded PostgreSQL's data directory \/proc\/dws-exporter-test .*DWS_EXPORTER_DATA_DIR/);
  });

  it("npm test's embedded fallback (no TEST_DATABASE_URL, no container runtime) gives a test file its database", async () => {
    await writeFile(
      join(clone.root, 'test', 'fallback-probe.test.ts'),
      `import { expect, inject, it } from 'vitest';
import { createTestDatabase } from './support/database.js';
it('gets a migrated database on the embedded server', async () => {
  expect(inject('databaseSource')).toBe('embedded-postgres');
  const db = await createTestDatabase();
  const runs = await db.pool.query('SELECT count(*)::int AS n FROM dws.export_runs');
  expect(runs.rows).toEqual([{ n: 0 }]);
  await db.drop();
});
`,
    );
    const env = cleanEnv();
    delete env.TEST_DATABASE_URL;
    delete env.CI;
    env.NO_COLOR = '1';
    const result = await runCommand(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', 'test/fallback-probe.test.ts'], {
      cwd: clone.root,
      env,
      timeoutMs: CHILD_TIMEOUT_MS,
    });
    expect(result.code, describeResult(result)).toBe(0);
    expect(result.stdout).toMatch(/Tests\s+1 passed/);
  });
});

describe('as an unprivileged user', () => {
  let clone: PrivateClone;
  let dataDir: string;

  beforeAll(async () => {
    clone = await privateClone('copy');
    // The checkout is readable by everyone, as one under /home or /srv usually is.
    await chmod(clone.parent, 0o755);
    dataDir = await mkdtemp(join(tmpdir(), 'dws-exporter-nobody-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
    await clone?.remove();
  });

  // As root the child switches to `nobody`; otherwise it already is unprivileged.
  it('demo runs the server as that user, with the data in DWS_EXPORTER_DATA_DIR', async () => {
    const account = IS_ROOT ? { uid: 65534, gid: 65534 } : {};
    if (IS_ROOT) await chown(dataDir, 65534, 65534);
    // Node itself may sit where that user cannot reach it (CI's Node 24 is in a mktemp -d).
    const node = join(clone.parent, 'node');
    await link(process.execPath, node).catch(() => copyFile(process.execPath, node));
    const result = await runCommand(node, ['--import', 'tsx', 'src/cli.ts', ...DEMO_ARGS], {
      cwd: clone.root,
      env: cleanEnv({ DWS_EXPORTER_DATA_DIR: dataDir, HOME: dataDir }),
      timeoutMs: CHILD_TIMEOUT_MS,
      ...account,
    });
    expect(result.stderr).not.toMatch(RAW_FAILURE);
    expect(result.code, describeResult(result)).toBe(ExitCode.OK);
    expect(dataDirIn(result.stdout)).toBe(join(dataDir, 'demo', 'pgdata'));
  });
});

describe('startEmbeddedPostgres', () => {
  let blocker: Server;
  let baseDir: string;
  beforeAll(async () => {
    baseDir = await mkdtemp(join(tmpdir(), 'dws-exporter-busy-port-'));
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await new Promise((resolve) => blocker.close(resolve));
    await rm(baseDir, { recursive: true, force: true });
  });

  it('on a port already taken rejects with EmbeddedPostgresError quoting the server log, and leaves no server', async () => {
    const address = blocker.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const failure = await startEmbeddedPostgres(baseDir, { port }).then(
      async (server) => {
        await server.stop();
        return null;
      },
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(EmbeddedPostgresError);
    expect(failure instanceof Error ? failure.message : '').toMatch(new RegExp(`did not start.*\\n(.|\\n)*${port}`));
    expect(failure instanceof Error ? failure.message : '').toContain(`free port ${port}`);
    expect(existsSync(join(baseDir, 'pgdata', 'postmaster.pid'))).toBe(false);
  });
});
