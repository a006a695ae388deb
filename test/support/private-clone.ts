/**
 * This checkout as a user has it after `git clone` into `mktemp -d` or /root:
 * a fresh 0700 directory holding the files git tracks (and new, not ignored
 * ones), no dist/. node_modules is hard-linked (a real copy across file
 * systems), so the embedded PostgreSQL binaries sit under that directory too.
 */
import { execFile, spawn } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { RELOCATED_DATA_ROOT } from '../../src/warehouse/embedded-postgres.js';
import type { CliResult } from './cli.js';

const run = promisify(execFile);

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface PrivateClone {
  /** The mkdtemp directory (mode 0700). */
  readonly parent: string;
  /** The checkout inside it. */
  readonly root: string;
  remove(): Promise<void>;
}

/** `modules`: hard-linked copy (binaries under the 0700 directory), a symlink (enough for tsc), or none. */
export async function privateClone(modules: 'copy' | 'symlink' | 'none'): Promise<PrivateClone> {
  const parent = await mkdtemp(join(tmpdir(), 'dws-exporter-clone-'));
  const root = join(parent, 'dws-task-exporter');
  const { stdout } = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, maxBuffer: 8 * 1024 * 1024 });
  for (const file of stdout.split('\0').filter((f) => f !== '')) {
    await mkdir(dirname(join(root, file)), { recursive: true });
    // A tracked file deleted in the working tree is not part of the clone.
    await copyFile(join(ROOT, file), join(root, file)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }
  if (modules === 'symlink') await symlink(join(ROOT, 'node_modules'), join(root, 'node_modules'));
  if (modules === 'copy') {
    await run('cp', ['-al', join(ROOT, 'node_modules'), join(root, 'node_modules')]).catch(() =>
      run('cp', ['-a', join(ROOT, 'node_modules'), join(root, 'node_modules')]),
    );
  }
  return { parent, root, remove: () => rm(parent, { recursive: true, force: true }) };
}

/** The environment minus whatever configures the exporter, as in test/support/cli.ts. */
export function cleanEnv(overrides: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key === 'DATABASE_URL' || key.startsWith('DWS_') || key.startsWith('HUAWEICLOUD_')) continue;
    env[key] = value;
  }
  return { ...env, LOG_LEVEL: 'warn', ...overrides };
}

export interface RunOptions {
  readonly cwd: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs: number;
  readonly uid?: number;
  readonly gid?: number;
}

/** A command to completion (killed after timeoutMs); never rejects, so a failure shows its output. */
export function runCommand(command: string, args: readonly string[], options: RunOptions): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.uid !== undefined ? { uid: options.uid } : {}),
      ...(options.gid !== undefined ? { gid: options.gid } : {}),
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
    }, options.timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      resolve({ code: null, signal: null, timedOut, stdout, stderr: `${stderr}\nspawn failed: ${error.message}` });
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, timedOut, stdout, stderr });
    });
  });
}

/** What a failure anywhere must never print (issue 10: coded errors only). */
export const RAW_FAILURE = /Unhandled 'error' event|^\s+at \S.*:\d+:\d+\)?$|internal error/m;

/** The data directory a command named ("…, data in DIR (…"). */
export function dataDirIn(output: string): string {
  const match = /, data in (\S+) \(/.exec(output);
  if (!match?.[1]) throw new Error(`no "data in" in:\n${output}`);
  return match[1];
}

/** Data that had to move out of an unreachable directory (as root) is removed with the test that made it. */
export async function removeRelocatedData(dataDir: string): Promise<void> {
  const [first] = relative(RELOCATED_DATA_ROOT, dataDir).split(sep);
  if (first && first !== '..' && dataDir.startsWith(`${RELOCATED_DATA_ROOT}${sep}`)) {
    await rm(join(RELOCATED_DATA_ROOT, first), { recursive: true, force: true });
  }
}
