/**
 * One export run: close runs left behind by dead processes, open the ledger,
 * fan out over the planned clusters with bounded concurrency, close the
 * ledger. A cluster's failure stays that cluster's; only a failure of the
 * ledger itself (database) ends the run. On shutdown no new cluster starts.
 */
import pLimit from 'p-limit';
import type pg from 'pg';
import type { ExporterConfig } from '../config/schema.js';
import { DbError } from '../core/errors.js';
import { exitCodeForRun, type ExitCodeValue } from '../core/exit-codes.js';
import type { AbandonedRun, FinishedRunStatus, RunTotals } from '../core/run-outcome.js';
import type { Logger } from '../core/logger.js';
import type { ClusterRef } from '../plan/cluster-ref.js';
import type { DwsClient } from '../source/dws-client.js';
import type { OffsetModeCache } from '../source/paginate.js';
import { withDbRetry, type DbRetryPolicy } from '../warehouse/db-retry.js';
import { finishRun, startRun, totalAbandonedRuns, type RunGroup } from '../warehouse/ledger.js';
import { markAbandonedRuns, startLockedRun, type RunLock } from '../warehouse/run-lock.js';
import { ClusterLedger } from '../warehouse/cluster-ledger.js';
import { TaskWriter } from '../warehouse/task-writer.js';
import { clusterLineLogger, logClusterResult } from './cluster-log-line.js';
import { endpointReports, type EndpointReport } from './endpoint-report.js';
import { exportCluster, type ClusterReport } from './export-cluster.js';
import { openAhead } from './open-ahead.js';

export interface RunExportInput {
  readonly config: ExporterConfig;
  /** The plan: which clusters, in which order (src/plan). */
  readonly clusters: readonly ClusterRef[];
  readonly client: DwsClient;
  readonly pool: pg.Pool;
  readonly logger: Logger;
  /** Aborted (with the signal name as reason) on SIGTERM/SIGINT. */
  readonly signal: AbortSignal;
  /** Recorded on the run row: the shards of one scheduled export share the group id. */
  readonly runGroup?: RunGroup;
  /** Called as each cluster finishes (progress bar). */
  readonly onClusterDone?: (result: ClusterReport) => void;
}

export interface RunReport {
  readonly runId: number;
  readonly status: FinishedRunStatus;
  readonly totals: RunTotals;
  /** Every planned cluster, in plan order (also those never started). */
  readonly clusters: readonly ClusterReport[];
  /** Every endpoint the run's clusters are on. */
  readonly endpoints: readonly EndpointReport[];
  /** Runs left `running` by dead processes that this run closed as abandoned. */
  readonly abandonedRuns: readonly AbandonedRun[];
  readonly durationMs: number;
  readonly exitCode: ExitCodeValue;
}

/**
 * The ledger failed after the run was opened: still DB_ERROR, but it names
 * the run and, once the run row was closed, its totals (the summary and the
 * metrics then agree with dws.export_runs).
 */
export class RunLedgerError extends DbError {
  constructor(
    what: string,
    cause: unknown,
    readonly runId: number,
    readonly totals: RunTotals | null,
  ) {
    super(what, cause);
  }
}

export async function runExport(input: RunExportInput): Promise<RunReport> {
  const { config, client, pool, logger, clusters, signal } = input;
  const started = performance.now();
  const dbRetry: DbRetryPolicy = { attempts: config.database.reconnectAttempts, delayMs: config.database.reconnectDelayMs };
  let runId: number;
  let lock: RunLock;
  let abandonedRuns: AbandonedRun[];
  try {
    // Two steps, each retried alone: a retried close would find nothing left to total.
    const abandonedIds = await withDbRetry(dbRetry, () => markAbandonedRuns(pool));
    abandonedRuns = await withDbRetry(dbRetry, () => totalAbandonedRuns(pool, abandonedIds));
    for (const abandoned of abandonedRuns) {
      logger.warn({ ...abandoned }, `closed run ${abandoned.runId} as abandoned: its exporter process died`);
    }
    ({ runId, lock } = await startLockedRun(pool, dbRetry.delayMs, (session) =>
      startRun(session, config.sourceTimeZone, clusters.length, input.runGroup ?? null),
    ));
  } catch (error) {
    throw new DbError('cannot open the run ledger (dws.export_runs) with its run lock', error);
  }
  logger.info(
    {
      runId,
      clusters: clusters.length,
      concurrency: config.concurrency,
      ...(input.runGroup ? { runGroup: input.runGroup.id, shard: `${input.runGroup.shardIndex}/${input.runGroup.shardCount}` } : {}),
    },
    'run started',
  );

  const writer = new TaskWriter({
    pool,
    retry: dbRetry,
    runId,
    batchRows: config.batchSize,
    writers: config.writers,
    maxDelayMs: config.batchMaxDelayMs,
    method: config.loader,
    logger,
  });
  let unwalked = clusters.length;
  try {
    const context = {
      client,
      pool,
      dbRetry,
      runId,
      signal,
      logger,
      writer,
      ledger: new ClusterLedger(pool, runId),
      fetchSlots: pLimit(config.concurrency),
      openAhead: openAhead(config.concurrency),
      // After the last walk no page is coming: the last rows need not wait batchMaxDelayMs.
      walked: () => {
        if (--unwalked === 0) writer.lastRowsQueued();
      },
      modeCache: new Map() as OffsetModeCache,
      sourceTimeZone: config.sourceTimeZone,
      walk: {
        pageSize: config.pageSize,
        offsetMode: config.offsetMode,
        orderBy: config.orderBy,
        logicalClusterName: config.filters.logicalClusterName,
        type: config.filters.type,
        pageConcurrency: config.pageConcurrency,
      },
    };
    const clusterLog = clusterLineLogger(logger);
    const results = await Promise.all(
      clusters.map(async (cluster) => {
        const result = await exportCluster(context, cluster);
        logClusterResult(clusterLog, runId, result);
        input.onClusterDone?.(result);
        return result;
      }),
    );
    await writer.drain();
    const status: FinishedRunStatus = signal.aborted ? 'interrupted' : runStatus(results);
    let totals: RunTotals;
    try {
      totals = await withDbRetry(dbRetry, () => finishRun(pool, runId, status, null));
    } catch (error) {
      throw new RunLedgerError(`cannot close run ${runId} in the ledger`, error, runId, null);
    }
    const ledgerBroken = results.find((r) => r.ledgerError !== null);
    if (ledgerBroken) {
      throw new RunLedgerError(`the ledger of run ${runId} is incomplete`, new Error(ledgerBroken.ledgerError ?? ''), runId, totals);
    }
    const endpoints = endpointReports(results, (endpoint) => client.endpoints.lastError(endpoint));
    for (const endpoint of endpoints.filter((e) => e.unreachable)) {
      logger.error(
        { runId, endpoint: endpoint.endpoint, clustersNotExported: endpoint.clustersNotExported, lastError: endpoint.lastError },
        `endpoint ${endpoint.endpoint} unreachable: ${endpoint.clustersNotExported} clusters not exported`,
      );
    }
    const report: RunReport = {
      runId,
      status,
      totals,
      clusters: results,
      endpoints,
      abandonedRuns,
      durationMs: performance.now() - started,
      exitCode: exitCodeForRun(
        status,
        results.filter((r) => r.status === 'failed').map((r) => r.error?.code ?? 'INTERNAL'),
        signal.aborted ? String(signal.reason) : null,
      ),
    };
    logger.info({ runId, status, ...totals, durationMs: Math.round(report.durationMs) }, 'run finished');
    return report;
  } finally {
    await lock.release();
  }
}

function runStatus(results: readonly ClusterReport[]): FinishedRunStatus {
  if (results.every((r) => r.status === 'succeeded')) return 'succeeded';
  if (results.every((r) => r.status === 'failed')) return 'failed';
  return 'partial';
}
