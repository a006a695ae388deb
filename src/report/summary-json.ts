/**
 * The run's result as one document (--summary-json PATH, or stdout with
 * --output json), also when the run could not start (`status: "error"`).
 * Versioned by `schemaVersion`; fields are only ever added. Never contains credentials.
 */
import { constants } from 'node:fs';
import { access, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ConfigError, ExporterError, describeCause } from '../core/errors.js';
import { makeDirectory } from '../core/make-directory.js';
import type { EndpointReport } from '../export/endpoint-report.js';
import type { RunReport } from '../export/run-export.js';
import type { ShardSpec } from '../plan/shard.js';
import { ExitCode, outcomeOf, type ExitCodeValue, type Outcome } from '../core/exit-codes.js';
import type { AbandonedRun, ClusterError, RunTotals } from '../core/run-outcome.js';

export const SUMMARY_SCHEMA_VERSION = 1;

export type SummaryStatus = RunReport['status'] | 'error';

/** One planned cluster in the document. */
export interface SummaryClusterEntry {
  /** Origin of the cluster's endpoint. */
  readonly endpoint: string;
  readonly projectId: string;
  readonly clusterId: string;
  readonly status: string;
  readonly apiCount: number | null;
  readonly tasksFetched: number;
  readonly rowsInserted: number;
  readonly rowsUpdated: number;
  readonly rowsUnchanged: number;
  readonly pages: number;
  readonly requests: number;
  readonly retries: number;
  readonly durationMs: number;
  readonly offsetMode: string | null;
  readonly stopReason: string | null;
  readonly error: ClusterError | null;
}

export interface RunSummaryDocument {
  readonly schemaVersion: typeof SUMMARY_SCHEMA_VERSION;
  readonly exporterVersion: string;
  /** null when the run failed before opening the ledger. */
  readonly runId: number | null;
  readonly runGroupId: string;
  readonly shard: { readonly index: number; readonly count: number };
  readonly status: SummaryStatus;
  readonly exitCode: number;
  readonly outcome: Outcome;
  /** Whether running again soon may help (see `retryableExitCode`). */
  readonly retryable: boolean;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly durationMs: number;
  /** clustersPlanned = ok + incomplete + failed + interrupted + not started. */
  readonly totals: RunTotals | null;
  /** Every planned cluster, those an interruption kept from starting too. */
  readonly clusters: readonly SummaryClusterEntry[];
  /** Every endpoint of the run's clusters; `unreachable` when the run stopped calling it. */
  readonly endpoints: readonly EndpointReport[];
  /** Runs left running by dead processes that this run closed as abandoned. */
  readonly abandonedRuns: readonly AbandonedRun[];
  /** Why the run as a whole failed (status "error"); null otherwise. */
  readonly error: Pick<ClusterError, 'code' | 'message'> | null;
}

export interface SummaryContext {
  readonly exporterVersion: string;
  readonly runGroupId: string;
  readonly shard: ShardSpec;
  readonly startedAt: Date;
  readonly finishedAt: Date;
}

/**
 * Whether a rerun soon may help: partial and failed runs (API trouble),
 * database trouble, interruptions, internal errors. Not config/usage errors
 * (fix the deployment) and not auth errors (the API gateway locks an access
 * key after repeated failures: never retry those in a loop).
 */
export function retryableExitCode(exitCode: number): boolean {
  return exitCode !== ExitCode.OK && exitCode !== ExitCode.USAGE_OR_CONFIG && exitCode !== ExitCode.AUTH;
}

export function summaryFromReport(report: RunReport, context: SummaryContext): RunSummaryDocument {
  return {
    ...header(context, report.exitCode),
    runId: report.runId,
    status: report.status,
    durationMs: Math.round(report.durationMs),
    totals: report.totals,
    clusters: report.clusters.map((c) => ({
      endpoint: c.endpoint,
      projectId: c.projectId,
      clusterId: c.clusterId,
      status: c.status,
      apiCount: c.apiCount,
      tasksFetched: c.tasksFetched,
      rowsInserted: c.rows.inserted,
      rowsUpdated: c.rows.updated,
      rowsUnchanged: c.rows.unchanged,
      pages: c.pages,
      requests: c.requests,
      retries: c.retries,
      durationMs: Math.round(c.durationMs),
      offsetMode: c.offsetMode,
      stopReason: c.stopReason,
      error: c.error,
    })),
    endpoints: report.endpoints,
    abandonedRuns: report.abandonedRuns,
    error: null,
  };
}

/** For a run that ended in an exception (the CLI prints it and exits with `exitCode`). */
export function summaryFromError(error: unknown, exitCode: ExitCodeValue, context: SummaryContext): RunSummaryDocument {
  return {
    ...header(context, exitCode),
    runId: null,
    status: 'error',
    durationMs: Math.max(0, context.finishedAt.getTime() - context.startedAt.getTime()),
    totals: null,
    clusters: [],
    endpoints: [],
    abandonedRuns: [],
    error:
      error instanceof ExporterError
        ? { code: error.code, message: error.message }
        : { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) },
  };
}

function header(context: SummaryContext, exitCode: number) {
  return {
    schemaVersion: SUMMARY_SCHEMA_VERSION,
    exporterVersion: context.exporterVersion,
    runGroupId: context.runGroupId,
    shard: { index: context.shard.index, count: context.shard.count },
    exitCode,
    outcome: outcomeOf(exitCode),
    retryable: retryableExitCode(exitCode),
    startedAt: context.startedAt.toISOString(),
    finishedAt: context.finishedAt.toISOString(),
  } as const;
}

/**
 * Before any work: the document's directory can be made and written, so a
 * wrapper waiting for the file does not find none after a good run.
 */
export async function checkSummaryJsonPath(path: string): Promise<void> {
  try {
    await makeDirectory(dirname(path));
    await access(dirname(path), constants.W_OK);
    if ((await stat(path).catch(() => null))?.isDirectory()) throw new Error(`${path} is a directory: give a file name`);
  } catch (error) {
    throw new ConfigError(`cannot write the summary there: ${describeCause(error)}`, `--summary-json ${path}`);
  }
}

/** Writes the document atomically (temporary file, then rename), creating the directory if needed. */
export async function writeSummaryJson(path: string, document: RunSummaryDocument): Promise<void> {
  await makeDirectory(dirname(path));
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(temporary, `${JSON.stringify(document, null, 2)}\n`, { mode: 0o644 });
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined);
    throw error;
  }
}
