/**
 * The embedded PostgreSQL after an interruption (fresh-clone review): a
 * signal during its start stops what the exporter started before it exits;
 * a start that finds its data directory still held waits for the holder or
 * names it; a stale lock never costs an unrelated process a signal; a
 * dangling relocation link is named with the way out.
 */
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedPostgresError } from '../../src/core/errors.js';
import { startEmbeddedPostgres } from '../../src/warehouse/embedded-postgres.js';

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
