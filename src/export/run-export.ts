/**
 * One export run: open the ledger, fan out over the planned clusters with
 * bounded concurrency, close the ledger. A cluster's failure stays that
 * cluster's; only a failure of the ledger itself (database) ends the run.
 */
import pLimit from 'p-limit';
import type pg from 'pg';
import type { ExporterConfig } from '../config/schema.js';
import { DbError } from '../errors.js';
import { planClusters } from '../plan/plan-clusters.js';
import { exitCodeForRun, type ExitCodeValue } from '../report/exit-codes.js';
import type { Logger } from '../report/logger.js';
import type { DwsClient } from '../source/dws-client.js';
import type { OffsetModeCache } from '../source/paginate.js';
import { finishRun, startRun, type RunStatus, type RunTotals } from '../warehouse/ledger.js';
import { exportCluster, type ClusterResult } from './export-cluster.js';

export interface RunExportInput {
  readonly config: ExporterConfig;
  readonly client: DwsClient;
  readonly pool: pg.Pool;
  readonly logger: Logger;
}

export interface RunReport {
  readonly runId: number;
  readonly status: Exclude<RunStatus, 'running'>;
  readonly totals: RunTotals;
  readonly clusters: readonly ClusterResult[];
  readonly durationMs: number;
  readonly exitCode: ExitCodeValue;
}

export async function runExport(input: RunExportInput): Promise<RunReport> {
  const { config, client, pool, logger } = input;
  const started = performance.now();
  const clusters = planClusters(config);
  let runId: number;
  try {
    runId = await startRun(pool, config.sourceTimeZone, clusters.length);
  } catch (error) {
    throw new DbError('cannot open the run ledger (dws.export_runs)', error);
  }
  logger.info({ runId, clusters: clusters.length, concurrency: config.concurrency }, 'run started');

  const modeCache: OffsetModeCache = new Map();
  const context = {
    client,
    pool,
    runId,
    modeCache,
    logger,
    batchSize: config.batchSize,
    sourceTimeZone: config.sourceTimeZone,
    walk: {
      pageSize: config.pageSize,
      offsetMode: config.offsetMode,
      orderBy: config.orderBy,
      logicalClusterName: config.filters.logicalClusterName,
      type: config.filters.type,
    },
  };
  const limit = pLimit(config.concurrency);
  const results = await Promise.all(
    clusters.map((cluster) =>
      limit(async () => {
        const result = await exportCluster(context, cluster);
        logClusterResult(logger, runId, result);
        return result;
      }),
    ),
  );

  const ledgerBroken = results.find((r) => r.ledgerError !== null);
  const status = runStatus(results);
  let totals: RunTotals;
  try {
    totals = await finishRun(pool, runId, status, null);
  } catch (error) {
    throw new DbError(`cannot close run ${runId} in the ledger`, error);
  }
  if (ledgerBroken) {
    throw new DbError(`the ledger of run ${runId} is incomplete`, new Error(ledgerBroken.ledgerError ?? ''));
  }
  const failed = results.filter((r) => r.status === 'failed');
  const allAuth = failed.length > 0 && failed.every((r) => r.error?.code === 'DWS_AUTH_FAILED');
  const report: RunReport = {
    runId,
    status,
    totals,
    clusters: results,
    durationMs: performance.now() - started,
    exitCode: exitCodeForRun(status, allAuth),
  };
  logger.info({ runId, status, ...totals, durationMs: Math.round(report.durationMs) }, 'run finished');
  return report;
}

function runStatus(results: readonly ClusterResult[]): Exclude<RunStatus, 'running'> {
  if (results.every((r) => r.status === 'succeeded')) return 'succeeded';
  if (results.every((r) => r.status === 'failed')) return 'failed';
  return 'partial';
}

function logClusterResult(logger: Logger, runId: number, result: ClusterResult): void {
  const fields = {
    runId,
    projectId: result.projectId,
    clusterId: result.clusterId,
    status: result.status,
    apiCount: result.apiCount,
    fetched: result.tasksFetched,
    ...result.rows,
    pages: result.pages,
    requests: result.requests,
    retries: result.retries,
    durationMs: Math.round(result.durationMs),
    ...(result.error ? { error: result.error } : {}),
  };
  if (result.status === 'succeeded') logger.info(fields, 'cluster exported');
  else if (result.status === 'incomplete') logger.warn(fields, 'cluster exported incompletely');
  else logger.error(fields, 'cluster failed');
}
