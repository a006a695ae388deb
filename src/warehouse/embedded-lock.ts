/**
 * Who holds an embedded data directory. Line 1 of postmaster.pid is the pid
 * of the server holding it, or the negated pid of a single-user backend (what
 * initdb runs). One left by an exporter that was killed, or still shutting
 * down, would make the server's start fail: wait it out, bounded, then name it.
 * A server that a live exporter started is that exporter's: never stopped,
 * and while it is ready (its command still at work) named at once.
 */
import { readFile, readlink, realpath, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EmbeddedInUseError, EmbeddedPostgresError } from '../core/errors.js';

/** A server's fast shutdown, or the rest of an interrupted initdb, fits well within this. */
const HOLDER_WAIT_MS = 15_000;

/**
 * A setting of our own on the server's command line: the pid of the exporter
 * that started it, which PostgreSQL keeps in postmaster.opts (and Linux in
 * /proc/<pid>/cmdline), so that another command can tell whose server it finds.
 */
const OWNER_SETTING = 'dws_exporter.owner_pid';

/** The server arguments that name this process as the server's owner. */
export function ownerArgs(): readonly string[] {
  return ['-c', `${OWNER_SETTING}=${process.pid}`];
}

interface Holder {
  readonly pid: number;
  readonly singleUser: boolean;
  /** Line 8 says `ready`: a server not starting and not shutting down. */
  readonly ready: boolean;
  /** Line 4: the port a server listens on. */
  readonly port: number;
}

/** A ready server that a live exporter process runs. */
export interface RunningServer {
  /** The exporter process that started it (and stops it). */
  readonly owner: number;
  readonly port: number;
}

/**
 * Resolves once nothing holds `pgdata`: a server left behind (SIGKILL gives
 * its exporter no chance to stop it) gets a fast shutdown; a single-user
 * backend ends with the initdb that runs it. Rejects naming the holder if it
 * is still there after HOLDER_WAIT_MS, and at once for a live exporter's
 * ready server.
 */
export async function awaitDataDirectory(pgdata: string, remedy: string): Promise<void> {
  const deadline = Date.now() + HOLDER_WAIT_MS;
  let stopping: number | undefined;
  for (let holder = await lockHolder(pgdata); holder; holder = await lockHolder(pgdata)) {
    // A live exporter's server is in use (a `run` while `report` starts): waited for, never stopped.
    const owner = holder.singleUser ? undefined : await liveOwner(pgdata, holder.pid);
    if (!holder.singleUser && owner === undefined && stopping !== holder.pid) {
      stopping = holder.pid;
      signal(holder.pid);
    }
    // Ready, not stopping: its command is still at work, and waiting would only delay the same answer.
    if (Date.now() > deadline || (owner !== undefined && holder.ready)) {
      if (owner !== undefined) throw inUse(pgdata, owner, holder.pid, remedy);
      const kind = holder.singleUser ? ', a single-user one such as initdb runs' : '';
      throw new EmbeddedPostgresError(
        `another PostgreSQL process (pid ${holder.pid}${kind}) still holds the embedded PostgreSQL's data directory ${pgdata} ` +
          `after ${HOLDER_WAIT_MS / 1000} s: wait for it to end, or stop it (kill ${holder.pid}), then rerun, or ${remedy}`,
      );
    }
    await sleep(100);
  }
}

/** The process postmaster.pid names, if it is alive and (where /proc can tell) works in `pgdata`. */
async function lockHolder(pgdata: string): Promise<Holder | undefined> {
  const lockFile = join(pgdata, 'postmaster.pid');
  const lines = (await readFile(lockFile, 'utf8').catch(() => '')).split('\n');
  const first = Number(lines[0]);
  const pid = Math.abs(first);
  // None, or stale: PostgreSQL replaces the file of a process that is gone (or not its user's) itself.
  if (!Number.isInteger(pid) || pid === 0 || !isOurs(pid)) return undefined;
  if ((await worksIn(pid, pgdata)) === false) {
    // The pid now names an unrelated process (after a reboot, in a new container): never signal it,
    // and PostgreSQL would refuse to start while it lives.
    await rm(lockFile, { force: true });
    return undefined;
  }
  return { pid, singleUser: first < 0, ready: lines[7]?.trim() === 'ready', port: Number(lines[3]) };
}

/** The server holding `pgdata` and the other live exporter process that owns it; undefined if there is none. */
async function heldByAnotherExporter(pgdata: string): Promise<{ readonly holder: Holder; readonly owner: number } | undefined> {
  const holder = await lockHolder(pgdata);
  const owner = holder && !holder.singleUser ? await liveOwner(pgdata, holder.pid) : undefined;
  return holder && owner !== undefined && owner !== process.pid ? { holder, owner } : undefined;
}

/** The ready server another live exporter process runs on `pgdata`, for a read-only command to share; else undefined. */
export async function runningServer(pgdata: string): Promise<RunningServer | undefined> {
  const held = await heldByAnotherExporter(pgdata);
  if (!held?.holder.ready || !Number.isInteger(held.holder.port) || held.holder.port <= 0) return undefined;
  return { owner: held.owner, port: held.holder.port };
}

/**
 * A start that lost the race for the lock to a live exporter's server (both
 * found the directory free): that server's owner, to name instead of a
 * holder to kill.
 */
export async function lostToLiveExporter(pgdata: string, remedy: string): Promise<EmbeddedPostgresError | undefined> {
  // Not our own server, left by a start that failed (killed after its ready timeout): that failure is the news.
  const held = await heldByAnotherExporter(pgdata);
  return held ? inUse(pgdata, held.owner, held.holder.pid, remedy) : undefined;
}

function inUse(pgdata: string, owner: number, server: number, remedy: string): EmbeddedInUseError {
  const who = owner === process.pid ? 'this process' : `another dws-task-exporter process (pid ${owner})`;
  return new EmbeddedInUseError(
    `the embedded PostgreSQL's data directory ${pgdata} is in use by ${who}, whose server (pid ${server}) keeps running ` +
      `until it ends: wait for that process to finish, then rerun, or ${remedy} ` +
      `(if pid ${owner} is not a dws-task-exporter, stop that server yourself: kill ${server})`,
    owner,
  );
}

/** The owner's pid as the server's command line gives it: /proc's NUL-separated form or postmaster.opts' quoted one. */
export function ownerFromCommandLine(commandLine: string): number | undefined {
  const setting = commandLine.split(/[\0\s"]+/).find((arg) => arg.startsWith(`${OWNER_SETTING}=`));
  const owner = Number(setting?.slice(OWNER_SETTING.length + 1));
  return Number.isInteger(owner) && owner > 0 ? owner : undefined;
}

/**
 * The exporter process that started server `pid`, if it is still alive (this
 * one included) and, where /proc tells, still the server's parent; undefined
 * for a server whose exporter is gone, or one started without the setting.
 */
async function liveOwner(pgdata: string, pid: number): Promise<number | undefined> {
  // The server's own command line where Linux shows it; postmaster.opts (the same, written at its start) elsewhere.
  const owner =
    ownerFromCommandLine(await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')) ??
    ownerFromCommandLine(await readFile(join(pgdata, 'postmaster.opts'), 'utf8').catch(() => ''));
  if (owner === undefined || !isAlive(owner)) return undefined;
  const parent = await parentOf(pid);
  // A killed exporter's server has a new parent (init or a subreaper); its pid may since name another process.
  return parent === undefined || parent === owner ? owner : undefined;
}

/** The parent's pid from /proc/<pid>/stat (after the command name, which may hold spaces); undefined without /proc. */
async function parentOf(pid: number): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  const parent = Number(stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  return Number.isInteger(parent) ? parent : undefined;
}

/** Alive, whoever's: EPERM means it exists under another user. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Alive and ours to signal; EPERM (another user's) is not the server, which runs as us or as our `postgres`. */
function isOurs(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signal(pid: number): void {
  try {
    process.kill(pid, 'SIGINT');
  } catch {
    // Gone meanwhile: the next look finds the directory free.
  }
}

/** PostgreSQL's processes work in their data directory; undefined where /proc cannot say (not Linux). */
async function worksIn(pid: number, pgdata: string): Promise<boolean | undefined> {
  try {
    return (await readlink(`/proc/${pid}/cwd`)) === (await realpath(pgdata));
  } catch {
    return undefined;
  }
}
