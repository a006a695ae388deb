/**
 * Who holds an embedded data directory. Line 1 of postmaster.pid is the pid
 * of the server holding it, or the negated pid of a single-user backend (what
 * initdb runs). One left by an exporter that was killed, or still shutting
 * down, would make the server's start fail: wait it out, bounded, then name it.
 */
import { readFile, readlink, realpath, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EmbeddedPostgresError } from '../core/errors.js';

/** A server's fast shutdown, or the rest of an interrupted initdb, fits well within this. */
const HOLDER_WAIT_MS = 15_000;

interface Holder {
  readonly pid: number;
  readonly singleUser: boolean;
}

/**
 * Resolves once nothing holds `pgdata`: a server left behind (SIGKILL gives
 * its exporter no chance to stop it) gets a fast shutdown; a single-user
 * backend ends with the initdb that runs it. Rejects naming the holder if it
 * is still there after HOLDER_WAIT_MS.
 */
export async function awaitDataDirectory(pgdata: string, remedy: string): Promise<void> {
  const deadline = Date.now() + HOLDER_WAIT_MS;
  let stopping: number | undefined;
  for (let holder = await lockHolder(pgdata); holder; holder = await lockHolder(pgdata)) {
    if (!holder.singleUser && stopping !== holder.pid) {
      stopping = holder.pid;
      signal(holder.pid);
    }
    if (Date.now() > deadline) {
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
  const first = Number((await readFile(lockFile, 'utf8').catch(() => '')).split('\n')[0]);
  const pid = Math.abs(first);
  // None, or stale: PostgreSQL replaces the file of a process that is gone (or not its user's) itself.
  if (!Number.isInteger(pid) || pid === 0 || !isOurs(pid)) return undefined;
  if ((await worksIn(pid, pgdata)) === false) {
    // The pid now names an unrelated process (after a reboot, in a new container): never signal it,
    // and PostgreSQL would refuse to start while it lives.
    await rm(lockFile, { force: true });
    return undefined;
  }
  return { pid, singleUser: first < 0 };
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
