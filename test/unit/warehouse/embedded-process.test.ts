/**
 * startServer (src/warehouse/embedded-process.ts) with a server that exits at
 * once: its exit is reported whenever it happens, even before the start has
 * finished its own setup (it was missed, and the start waited its full
 * ready timeout, when the exit came while the log file was being closed).
 */
import { pbkdf2 } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { EmbeddedPostgresError } from '../../../src/core/errors.js';
import { startServer } from '../../../src/warehouse/embedded-process.js';

const slowHash = promisify(pbkdf2);

describe('startServer', () => {
  // A missed exit would wait out the 120 s ready timeout ("not ready"), past this test's own timeout.
  it('reports a server that exits while the start is still closing its log file, as the exit it is', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dws-exporter-start-'));
    // The libuv pool kept busy with a queue of hashes: closing the log file waits its turn, and the child exits meanwhile.
    let stop = false;
    const keepBusy = async (): Promise<void> => {
      while (!stop) await slowHash('x', 'y', 20_000, 32, 'sha256');
    };
    const busy = Array.from({ length: 16 }, keepBusy);
    const failure = await startServer({
      postgres: '/bin/false',
      args: [],
      account: undefined,
      pgdata: join(dir, 'pgdata'),
      port: 1,
      logPath: join(dir, 'server.log'),
      remedy: 'fix what the log says',
    })
      .then(
        () => null,
        (error: unknown) => error,
      )
      .finally(async () => {
        stop = true;
        await Promise.all(busy);
        await rm(dir, { recursive: true, force: true });
      });
    expect(failure).toBeInstanceOf(EmbeddedPostgresError);
    expect(failure instanceof Error ? failure.message : '').toContain('it exited with code 1');
  }, 60_000);
});
