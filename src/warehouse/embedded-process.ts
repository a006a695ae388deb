/**
 * The embedded PostgreSQL's processes: initdb to completion, and the server
 * until it is ready. Every spawn error and early exit becomes an
 * EmbeddedPostgresError with the process's last output, never an unhandled
 * 'error' event.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { open, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { EmbeddedPostgresError, describeCause } from '../core/errors.js';
import type { ServerAccount } from './embedded-layout.js';
import { exitingOnSignal, stopOnSignal } from './embedded-signals.js';

const READY_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 60_000;
/** On SIGINT/SIGTERM: how long initdb or the server may take to stop before it is killed (below the config's 20 s grace). */
const SIGNAL_STOP_MS = 10_000;
const LOG_LINES_SHOWN = 12;

/** English messages whatever the user's locale: they end up in our errors. */
const childEnv = (): NodeJS.ProcessEnv => ({ ...process.env, LC_ALL: 'C' });
const runAs = (account: ServerAccount | undefined) => (account ? { uid: account.uid, gid: account.gid } : {});

function lastLines(text: string): string {
  const lines = text.trim().split('\n').slice(-LOG_LINES_SHOWN);
  return lines.length > 0 && lines[0] !== '' ? `\n  last lines:\n    ${lines.join('\n    ')}` : '';
}

/** Runs a command to completion; rejects with `what`, its exit and output tail, and `remedy`. */
export function runToCompletion(
  command: string,
  args: readonly string[],
  account: ServerAccount | undefined,
  what: string,
  remedy: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv(), ...runAs(account) });
    const closed = new Promise<void>((resolveClosed) => child.once('close', () => resolveClosed()));
    // initdb stops at its next step and removes what it made: the rerun starts afresh.
    const release = stopOnSignal(() => stopChild(child, closed, SIGNAL_STOP_MS));
    const collect = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-8192);
    };
    for (const stream of [child.stdout, child.stderr]) {
      stream.on('data', collect);
      stream.on('error', () => undefined);
    }
    child.once('error', (error) => {
      release();
      reject(new EmbeddedPostgresError(`${what}: cannot run ${command} (${describeCause(error)}): ${remedy}`, { cause: error }));
    });
    child.once('close', (code, signal) => {
      release();
      // Stopped for a signal: this process is exiting with its code, not with this failure.
      if (exitingOnSignal()) return;
      if (code === 0) resolve();
      else reject(new EmbeddedPostgresError(`${what}: ${command} ${signal ? `was killed by ${signal}` : `exited with code ${String(code)}`}: ${remedy}${lastLines(output)}`));
    });
  });
}

export interface ServerProcess {
  /** Fast shutdown (SIGINT), waiting for the server to exit. */
  stop(): Promise<void>;
  /** Fast shutdown signalled synchronously: for a process 'exit' handler. */
  signalStop(): void;
}

export interface ServerStart {
  readonly postgres: string;
  readonly args: readonly string[];
  readonly account: ServerAccount | undefined;
  readonly pgdata: string;
  readonly port: number;
  /** The server's stdout and stderr, truncated at each start. */
  readonly logPath: string;
  /** What to do if it does not start for a reason its log names (one sentence). */
  readonly remedy: string;
}

/**
 * Starts the server in a process group of its own (a terminal's Ctrl-C goes to
 * the exporter, which then stops it) and resolves once postmaster.pid says
 * `ready`, as `pg_ctl start -w` does.
 */
export async function startServer(start: ServerStart): Promise<ServerProcess> {
  const log = await open(start.logPath, 'w', 0o600);
  let child: ChildProcess;
  try {
    child = spawn(start.postgres, [...start.args], {
      stdio: ['ignore', log.fd, log.fd],
      detached: true,
      env: childEnv(),
      ...runAs(start.account),
    });
  } catch (error) {
    await log.close();
    throw error;
  }
  // Listening before the first await: a server that cannot start (its data
  // directory held) exits within milliseconds, and a missed 'exit' cost the
  // whole ready timeout.
  let failure: string | undefined;
  child.once('error', (error) => {
    failure = `cannot run ${start.postgres} (${describeCause(error)})`;
  });
  const stopped = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      failure ??= signal ? `it was killed by ${signal}` : `it exited with code ${String(code)}`;
      resolve();
    });
  });
  child.unref();
  // The child has its own copy of the descriptor.
  await log.close();
  const release = stopOnSignal(() => stopChild(child, stopped, SIGNAL_STOP_MS));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await isReady(start.pgdata, child.pid))) {
    if (failure === undefined && Date.now() > deadline) {
      failure = `it was not ready after ${READY_TIMEOUT_MS / 1000} s`;
      child.kill('SIGKILL');
    }
    if (failure !== undefined) {
      // Stopped for a signal: this process is about to exit with its code; the failure is not news.
      if (exitingOnSignal()) await new Promise<never>(() => undefined);
      release();
      const serverLog = await readFile(start.logPath, 'utf8').catch(() => '');
      throw new EmbeddedPostgresError(
        `the embedded PostgreSQL server (data in ${start.pgdata}) did not start: ${failure}; ${remedyFor(serverLog, start)} ` +
          `(server log: ${start.logPath})${lastLines(serverLog)}`,
      );
    }
    await sleep(50);
  }
  return {
    signalStop: () => void child.kill('SIGINT'),
    stop: async () => {
      try {
        await stopChild(child, stopped, STOP_TIMEOUT_MS);
      } finally {
        release();
      }
    },
  };
}

/** The causes a server log names that have a better remedy than "fix what the log says". */
function remedyFor(serverLog: string, start: ServerStart): string {
  const holder = /lock file "postmaster\.pid" already exists[\s\S]*?Is another \w+ \(PID (\d+)\)/.exec(serverLog);
  if (holder) {
    return `another PostgreSQL process (pid ${holder[1]}) holds this data directory: wait for it to end, or stop it (kill ${holder[1]}), then rerun`;
  }
  if (/could not bind|Address already in use/.test(serverLog)) return `free port ${start.port}, or ${start.remedy}`;
  return start.remedy;
}

/** Fast shutdown (SIGINT) and its exit awaited; SIGKILL after `timeoutMs`. */
async function stopChild(child: ChildProcess, exited: Promise<void>, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  // Waiting for its exit must keep Node running; the timer must not once it has exited.
  child.ref();
  child.kill('SIGINT');
  const timeout = sleep(timeoutMs, 'timeout' as const, { ref: false });
  if ((await Promise.race([exited, timeout])) === 'timeout') {
    child.kill('SIGKILL');
    await exited;
  }
}

/** Line 1 of postmaster.pid is the postmaster's pid, line 8 its status (PostgreSQL's pidfile.h). */
async function isReady(pgdata: string, pid: number | undefined): Promise<boolean> {
  const lines = (await readFile(`${pgdata}/postmaster.pid`, 'utf8').catch(() => '')).split('\n');
  return pid !== undefined && Number(lines[0]) === pid && lines[7]?.trim() === 'ready';
}
