/** `dws-task-exporter run`: the nightly export. */
import { readEnv } from '../config/env.js';
import { loadConfigFile } from '../config/load-config.js';
import { randomUUID } from 'node:crypto';
import { ConfigError, describeCause } from '../core/errors.js';
import { EXPORTER_VERSION } from '../core/package-info.js';
import { SINGLE_SHARD, type ShardSpec } from '../plan/shard.js';
import { exitCodeForError, type ExitCodeValue } from '../core/exit-codes.js';
import { createLogger, logFormatFor, type Logger } from '../core/logger.js';
import { watchApiResponses, type ApiResponseCounter } from '../report/api-traffic.js';
import { pushTargetFromEnv, type PushTarget } from '../report/push-target.js';
import type { publishRunMetrics } from '../report/pushgateway.js';
import { readClusterHealth, type ClusterHealth } from '../warehouse/export-health.js';
import { createProgress, progressWanted } from '../report/progress.js';
import { formatRunSummary } from '../report/summary.js';
import {
  summaryFromError,
  summaryFromReport,
  checkSummaryJsonPath,
  writeSummaryJson,
  type RunSummaryDocument,
  type SummaryContext,
} from '../report/summary-json.js';
import type { ClusterRef } from '../plan/cluster-ref.js';
import { describeCredentials, resolveCredentials } from '../source/auth/resolve-credentials.js';
import { announceOnStderr } from './database-target.js';
import { RunLedgerError } from '../export/run-export.js';
import { runExportSession } from './export-session.js';
import { installShutdown, type Shutdown } from './shutdown.js';

export interface RunCommandOptions {
  readonly configPath: string | undefined;
  readonly migrate: boolean;
  /** This process's shard (--shard-index/--shard-count); default: the whole fleet. */
  readonly shard?: ShardSpec;
  /** export_runs.run_group_id; default: a fresh UUID. */
  readonly runGroupId?: string;
  /** --summary-json PATH: the run's result as a JSON document (summary-json.ts). */
  readonly summaryJsonPath?: string;
  /** --output json: that document on stdout instead of the text summary. */
  readonly output?: 'text' | 'json';
}

export async function runCommand(options: RunCommandOptions, out: (line: string) => void): Promise<ExitCodeValue> {
  const startedAt = new Date();
  const shard = options.shard ?? SINGLE_SHARD;
  const runGroupId = options.runGroupId ?? randomUUID();
  const json = options.output === 'json';
  // Replaced inside the try, where a bad DWS_EXPORTER_PROGRESS is reported like any config error.
  let progress = createProgress(process.stderr, false);
  let logger: Logger | undefined;
  let apiResponses: ApiResponseCounter | undefined;
  let planned: readonly ClusterRef[] | null = null;
  let clusterHealth: ClusterHealth[] = [];
  let pushTarget: PushTarget | null = null;
  let push: typeof publishRunMetrics | undefined;
  let shutdown: Shutdown | undefined;
  const context = (): SummaryContext => ({
    exporterVersion: EXPORTER_VERSION,
    runGroupId,
    shard,
    startedAt,
    finishedAt: new Date(),
  });
  const publish = async (document: RunSummaryDocument): Promise<void> => {
    progress.stop();
    apiResponses?.stop();
    if (options.summaryJsonPath !== undefined) {
      await writeSummaryJson(options.summaryJsonPath, document).catch((error: unknown) => {
        logger?.error({ path: options.summaryJsonPath, err: String(error) }, 'could not write the summary JSON');
      });
    }
    if (json) out(JSON.stringify(document));
    if (pushTarget && push && logger) {
      await push(pushTarget, { summary: document, apiResponses: apiResponses?.byStatus() ?? new Map(), clusters: clusterHealth }, logger);
    }
  };
  try {
    // Checked before any work; a bad value is never pushed to.
    const target = pushTargetFromEnv(process.env, shard.index);
    // prom-client only for a push, loaded before any work: a broken install fails here, not after the export.
    push = target ? await loadPush() : undefined;
    const env = readEnv();
    if (options.summaryJsonPath !== undefined) await checkSummaryJsonPath(options.summaryJsonPath);
    progress = createProgress(process.stderr, progressWanted(process.stderr));
    logger = createLogger(env.logLevel, progress.enabled ? progress.sink : undefined, progress.enabled ? { format: logFormatFor() } : {});
    pushTarget = target;
    const configPath = options.configPath ?? env.configPath;
    if (!configPath) {
      throw new ConfigError('no config file: pass --config FILE or set DWS_EXPORTER_CONFIG', 'command line');
    }
    const config = await loadConfigFile(configPath);
    const credentials = await resolveCredentials(env, config);
    logger.info({ credentialSource: describeCredentials(credentials) }, 'API credentials');
    shutdown = installShutdown(config.shutdownGraceMs, logger);
    const counter = watchApiResponses(config.projects.map((project) => project.endpoint));
    apiResponses = counter;
    const log = logger;
    const report = await runExportSession({
      env,
      config,
      credentials,
      migrate: options.migrate,
      logger,
      announce: announceOnStderr,
      signal: shutdown.signal,
      shard,
      runGroupId,
      onPlanned: (clusters) => {
        planned = clusters;
        progress.start(clusters.length, () => counter.requests());
      },
      onClusterDone: (result) => progress.clusterDone(result),
      afterRun: async (database) => {
        if (!pushTarget || !planned) return;
        clusterHealth = await readClusterHealth(database.pool, planned).catch((error: unknown) => {
          log.warn({ err: String(error) }, 'could not read dws.v_export_health for the metrics');
          return [];
        });
      },
    });
    progress.stop();
    if (!json) out(formatRunSummary(report));
    await publish(summaryFromReport(report, context()));
    return report.exitCode;
  } catch (error) {
    await publish(errorSummary(error, context()));
    throw error;
  } finally {
    shutdown?.dispose();
  }
}

/** The Pushgateway client (prom-client); a broken install is named before any work, not reported as a bug. */
async function loadPush(): Promise<typeof publishRunMetrics> {
  try {
    return (await import('../report/pushgateway.js')).publishRunMetrics;
  } catch (error) {
    throw new ConfigError(
      `is set, but the metrics push module (prom-client) cannot be loaded (${describeCause(error)}): reinstall dws-task-exporter, or unset PUSHGATEWAY_URL`,
      'PUSHGATEWAY_URL',
    );
  }
}

/** A run that ended in an exception; one whose ledger failed after it was opened still names the run and its totals. */
function errorSummary(error: unknown, context: SummaryContext): RunSummaryDocument {
  const document = summaryFromError(error, exitCodeForError(error), context);
  return error instanceof RunLedgerError ? { ...document, runId: error.runId, totals: error.totals } : document;
}
