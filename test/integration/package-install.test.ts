/**
 * The package installs like a real CLI (issue 10, item 2): `npm pack` on a
 * clean copy of this checkout (no dist/: prepack must build it), the tarball
 * installed with npm into an empty fresh 0700 directory, and the installed
 * bin run from there: --help, demo, and run (against `simulate` from the same
 * bin). Needs the npm registry for the dependencies (its cache when warm).
 * Slow: its own file, generous timeouts.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/core/exit-codes.js';
import { describeResult, type CliResult } from '../support/cli.js';
import {
  cleanEnv,
  dataDirIn,
  privateClone,
  RAW_FAILURE,
  removeRelocatedData,
  ROOT,
  runCommand,
  type PrivateClone,
} from '../support/private-clone.js';

const NPM_TIMEOUT_MS = 400_000;
const CLI_TIMEOUT_MS = 150_000;
const SUMMARY_OK = /^Run \d+ succeeded in \d+\.\d s: (\d+)\/(\d+) clusters complete\.$/m;
const npm = (args: readonly string[], cwd: string): Promise<CliResult> =>
  runCommand('npm', [...args, '--no-audit', '--no-fund', '--loglevel=error'], { cwd, env: cleanEnv(), timeoutMs: NPM_TIMEOUT_MS });

interface PackedFile {
  readonly path: string;
}

let source: PrivateClone;
/** The empty install directory (mkdtemp: 0700). */
let target: string;
let tarball: string;
let packed: readonly string[];
const relocated: string[] = [];

beforeAll(async () => {
  source = await privateClone('symlink');
  target = await mkdtemp(join(tmpdir(), 'dws-exporter-install-'));
  const pack = await npm(['pack', '--json', '--pack-destination', source.parent], source.root);
  if (pack.code !== 0) throw new Error(`npm pack failed:\n${describeResult(pack)}`);
  const [result] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as { filename: string; files: PackedFile[] }[];
  if (!result) throw new Error(`npm pack printed no result:\n${describeResult(pack)}`);
  tarball = join(source.parent, result.filename);
  packed = result.files.map((f) => f.path).sort();
  const install = await npm(['install', '--prefer-offline', tarball], target);
  if (install.code !== 0) throw new Error(`npm install of the tarball failed:\n${describeResult(install)}`);
}, 2 * NPM_TIMEOUT_MS + 30_000);

afterAll(async () => {
  for (const dir of relocated) await removeRelocatedData(dir);
  await source?.remove();
  if (target) await rm(target, { recursive: true, force: true });
});

/** The installed bin, the way a user calls it: `npx dws-task-exporter ...` in the install directory. */
const installed = (args: readonly string[], env: Readonly<Record<string, string>> = {}) =>
  runCommand('npx', ['--no', '--', 'dws-task-exporter', ...args], { cwd: target, env: cleanEnv(env), timeoutMs: CLI_TIMEOUT_MS });

function rememberRelocated(output: string): void {
  if (output.includes(', data in ')) relocated.push(dataDirIn(output));
}

describe('npm pack of a clean checkout', () => {
  it('holds the compiled CLI, the migrations, the config schema, the docs, README and LICENSE, and no tests, benchmarks, sources or maps', async () => {
    expect(packed).toContain('dist/src/cli.js');
    expect(packed).toContain('package.json');
    expect(packed).toContain('README.md');
    expect(packed).toContain('LICENSE');
    expect(packed).toContain('config.schema.json');
    expect(packed).toContain('docs/credentials.md');
    const migrations = (await readdir(join(ROOT, 'migrations'))).filter((f) => f.endsWith('.sql'));
    for (const name of migrations) expect(packed).toContain(`migrations/${name}`);
    const unexpected = packed.filter(
      (f) =>
        !(f.startsWith('dist/src/') && f.endsWith('.js')) &&
        !f.startsWith('migrations/') &&
        !f.startsWith('docs/') &&
        !['package.json', 'README.md', 'LICENSE', 'config.schema.json'].includes(f),
    );
    expect(unexpected).toEqual([]);
    expect(packed.some((f) => f.startsWith('test/') || f.startsWith('bench/') || f.startsWith('.ci/'))).toBe(false);
  });

  it('installs a bin that is compiled JavaScript with a shebang, and no TypeScript runtime', async () => {
    const cli = await readFile(join(target, 'node_modules', 'dws-task-exporter', 'dist', 'src', 'cli.js'), 'utf8');
    expect(cli.startsWith('#!/usr/bin/env node\n')).toBe(true);
    const manifest = JSON.parse(await readFile(join(target, 'node_modules', 'dws-task-exporter', 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
    };
    expect(Object.keys(manifest.dependencies ?? {})).not.toContain('tsx');
  });
});

describe('the installed bin, from an empty 0700 directory', () => {
  it('--help prints the usage', async () => {
    const result = await installed(['--help']);
    expect(result.code, describeResult(result)).toBe(ExitCode.OK);
    expect(result.stdout).toContain('Usage: dws-task-exporter <command>');
  });

  it('demo exports into its embedded PostgreSQL', async () => {
    const result = await installed(['demo', '--projects', '1', '--clusters-per-project', '2', '--max-tasks', '20']);
    rememberRelocated(result.stdout);
    expect(result.stderr).not.toMatch(RAW_FAILURE);
    expect(result.code, describeResult(result)).toBe(ExitCode.OK);
    expect(SUMMARY_OK.exec(result.stdout)?.slice(1), describeResult(result)).toEqual(['2', '2']);
  });

  it('run exports what `simulate` (same bin) serves into the embedded PostgreSQL', async () => {
    const token = 'installed-bin-token';
    // The bin npx runs, called directly so that SIGTERM reaches it.
    const bin = join(target, 'node_modules', '.bin', 'dws-task-exporter');
    const simulate = spawn(bin, ['simulate', '--port', '0', '--projects', '1', '--clusters-per-project', '2', '--token', token], {
      cwd: target,
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let printed = '';
    simulate.stdout.on('data', (chunk: Buffer) => (printed += chunk.toString()));
    simulate.stderr.resume();
    const exited = new Promise((resolve) => {
      simulate.once('error', resolve);
      simulate.once('close', resolve);
    });
    try {
      const deadline = Date.now() + CLI_TIMEOUT_MS;
      let config: unknown;
      while (config === undefined && Date.now() < deadline && simulate.exitCode === null) {
        try {
          config = JSON.parse(printed);
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      expect(config, `simulate printed no config:\n${printed}`).toBeDefined();
      const configPath = join(target, 'config.json');
      await writeFile(configPath, JSON.stringify(config));
      const result = await installed(['run', '--config', configPath], { DWS_AUTH_TOKEN: token });
      rememberRelocated(result.stderr);
      expect(result.stderr).not.toMatch(RAW_FAILURE);
      expect(result.code, describeResult(result)).toBe(ExitCode.OK);
      expect(SUMMARY_OK.exec(result.stdout)?.slice(1), describeResult(result)).toEqual(['2', '2']);
    } finally {
      simulate.kill('SIGTERM');
      await exited;
    }
  });
});
