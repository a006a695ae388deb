/**
 * The path a new operator takes: `config init` writes a commented config and
 * its JSON Schema, `discover` proves it against the API, `run` exports; and
 * `config schema` prints the same schema the package ships.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config/load-config.js';
import { ExitCode } from '../../src/core/exit-codes.js';
import { SimFleet } from '../../src/simulator/index.js';
import { cliLauncher, describeResult } from '../support/cli.js';
import { withDatabase } from '../support/database.js';
import { TEST_TOKEN, fleetTasks, storedTasks, withSimulator } from '../support/exporter.js';

const { runCli } = cliLauncher();
const PROJECT = '0123456789abcdef0123456789abcdef';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dws-config-commands-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('config schema', () => {
  it('prints the JSON Schema the package ships as config.schema.json', async () => {
    const result = await runCli(['config', 'schema']);
    expect(result.code, describeResult(result)).toBe(ExitCode.OK);
    const shipped = await readFile(new URL('../../config.schema.json', import.meta.url), 'utf8');
    expect(JSON.parse(result.stdout)).toEqual(JSON.parse(shipped));
  });
});

describe('config init', () => {
  it('writes a commented config that loads as written, and the schema beside it', async () => {
    const file = join(dir, 'a', 'exporter.json');
    await mkdir(join(dir, 'a'));
    const result = await runCli(['config', 'init', '--file', file, '--region', 'eu-west-101', '--project-id', PROJECT]);
    expect(result.code, describeResult(result)).toBe(ExitCode.OK);
    expect(result.stdout).toContain(`dws-task-exporter discover --config ${file}`);
    const text = await readFile(file, 'utf8');
    expect(text).toMatch(/^\s*\/\/ /m);
    expect(text).toContain('"$schema": "./config.schema.json"');
    const config = await loadConfigFile(file);
    expect(config.projects).toEqual([
      { projectId: PROJECT, endpoint: 'https://dws.eu-west-101.myhuaweicloud.eu', region: 'eu-west-101', clusters: { mode: 'discover', include: null, exclude: [] } },
    ]);
    const schema = await readFile(join(dir, 'a', 'config.schema.json'), 'utf8');
    const shipped = await readFile(new URL('../../config.schema.json', import.meta.url), 'utf8');
    expect(JSON.parse(schema)).toEqual(JSON.parse(shipped));
  });

  it('never overwrites a config without --force, and says so (exit 2)', async () => {
    const file = join(dir, 'existing.json');
    await writeFile(file, '{"mine": true}\n');
    const refused = await runCli(['config', 'init', '--file', file]);
    expect(refused.code, describeResult(refused)).toBe(ExitCode.USAGE_OR_CONFIG);
    expect(refused.stderr).toContain(`${file} exists already`);
    expect(await readFile(file, 'utf8')).toBe('{"mine": true}\n');
    const forced = await runCli(['config', 'init', '--file', file, '--force']);
    expect(forced.code, describeResult(forced)).toBe(ExitCode.OK);
  });

  it('without --project-id leaves a placeholder that validation names until it is replaced', async () => {
    const file = join(dir, 'placeholder.json');
    const result = await runCli(['config', 'init', '--file', file]);
    expect(result.code, describeResult(result)).toBe(ExitCode.OK);
    expect(result.stdout).toContain('put your project id in');
    await expect(loadConfigFile(file)).rejects.toThrow(/projects\[0\]\.projectId: not a Huawei Cloud project id/);
  });

  it('refuses a bad --region or --project-id before writing anything', async () => {
    const file = join(dir, 'never.json');
    for (const args of [['--region', 'north-4'], ['--project-id', 'my-project']]) {
      const result = await runCli(['config', 'init', '--file', file, ...args]);
      expect(result.code, describeResult(result)).toBe(ExitCode.USAGE_OR_CONFIG);
      expect(result.stderr).toContain(args[0]);
    }
    await expect(readFile(file)).rejects.toThrow();
  });

  it('config init → discover → run exports the project, as the README walks it', async () => {
    const fleet = SimFleet.generate({ seed: 71, projects: 1, clustersPerProject: 3, minTasks: 0, maxTasks: 60 });
    const projectId = fleet.projectIds()[0] ?? '';
    await withSimulator({ fleet }, async (simulator) =>
      withDatabase(async (db) => {
        const file = join(dir, 'path.json');
        const init = await runCli(['config', 'init', '--file', file, '--project-id', projectId]);
        expect(init.code, describeResult(init)).toBe(ExitCode.OK);
        // Stand in the simulator for the region's endpoint.
        const text = await readFile(file, 'utf8');
        await writeFile(file, text.replace('"region": "cn-north-4",', `"endpoint": "${simulator.url}",`));
        const env = { DWS_AUTH_TOKEN: TEST_TOKEN, DATABASE_URL: db.url };
        const discover = await runCli(['discover', '--config', file], env);
        expect(discover.code, describeResult(discover)).toBe(ExitCode.OK);
        for (const cluster of fleet.clusters) expect(discover.stdout).toContain(cluster.id);
        const run = await runCli(['run', '--config', file], env);
        expect(run.code, describeResult(run)).toBe(ExitCode.OK);
        expect(await storedTasks(db.pool)).toEqual(fleetTasks(fleet));
      }),
    );
  });
});
