/**
 * As whom the embedded PostgreSQL runs, and where its data lives. PostgreSQL
 * refuses to run as root, so root runs it as the `postgres` system user
 * (created when missing); a data directory that user cannot reach (a clone in
 * /root or `mktemp -d`) moves to RELOCATED_DATA_ROOT, linked from the one the
 * user chose. The binaries: embedded-binaries.ts.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, type Stats } from 'node:fs';
import { chmod, lstat, readlink, realpath, stat, symlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { EmbeddedPostgresError, describeCause } from '../core/errors.js';
import { makeDirectory } from '../core/make-directory.js';

/** Root only: data of a DWS_EXPORTER_DATA_DIR the `postgres` user cannot reach. */
export const RELOCATED_DATA_ROOT = '/var/lib/dws-task-exporter';
export const SERVER_USER = 'postgres';
export const USE_ANOTHER_SERVER = 'or set DATABASE_URL to use a PostgreSQL server of your own';

const run = promisify(execFile);

/** The user the server runs as when it cannot be this process's (root). */
export interface ServerAccount {
  readonly uid: number;
  readonly gid: number;
}

export interface DataLayout {
  /** Holds pgdata, pg-password and postgres.log: the data directory, or its relocated home. */
  readonly home: string;
  readonly pgdata: string;
}

/** Runs `action`; any failure becomes an EmbeddedPostgresError saying what failed and what to do. */
export async function step<T>(what: string, remedy: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof EmbeddedPostgresError) throw error;
    throw new EmbeddedPostgresError(`${what} (${describeCause(error)}): ${remedy}`, { cause: error });
  }
}

/** undefined: the server runs as this process's user. */
export async function serverAccount(): Promise<ServerAccount | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const existing = await accountIds().catch(() => undefined);
  if (existing) return existing;
  return step(
    `PostgreSQL does not run as root, and the ${SERVER_USER} system user to run it as is missing and could not be created`,
    `create it (useradd --system ${SERVER_USER}), run as a non-root user, ${USE_ANOTHER_SERVER}`,
    async () => {
      // groupadd fails when the group exists; useradd then says what is really wrong.
      await run('groupadd', ['--system', SERVER_USER]).catch(() => undefined);
      await run('useradd', ['--system', '--gid', SERVER_USER, '--no-create-home', '--shell', '/usr/sbin/nologin', SERVER_USER]);
      return accountIds();
    },
  );
}

async function accountIds(): Promise<ServerAccount> {
  const [uid, gid] = await Promise.all([run('id', ['-u', SERVER_USER]), run('id', ['-g', SERVER_USER])]);
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/**
 * True if `account` may search every directory from / down to `path`. The
 * server gets no supplementary groups (Node drops them with setuid), so only
 * its primary group counts; ACLs are not read (initdb then says what failed).
 */
export async function reachableBy(path: string, account: ServerAccount): Promise<boolean> {
  for (let dir = await realpath(path); ; dir = dirname(dir)) {
    if (!searchable(await stat(dir), account)) return false;
    if (dirname(dir) === dir) return true;
  }
}

function searchable(entry: Stats, account: ServerAccount): boolean {
  const bits = entry.uid === account.uid ? entry.mode >> 6 : entry.gid === account.gid ? entry.mode >> 3 : entry.mode;
  return (bits & 0o1) !== 0;
}

/** mkdir -p each, then give `account` search (not read) access, which a umask of 077 would deny. */
export async function searchableDirs(dirs: readonly string[], account: ServerAccount): Promise<void> {
  for (const dir of dirs) {
    await makeDirectory(dir);
    const entry = await stat(dir);
    if (!searchable(entry, account)) await chmod(dir, entry.mode | 0o001);
  }
}

/**
 * A cluster's home in the data directory the user chose (DWS_EXPORTER_DATA_DIR:
 * the home itself, or its subdirectory `cluster`), unless `account` cannot
 * reach that directory: then the same layout under RELOCATED_DATA_ROOT/<name>-<hash
 * of the path>, linked from the data directory (`pgdata`, or `cluster`) so
 * that later starts follow the link.
 */
export async function dataLayout(dataDir: string, account: ServerAccount | undefined, cluster?: string): Promise<DataLayout> {
  const base = resolve(dataDir);
  const inPlace = cluster ? join(base, cluster) : base;
  const layout = (home: string): DataLayout => ({ home, pgdata: join(home, 'pgdata') });
  // The link names the cluster's home (`cluster`) or its pgdata (the main cluster, whose home holds the others).
  const link = cluster ? inPlace : join(base, 'pgdata');
  const linked = await step(
    `cannot create the embedded PostgreSQL's data directory ${inPlace}`,
    `set DWS_EXPORTER_DATA_DIR to a directory you can write, ${USE_ANOTHER_SERVER}`,
    async () => {
      await makeDirectory(base);
      const target = await linkTarget(link);
      if (!account) await makeDirectory(inPlace);
      return target;
    },
  );
  if (!account) return layout(inPlace);
  return step(
    `cannot prepare a data directory for the embedded PostgreSQL that the ${SERVER_USER} user can reach`,
    `set DWS_EXPORTER_DATA_DIR to a directory that user can reach, ${USE_ANOTHER_SERVER}`,
    async () => {
      if (linked) return layout(cluster ? linked : dirname(linked));
      if (await reachableBy(dirname(base), account)) {
        await searchableDirs([base, inPlace], account);
        return layout(inPlace);
      }
      const slug = `${basename(dirname(base))}-${basename(base)}`.replace(/[^A-Za-z0-9._-]+/g, '_').slice(-40);
      const relocated = join(RELOCATED_DATA_ROOT, `${slug}-${createHash('sha256').update(base).digest('hex').slice(0, 12)}`);
      const home = cluster ? join(relocated, cluster) : relocated;
      await searchableDirs([RELOCATED_DATA_ROOT, relocated, home], account);
      if (!existsSync(link)) await symlink(cluster ? home : join(home, 'pgdata'), link);
      return layout(home);
    },
  );
}

/**
 * Where `link` points, if it is a symbolic link (a relocation's, or the
 * user's own); rejects if that target is gone, which would otherwise surface
 * as a missing password file or log.
 */
async function linkTarget(link: string): Promise<string | undefined> {
  if (!(await lstat(link).catch(() => undefined))?.isSymbolicLink()) return undefined;
  const target = resolve(dirname(link), await readlink(link));
  if (existsSync(target)) return target;
  throw new EmbeddedPostgresError(
    `the embedded PostgreSQL's data directory ${link} is a symbolic link to ${target}, which does not exist (removed?): ` +
      `remove the link (rm ${link}) to start afresh with an empty database, or restore ${target}, ${USE_ANOTHER_SERVER}`,
  );
}
