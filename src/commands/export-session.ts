/**
 * Everything `run` and `demo` share: database (URL or embedded), schema
 * check/migration, the HTTP client and the export itself. The two commands
 * differ only in where the config, credentials and endpoint come from.
 */
import type { Credentials, ExporterEnv } from '../config/env.js';
import type { ExporterConfig } from '../config/schema.js';
import { runExport, type RunReport } from '../export/run-export.js';
import { insecureEndpoints, planClusters } from '../plan/plan-clusters.js';
import type { Logger } from '../report/logger.js';
import { createAuthorizer } from '../source/auth/authorizer.js';
import { createDwsClient } from '../source/dws-client.js';
import { createHttpClient } from '../source/http-client.js';
import { openDatabase, type Database } from '../warehouse/database.js';
import { prepareSchema } from '../warehouse/migrate.js';
import { resolveDatabaseTarget } from './database-target.js';

export interface ExportSessionInput {
  readonly env: ExporterEnv;
  readonly config: ExporterConfig;
  readonly credentials: Credentials;
  readonly migrate: boolean;
  readonly logger: Logger;
  readonly announce: (line: string) => void;
  /** Aborted on SIGTERM/SIGINT (see shutdown.ts); tests pass their own. */
  readonly signal: AbortSignal;
  /** Called with the open database after the run, before it is closed (the demo prints from it). */
  readonly afterRun?: (database: Database, report: RunReport) => Promise<void>;
}

export async function runExportSession(input: ExportSessionInput): Promise<RunReport> {
  const { env, config, logger } = input;
  for (const endpoint of insecureEndpoints(config)) {
    logger.warn({ endpoint }, 'plain-HTTP endpoint that is not loopback: credentials and data travel unencrypted');
  }
  const target = await resolveDatabaseTarget(env, logger, input.announce);
  try {
    const database = await openDatabase(target.url, { maxConnections: Math.min(config.concurrency, 16) + 2 });
    try {
      await prepareSchema(database, input.migrate, logger);
      const http = createHttpClient({
        connections: config.concurrency,
        timeoutMs: config.http.timeoutMs,
        maxRequestsPerSecond: config.http.maxRequestsPerSecond,
        maxInFlight: config.http.maxInFlight,
        retry: {
          maxRetries: config.http.maxRetries,
          minDelayMs: config.http.retryMinDelayMs,
          maxDelayMs: config.http.retryMaxDelayMs,
        },
      });
      try {
        const dws = createDwsClient(http, createAuthorizer(input.credentials));
        const clusters = await planClusters(config);
        const report = await runExport({
          config,
          clusters,
          client: dws,
          pool: database.pool,
          logger,
          signal: input.signal,
        });
        await input.afterRun?.(database, report);
        return report;
      } finally {
        await http.close();
      }
    } finally {
      await database.close();
    }
  } finally {
    await target.release();
  }
}
