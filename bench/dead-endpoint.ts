/**
 * The recorded run for "a dead endpoint must not hold the night hostage":
 * the real CLI with default settings (only endpoints, projects and clusters
 * set) exports 20 healthy clusters from the simulator next to 60 clusters
 * on a dead endpoint, and the wall time from spawn to exit is printed.
 *
 *   node --import tsx bench/dead-endpoint.ts [refused|dns]   # default: refused
 *
 * Needs PostgreSQL at BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres),
 * as a role that may CREATE DATABASE; the database it creates is dropped at the end.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { SimFleet, startSimulator } from '../src/simulator/index.js';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const TOKEN = 'bench-iam-token';
const kind = process.argv[2] ?? 'refused';
if (kind !== 'refused' && kind !== 'dns') throw new Error('usage: bench/dead-endpoint.ts [refused|dns]');

async function refusingPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

const admin = new pg.Pool({ connectionString: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', max: 1 });
const database = `bench_dead_endpoint_${process.pid}`;
const databaseUrl = new URL(process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
databaseUrl.pathname = `/${database}`;
const fleet = SimFleet.generate({ seed: 97, projects: 1, clustersPerProject: 20, minTasks: 50, maxTasks: 500 });
const simulator = await startSimulator({ fleet, auth: { token: TOKEN } });
const dir = await mkdtemp(join(tmpdir(), 'dws-dead-endpoint-'));
await admin.query(`CREATE DATABASE ${database}`);
try {
  const dead = kind === 'dns' ? 'https://dws.cn-nowhere-1.invalid' : `http://127.0.0.1:${await refusingPort()}`;
  const config = {
    projects: [
      // Ids the config accepts: 32 hex characters, UUIDs.
      { projectId: 'dead'.repeat(8), endpoint: dead, clusters: Array.from({ length: 60 }, (_, i) => `dead0000-0000-4000-8000-${String(i).padStart(12, '0')}`) },
      ...fleet.projectIds().map((projectId) => ({ projectId, endpoint: simulator.url, clusters: fleet.clustersOf(projectId).map((c) => c.id) })),
    ],
  };
  const configPath = join(dir, 'config.json');
  await writeFile(configPath, JSON.stringify(config, null, 2));
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'run', '--config', configPath], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, DATABASE_URL: databaseUrl.toString(), DWS_AUTH_TOKEN: TOKEN, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  const wallSeconds = (performance.now() - started) / 1000;
  process.stdout.write(`${stdout}\n--- log lines at warn or above: ${stderr.split('\n').filter(Boolean).length}\n${stderr}\n`);
  process.stdout.write(`dead endpoint ${dead} (${kind}): exit code ${code}, wall time ${wallSeconds.toFixed(1)} s (spawn to exit)\n`);
  const pool = new pg.Pool({ connectionString: databaseUrl.toString(), max: 1 });
  try {
    const ledger = await pool.query<{ status: string; error_code: string | null; n: number }>(
      'SELECT status, error_code, count(*)::int AS n FROM dws.export_cluster_runs GROUP BY 1, 2 ORDER BY 1, 2',
    );
    process.stdout.write(`ledger: ${JSON.stringify(ledger.rows)}\n`);
  } finally {
    await pool.end();
  }
} finally {
  await simulator.close();
  await rm(dir, { recursive: true, force: true });
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin.end();
}
