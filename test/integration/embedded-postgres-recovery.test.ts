/**
 * The embedded PostgreSQL after an interruption (fresh-clone review): a
 * signal during its start stops what the exporter started before it exits;
 * a start that finds its data directory still held waits for the holder or
 * names it; a stale lock never costs an unrelated process a signal; a
 * dangling relocation link is named with the way out.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { chown, mkdir, mkdtemp, readdir, readFile, readlink, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedPostgresError } from '../../src/core/errors.js';
import { ExitCode } from '../../src/core/exit-codes.js';
import { serverBinaries } from '../../src/warehouse/embedded-binaries.js';
import { serverAccount, type ServerAccount } from '../../src/warehouse/embedded-layout.js';
import { startEmbeddedPostgres } from '../../src/warehouse/embedded-postgres.js';
import { startServer } from '../../src/warehouse/embedded-process.js';
import { cliLauncher, describeResult, waitFor, type CliProcess } from '../support/cli.js';
import { removeRelocatedData } from '../support/private-clone.js';

const { startCli, runCli, startNode } = cliLauncher();
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

/** A port nothing listens on now, on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolvePort(port));
    });
  });
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

describe.runIf(HAS_PROC)('startEmbeddedPostgres on a data directory something else holds', () => {
  let dataDir: string;
  let pgdata: string;
  let postgres: string;
  let account: ServerAccount | undefined;
  const children: { kill(): boolean }[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'dws-exporter-held-'));
    const server = await startEmbeddedPostgres(dataDir);
    pgdata = server.dataDir;
    await server.stop();
    account = await serverAccount();
    postgres = (await serverBinaries(account)).postgres;
  });
  afterAll(async () => {
    for (const child of children) child.kill();
    await removeRelocatedData(pgdata);
    await rm(dataDir, { recursive: true, force: true });
  });

  /** A single-user backend, as initdb runs them: it locks the directory with its pid negated, until its stdin ends. */
  async function singleUserBackend(): Promise<ChildProcessWithoutNullStreams> {
    const child = spawn(postgres, ['--single', '-D', pgdata, 'postgres'], { ...(account ?? {}), stdio: 'pipe' });
    child.stdout.resume();
    child.stderr.resume();
    children.push(child);
    await waitFor('the single-user backend to lock the directory', async () => (await lockHolder(pgdata)) === `-${child.pid}`);
    return child;
  }

  /** Starts the server on the directory (stopping it again): null, or why it did not start. */
  const startFailure = (): Promise<unknown> =>
    startEmbeddedPostgres(dataDir).then(
      async (server) => {
        await server.stop();
        return null;
      },
      (error: unknown) => error,
    );

  /** Ends a single-user backend and waits until it has let go. */
  async function release(holder: ChildProcessWithoutNullStreams): Promise<void> {
    holder.stdin.end();
    if (holder.exitCode === null) await once(holder, 'exit');
  }

  it("waits for a single-user backend (initdb's kind) to let go of the data directory, then starts", async () => {
    const holder = await singleUserBackend();
    // Lets go while the start is under way.
    const letGo = sleep(3000).then(() => release(holder));
    const failure = await startFailure();
    await letGo;
    expect(failure).toBeNull();
  });

  it('names the process that keeps holding it, with its pid, instead of a port to free', async () => {
    const holder = await singleUserBackend();
    const failure = await startFailure();
    await release(holder);
    expect(failure).toBeInstanceOf(EmbeddedPostgresError);
    const message = failure instanceof Error ? failure.message : '';
    expect(message).toContain(`another PostgreSQL process (pid ${holder.pid}`);
    expect(message).toContain(pgdata);
    expect(message).not.toMatch(/free port/);
  });

  it('a server start that loses the race for the lock names its holder, not a port to free', async () => {
    const holder = await singleUserBackend();
    const port = 54_329;
    const failure = await startServer({
      postgres,
      args: ['-D', pgdata, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
      account,
      pgdata,
      port,
      logPath: join(dataDir, 'lost-race.log'),
      remedy: 'fix what the log says',
    }).then(
      async (server) => {
        await server.stop();
        return null;
      },
      (error: unknown) => error,
    );
    await release(holder);
    expect(failure).toBeInstanceOf(EmbeddedPostgresError);
    const message = failure instanceof Error ? failure.message : '';
    expect(message).toContain(`another PostgreSQL process (pid ${holder.pid}) holds this data directory`);
    expect(message).not.toContain(String(port));
  });

  it('never signals an unrelated process that a stale postmaster.pid names, and starts', async () => {
    const unrelated = spawn('sleep', ['300'], { stdio: 'ignore' });
    children.push(unrelated);
    const lockFile = join(pgdata, 'postmaster.pid');
    await writeFile(lockFile, `${unrelated.pid}\n${pgdata}\n1700000000\n5432\n\n127.0.0.1\n  0 0\nready   \n`, { mode: 0o600 });
    if (account) await chown(lockFile, account.uid, account.gid);
    expect(await startFailure()).toBeNull();
    expect(unrelated.exitCode).toBeNull();
    expect(unrelated.signalCode).toBeNull();
  });
});

/**
 * A process that starts the embedded PostgreSQL on `dataDir` and keeps it
 * until SIGTERM, as a `run` does: prints `<its pid> <the server's URL>`.
 */
const OWNER_SCRIPT = `
import { startEmbeddedPostgres } from './src/warehouse/embedded-postgres.ts';
const server = await startEmbeddedPostgres(process.env.OWNER_DATA_DIR);
console.log(process.pid + ' ' + server.url);
process.once('SIGTERM', () => void server.stop().then(() => process.exit(0)));
setInterval(() => undefined, 60_000);
`;

describe.runIf(HAS_PROC)('an embedded PostgreSQL that another exporter process is using', () => {
  let dataDir: string;
  let pgdata = '';
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'dws-exporter-in-use-'));
  });
  afterAll(async () => {
    if (pgdata) await removeRelocatedData(pgdata);
    await rm(dataDir, { recursive: true, force: true });
  });

  async function startOwner(): Promise<{ owner: CliProcess; pid: number; url: string }> {
    const owner = startNode(['--import', 'tsx', '--input-type=module', '-e', OWNER_SCRIPT], { OWNER_DATA_DIR: dataDir });
    const line = await waitFor('the owner to start its server', async () => /^(\d+) (\S+)$/m.exec(owner.stdout()) ?? owner.exited());
    if (line === true) throw new Error(`the owner exited: ${owner.output()}`);
    return { owner, pid: Number(line[1]), url: line[2] as string };
  }

  /** Runs `check` while a live owner holds its server, then lets the owner stop it. */
  async function whileOwned(check: (owner: { pid: number; url: string }) => Promise<void>): Promise<void> {
    const { owner, pid, url } = await startOwner();
    try {
      await check({ pid, url });
    } finally {
      owner.kill('SIGTERM');
      await owner.done;
    }
  }

  async function answers(url: string): Promise<boolean> {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      return (await client.query('SELECT 1 AS one')).rows[0]?.one === 1;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  it("leaves the server of a live exporter running and names that exporter's pid; a command fails with exit 5 saying so", async () => {
    await whileOwned(async ({ pid, url }) => {
      const failure = await startEmbeddedPostgres(dataDir).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(EmbeddedPostgresError);
      const message = failure instanceof Error ? failure.message : '';
      expect(message).toContain(`in use by another dws-task-exporter process (pid ${pid})`);
      expect(message).toContain('set DATABASE_URL');
      expect(await answers(url)).toBe(true);

      const migrate = await runCli(['migrate'], { DWS_EXPORTER_DATA_DIR: dataDir });
      expect(migrate.code, describeResult(migrate)).toBe(ExitCode.DATABASE);
      expect(migrate.stderr).toMatch(new RegExp(`^dws-task-exporter: EMBEDDED_PG_FAILED: .*in use by another dws-task-exporter process \\(pid ${pid}\\)`, 'm'));
      expect(await answers(url)).toBe(true);
    });
  });

  it('report reads the server a live exporter is running and leaves it running', async () => {
    await whileOwned(async ({ url }) => {
      const migrate = await runCli(['migrate'], { DATABASE_URL: url });
      expect(migrate.code, describeResult(migrate)).toBe(ExitCode.OK);
      const html = join(dataDir, 'shared-report.html');
      const report = await runCli(['report', '--html', html], { DWS_EXPORTER_DATA_DIR: dataDir });
      expect(report.code, describeResult(report)).toBe(ExitCode.OK);
      expect(report.stdout.trim()).toBe(html);
      expect(await readFile(html, 'utf8')).toContain('<html');
      expect(await answers(url)).toBe(true);
    });
  });

  it('report waits for a live exporter\'s server that is still starting, then reads it', async () => {
    await whileOwned(async ({ url }) => {
      const migrate = await runCli(['migrate'], { DATABASE_URL: url });
      expect(migrate.code, describeResult(migrate)).toBe(ExitCode.OK);
      const pgdataNow = await realpath(join(dataDir, 'pgdata'));
      const lockFile = join(pgdataNow, 'postmaster.pid');
      const lines = (await readFile(lockFile, 'utf8')).split('\n');
      const withStatus = (status: string): string => [...lines.slice(0, 7), status.padEnd(8), ...lines.slice(8)].join('\n');
      // Line 8 as a starting server writes it; back to ready while the report waits for it.
      await writeFile(lockFile, withStatus('starting'));
      const html = join(dataDir, 'starting-report.html');
      const report = startCli(['report', '--html', html], { DWS_EXPORTER_DATA_DIR: dataDir });
      await sleep(4000);
      await writeFile(lockFile, withStatus('ready'));
      const result = await report.done;
      expect(result.code, describeResult(result)).toBe(ExitCode.OK);
      expect(result.stdout.trim()).toBe(html);
      expect(await answers(url)).toBe(true);
    });
  });

  it('stops a server whose exporter was killed (kill -9) and starts its own', async () => {
    const { owner, url } = await startOwner();
    owner.kill('SIGKILL');
    await owner.done;
    expect(await answers(url)).toBe(true);
    const server = await startEmbeddedPostgres(dataDir);
    pgdata = server.dataDir;
    try {
      expect(await answers(server.url)).toBe(true);
      expect(await answers(url)).toBe(server.url === url);
    } finally {
      await server.stop();
    }
  });

  it('stops a server whose named owner is alive but not its parent (the pid reused), and never signals that process', async () => {
    const account = await serverAccount();
    const { postgres } = await serverBinaries(account);
    if (!pgdata) {
      const first = await startEmbeddedPostgres(dataDir);
      pgdata = first.dataDir;
      await first.stop();
    }
    const bystander = spawn('sleep', ['300'], { stdio: 'ignore' });
    let planted: { stop(): Promise<void> } | undefined;
    try {
      const port = await freePort();
      // Started by this process, naming the bystander as owner: what a killed exporter's server looks like once its pid is reused.
      planted = await startServer({
        postgres,
        args: ['-D', pgdata, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', `dws_exporter.owner_pid=${bystander.pid}`],
        account,
        pgdata,
        port,
        logPath: join(dataDir, 'reused-owner.log'),
        remedy: 'fix what the log says',
      });
      const server = await startEmbeddedPostgres(dataDir);
      await server.stop();
      expect(bystander.exitCode).toBeNull();
      expect(bystander.signalCode).toBeNull();
    } finally {
      await planted?.stop();
      bystander.kill();
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
