/**
 * Which PostgreSQL a command writes to: DATABASE_URL when set, else the
 * embedded server in the data directory (started here, stopped by `release`).
 */
import type { ExporterEnv } from '../config/env.js';
import type { Logger } from '../core/logger.js';
import { redactUrl } from '../warehouse/database.js';
import { startEmbeddedPostgres } from '../warehouse/embedded-postgres.js';

export interface DatabaseTarget {
  readonly url: string;
  readonly embedded: boolean;
  release(): Promise<void>;
}

export async function resolveDatabaseTarget(
  env: ExporterEnv,
  logger: Logger,
  announce: (line: string) => void,
): Promise<DatabaseTarget> {
  if (env.databaseUrl) {
    logger.debug({ database: redactUrl(env.databaseUrl) }, 'using DATABASE_URL');
    return { url: env.databaseUrl, embedded: false, release: async () => undefined };
  }
  logger.info({ dataDir: env.dataDir }, 'DATABASE_URL is not set: starting the embedded PostgreSQL');
  const server = await startEmbeddedPostgres(env.dataDir);
  // The password is generated for this local, loopback-only instance and
  // kept in the data directory; the URL is printed so the user can connect.
  announce(`Embedded PostgreSQL (data in ${server.dataDir}) is reachable while this runs at:\n  ${server.url}`);
  return { url: server.url, embedded: true, release: () => server.stop() };
}
