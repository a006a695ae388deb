/** `dws-task-exporter migrate`: apply pending migrations and exit. */
import { readEnv } from '../config/env.js';
import { DbError, ExporterError } from '../core/errors.js';
import { ExitCode, type ExitCodeValue } from '../core/exit-codes.js';
import { createLogger } from '../core/logger.js';
import { openDatabase } from '../warehouse/database.js';
import { migrate } from '../warehouse/migrate.js';
import { announceOnStderr, resolveDatabaseTarget } from './database-target.js';

export async function migrateCommand(out: (line: string) => void): Promise<ExitCodeValue> {
  const env = readEnv();
  const logger = createLogger(env.logLevel);
  const target = await resolveDatabaseTarget(env, logger, announceOnStderr);
  try {
    const database = await openDatabase(target.url, { maxConnections: 1 });
    try {
      const client = await database.pool.connect();
      try {
        const result = await migrate(client);
        out(
          result.applied.length > 0
            ? `Applied ${result.applied.length} migration(s): ${result.applied.join(', ')}.`
            : `Schema up to date (${result.alreadyApplied} migration(s) applied earlier).`,
        );
      } catch (error) {
        throw error instanceof ExporterError ? error : new DbError('applying migrations failed', error);
      } finally {
        client.release();
      }
    } finally {
      await database.close();
    }
  } finally {
    await target.release();
  }
  return ExitCode.OK;
}
