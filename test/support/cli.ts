/**
 * The real CLI in a child process (`node --import tsx src/cli.ts ...`), as a
 * scheduler runs it: its exit code or signal, stdout and stderr. The child
 * inherits nothing that configures the exporter from this process, so a case
 * sees only the variables it passes, whatever the developer's shell exports.
 */
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import type { LogLevel } from '../../src/core/logger.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** One child must never hang the suite: generous, not a timing assertion. */
export const CHILD_TIMEOUT_MS = 90_000;

/** waitFor gives up after this by default: generous, not a timing assertion. */
export const WAIT_TIMEOUT_MS = 60_000;

/** Variables a case sets for its child, on top of the sanitised environment. */
export type EnvOverrides = Readonly<Record<string, string>>;

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** True if the child ran past CHILD_TIMEOUT_MS and this process had to stop it. */
  readonly timedOut: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliProcess {
  /** Settles when the child has exited and its streams are closed. */
  readonly done: Promise<CliResult>;
  exited(): boolean;
  kill(signal: NodeJS.Signals): void;
  /** stdout received so far. */
  stdout(): string;
  /** stderr received so far (the JSON log). */
  stderr(): string;
  /** Both streams so far, for the message of a wait that failed before the child exited. */
  output(): string;
}

export interface CliOptions {
  /**
   * LOG_LEVEL unless a case sets its own. Default `warn`: tests of shutdown
   * and failures read the exporter's warnings from stderr.
   */
  readonly logLevel?: LogLevel;
  /**
   * Sent to a child that runs past CHILD_TIMEOUT_MS. Default SIGKILL: an
   * overrunning child may be stuck in the very shutdown a test exercises.
   */
  readonly timeoutSignal?: NodeJS.Signals;
}

/** Child launchers that share one file's CliOptions, so no call can forget them. */
export interface CliLauncher {
  startCli(args: readonly string[], env?: EnvOverrides): CliProcess;
  runCli(args: readonly string[], env?: EnvOverrides): Promise<CliResult>;
  /** `node <nodeArgs>` in the package root: for what the CLI loads rather than the CLI itself. */
  startNode(nodeArgs: readonly string[], env?: EnvOverrides): CliProcess;
}

/** A developer's proxy or private CA must not change what a case sees: cases set their own. */
const INHERITED_NETWORK = /^(https?_proxy|no_proxy|NODE_EXTRA_CA_CERTS)$/i;

function childEnv(overrides: EnvOverrides, logLevel: LogLevel): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key === 'DATABASE_URL' || key.startsWith('DWS_') || key.startsWith('HUAWEICLOUD_') || INHERITED_NETWORK.test(key)) continue;
    env[key] = value;
  }
  return { ...env, LOG_LEVEL: logLevel, ...overrides };
}

function streams(stdout: string, stderr: string): string {
  return `--- stdout\n${stdout}\n--- stderr\n${stderr}`;
}

function startNode(nodeArgs: readonly string[], env: EnvOverrides, options: Required<CliOptions>): CliProcess {
  const child = spawn(process.execPath, nodeArgs, {
    cwd: ROOT,
    env: childEnv(env, options.logLevel),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  const stdoutText = (): string => Buffer.concat(stdout).toString('utf8');
  const stderrText = (): string => Buffer.concat(stderr).toString('utf8');
  let exited = false;
  let timedOut = false;
  const done = new Promise<CliResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill(options.timeoutSignal);
    }, CHILD_TIMEOUT_MS);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      exited = true;
      clearTimeout(timer);
      resolve({ code, signal, timedOut, stdout: stdoutText(), stderr: stderrText() });
    });
  });
  return {
    done,
    exited: () => exited,
    kill: (signal) => void child.kill(signal),
    stdout: stdoutText,
    stderr: stderrText,
    output: () => streams(stdoutText(), stderrText()),
  };
}

export function cliLauncher(options: CliOptions = {}): CliLauncher {
  const resolved: Required<CliOptions> = {
    logLevel: options.logLevel ?? 'warn',
    timeoutSignal: options.timeoutSignal ?? 'SIGKILL',
  };
  const startCli = (args: readonly string[], env: EnvOverrides = {}): CliProcess =>
    startNode(['--import', 'tsx', 'src/cli.ts', ...args], env, resolved);
  return {
    startCli,
    runCli: (args, env = {}) => startCli(args, env).done,
    startNode: (nodeArgs, env = {}) => startNode(nodeArgs, env, resolved),
  };
}

/** Shown when an assertion on a child fails, so the failure explains itself. */
export function describeResult(result: CliResult): string {
  return `exit ${String(result.code)} (signal ${String(result.signal)}, timed out ${String(result.timedOut)})\n${streams(result.stdout, result.stderr)}`;
}

/** Polls until `probe` returns a truthy value; fails (never hangs) after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null | undefined | false>,
  timeoutMs: number = WAIT_TIMEOUT_MS,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} after ${timeoutMs} ms`);
    await sleep(25);
  }
}

/** One child process shared by the tests that look at different aspects of it. */
export function once<T>(produce: () => Promise<T>): () => Promise<T> {
  let result: Promise<T> | undefined;
  return () => (result ??= produce());
}

/**
 * Until no exporter session is left in the current database: a killed
 * child's backends linger until PostgreSQL notices, and hold its locks.
 */
export async function waitForExporterSessionsGone(pool: pg.Pool): Promise<void> {
  await waitFor('the exporter sessions to end', async () => {
    const r = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE datname = current_database() AND application_name = 'dws-task-exporter'`,
    );
    return r.rows[0]?.n === 0;
  });
}
