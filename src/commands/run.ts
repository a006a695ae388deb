/** `dws-task-exporter run`: the nightly export. */
import { readEnv } from '../config/env.js';
import { loadConfigFile } from '../config/load-config.js';
import { randomUUID } from 'node:crypto';
import { ConfigError } from '../errors.js';
import { EXPORTER_VERSION } from '../package-info.js';
import { SINGLE_SHARD, type ShardSpec } from '../plan/shard.js';
import { exitCodeForError, type ExitCodeValue } from '../report/exit-codes.js';
import { createLogger, logFormatFor, type Logger } from '../report/logger.js';
import {
  publishRunMetrics,
  pushTargetFromEnv,
  readClusterLastSuccess,
  watchApiResponses,
  type ApiResponseCounter,
  type ClusterLastSuccess,
  type PushTarget,
} from '../report/metrics.js';
import { createProgress, progressWanted } from '../report/progress.js';
import { formatRunSummary } from '../report/summary.js';
import {
  summaryFromError,
  summaryFromReport,
  writeSummaryJson,
  type RunSummaryDocument,
  type SummaryContext,
} from '../report/summary-json.js';
import type { ClusterRef } from '../source/dws-client.js';
import { describeCredentials, resolveCredentials } from '../source/auth/resolve-credentials.js';
import { announceOnStderr } from './database-target.js';
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
  const progress = createProgress(process.stderr, progressWanted(process.stderr));
  let logger: Logger | undefined;
  let apiResponses: ApiResponseCounter | undefined;
  let planned: readonly ClusterRef[] | null = null;
  let clusterHealth: ClusterLastSuccess[] = [];
  let pushTarget: PushTarget | null = null;
  let shutdown: Shutdown | undefined;
  const context = (): SummaryContext => ({
    exporterVersion: EXPORTER_VERSION,
    runGroupId,
    shard,
    startedAt,
    finishedAt: new Date(),
    clustersPlanned: planned?.length ?? null,
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
    if (pushTarget && logger) {
      await publishRunMetrics(pushTarget, { summary: document, apiResponses: apiResponses?.byStatus() ?? new Map(), clusters: clusterHealth }, logger);
    }
  };
  try {
    const env = readEnv();
    logger = createLogger(env.logLevel, progress.enabled ? progress.sink : undefined, progress.enabled ? { format: logFormatFor() } : {});
    pushTarget = pushTargetFromEnv(process.env, shard.index);
    if (pushTarget && !/^https?:\/\/[^/]/.test(pushTarget.url)) {
      throw new ConfigError('PUSHGATEWAY_URL must be an http(s) URL such as http://pushgateway:9091', 'env');
    }
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
        clusterHealth = await readClusterLastSuccess(database.pool, planned).catch((error: unknown) => {
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
    await publish(summaryFromError(error, exitCodeForError(error), context()));
    throw error;
  } finally {
    shutdown?.dispose();
  }
}
