/**
 * Everything `run` and `demo` share: database (URL or embedded), schema
 * check/migration, the HTTP client and the export itself. The two commands
 * differ only in where the config, credentials and endpoint come from.
 */
import type { Credentials, ExporterEnv } from '../config/env.js';
import type { ExporterConfig } from '../config/schema.js';
import { runExport, type RunExportInput, type RunReport } from '../export/run-export.js';
import { insecureEndpoints, planClusters } from '../plan/plan-clusters.js';
import { nothingToExport } from '../plan/nothing-to-export.js';
import { SINGLE_SHARD, selectShard, type ShardSpec } from '../plan/shard.js';
import type { Logger } from '../core/logger.js';
import { createAuthorizer } from '../source/auth/authorizer.js';
import type { ClusterRef } from '../plan/cluster-ref.js';
import { describeProxy } from '../source/dispatcher.js';
import { createDwsClient } from '../source/dws-client.js';
import { EndpointBreaker } from '../source/endpoint-breaker.js';
import { createHttpClient, httpClientOptions } from '../source/http-client.js';
import { lastListedClusters, recordClusters } from '../warehouse/clusters.js';
import { openDatabase, type Database } from '../warehouse/database.js';
import { prepareSchema } from '../warehouse/migrate.js';
import { resolveDatabaseTarget, type DatabaseTarget } from './database-target.js';

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
  /** Export only this shard's clusters (src/plan/shard.ts); default: all. */
  readonly shard?: ShardSpec;
  /** Recorded on the run row (export_runs.run_group_id); the shards of one scheduled export share it. */
  readonly runGroupId?: string;
  /** Called with this shard's clusters once they are planned. */
  readonly onPlanned?: (clusters: readonly ClusterRef[]) => void;
  readonly onClusterDone?: RunExportInput['onClusterDone'];
  /** A database the command chose and releases itself (the demo's outlives the session); default: from env. */
  readonly target?: DatabaseTarget;
}

export async function runExportSession(input: ExportSessionInput): Promise<RunReport> {
  const { env, config, logger } = input;
  for (const endpoint of insecureEndpoints(config)) {
    logger.warn({ endpoint }, 'plain-HTTP endpoint that is not loopback: credentials and data travel unencrypted');
  }
  const target = input.target ?? (await resolveDatabaseTarget(env, logger, input.announce));
  try {
    // Ledger writes (one per cluster start and end, up to `concurrency` at once), the run lock, and the writers.
    const database = await openDatabase(target.url, { maxConnections: Math.min(config.concurrency, 16) + 1 + config.writers });
    try {
      await prepareSchema(database, input.migrate, logger);
      logProxy(logger, env);
      const http = createHttpClient(httpClientOptions(config, env.proxy));
      const authorizer = createAuthorizer(input.credentials, { onWarning: (message) => logger.warn(message), proxy: env.proxy });
      try {
        const dws = createDwsClient(http, authorizer, { endpoints: new EndpointBreaker({ logger }) });
        const plan = await planClusters(config, {
          client: dws,
          logger,
          signal: input.signal,
          lastKnownClusters: (projectId) => lastListedClusters(database.pool, projectId),
        });
        const empty = input.signal.aborted ? null : nothingToExport(plan, 'config');
        if (empty) throw empty;
        const { clusters, inventory } = plan;
        const shard = input.shard ?? SINGLE_SHARD;
        // Each shard records (and exports) only its own clusters: shards never write the same rows.
        await recordClusters(database.pool, selectShard(inventory, shard));
        const mine = selectShard(clusters, shard);
        if (shard.count > 1) {
          logger.info({ shard: `${shard.index}/${shard.count}`, clusters: mine.length, planned: clusters.length }, 'shard selected');
        }
        input.onPlanned?.(mine);
        const report = await runExport({
          config,
          clusters: mine,
          client: dws,
          pool: database.pool,
          logger,
          signal: input.signal,
          ...(input.runGroupId !== undefined
            ? { runGroup: { id: input.runGroupId, shardIndex: shard.index, shardCount: shard.count } }
            : {}),
          ...(input.onClusterDone ? { onClusterDone: input.onClusterDone } : {}),
        });
        await input.afterRun?.(database, report);
        return report;
      } finally {
        await http.close();
        await authorizer.close();
      }
    } finally {
      await database.close();
    }
  } finally {
    if (!input.target) await target.release();
  }
}

/** Once per run: the proxy in use (credentials masked), so a 407 or a tunnel refusal is easy to place. */
export function logProxy(logger: Logger, env: ExporterEnv): void {
  const proxy = describeProxy(env.proxy);
  if (proxy) logger.info({ proxy }, 'DWS API and IAM requests go through an HTTP proxy (the metadata service never does)');
}
