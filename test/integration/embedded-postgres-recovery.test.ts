/**
 * The embedded PostgreSQL after an interruption (fresh-clone review): a
 * signal during its start stops what the exporter started before it exits;
 * a start that finds its data directory still held waits for the holder or
 * names it; a stale lock never costs an unrelated process a signal; a
 * dangling relocation link is named with the way out.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, readlink, realpath, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedPostgresError } from '../../src/core/errors.js';
import { ExitCode } from '../../src/core/exit-codes.js';
import { startEmbeddedPostgres } from '../../src/warehouse/embedded-postgres.js';
import { cliLauncher, describeResult, waitFor } from '../support/cli.js';

const { startCli, runCli } = cliLauncher();
const HAS_PROC = existsSync('/proc/self/cwd');

/** Processes on `pgdata`: PostgreSQL's (they work in it) and initdb (named in its arguments). */
async function processesOn(pgdata: string): Promise<string[]> {
  const real = await realpath(pgdata).catch(() => pgdata);
  const found: string[] = [];
  for (const pid of (await readdir('/proc')).filter((name) => /^\d+$/.test(name))) {
    const cwd = await readlink(`/proc/${pid}/cwd`).catch(() => '');
    const args = (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ');
    if (cwd === real || args.includes(`--pgdata=${pgdata}`)) found.push(`${pid}: ${args}`);
  }
  return found;
}

const lockHolder = async (pgdata: string): Promise<string | undefined> =>
  (await readFile(join(pgdata, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n')[0] || undefined;

describe.runIf(HAS_PROC)('a signal while the embedded PostgreSQL starts', () => {
  let dataDir: string;
  beforeAll(async () => {
    // Under /tmp, which the `postgres` user reaches as root: the data stays here, where the test watches it.
    dataDir = await mkdtemp(join(tmpdir(), 'dws-exporter-signal-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('SIGINT as soon as the data directory is locked (initdb, then the server): exits 130 after its processes are gone, and a rerun works', async () => {
    const pgdata = join(dataDir, 'pgdata');
    const env = { DWS_EXPORTER_DATA_DIR: dataDir };
    for (const phase of ['initdb', 'server start']) {
      const child = startCli(['migrate'], env);
      await waitFor(`the ${phase} to lock ${pgdata}`, async () => (await lockHolder(pgdata)) ?? child.exited());
      child.kill('SIGINT');
      const interrupted = await child.done;
      const left = await processesOn(pgdata);
      expect(interrupted.code, `${phase}: ${describeResult(interrupted)}`).toBe(ExitCode.INTERRUPTED_SIGINT);
      expect(left, phase).toEqual([]);
      const rerun = await runCli(['migrate'], env);
      expect(rerun.code, `after ${phase}: ${describeResult(rerun)}`).toBe(ExitCode.OK);
    }
  });
});

describe('startEmbeddedPostgres with a dangling data directory link', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'dws-exporter-dangling-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  // What a removed relocation (/var/lib/dws-task-exporter/…) leaves: pgdata, or the demo's cluster, linked to nothing.
  it.each([
    ['pgdata', 'pgdata', undefined],
    ["the demo's cluster", 'demo', 'demo'],
  ])('%s: names the link and its missing target, and says to remove the link or restore the target', async (_, name, cluster) => {
    const base = join(dataDir, name);
    await mkdir(base);
    const link = join(base, name);
    const target = join(dataDir, 'removed', name);
    await symlink(target, link);
    const failure = await startEmbeddedPostgres(base, cluster ? { cluster } : {}).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(EmbeddedPostgresError);
    const message = failure instanceof Error ? failure.message : '';
    expect(message).toContain(`${link} is a symbolic link to ${target}, which does not exist`);
    expect(message).toContain(`remove the link (rm ${link})`);
    expect(message).toContain(`restore ${target}`);
  });
});
