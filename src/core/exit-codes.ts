/**
 * Exit codes, in one place, for schedulers to act on (Airflow retries,
 * Kubernetes backoffLimit, alerting). Documented in the README.
 */
import { ExporterError, type ErrorCode } from './errors.js';
import type { RunStatus } from './run-outcome.js';

export const ExitCode = {
  /** Every cluster exported completely. */
  OK: 0,
  /** Unexpected internal error (a bug): see the log. */
  INTERNAL: 1,
  /** Invalid command line, config file or environment. Retrying will not help. */
  USAGE_OR_CONFIG: 2,
  /** Some clusters exported, others failed or came back incomplete. */
  PARTIAL: 3,
  /** Nothing exported: every cluster failed (API errors, network). */
  FAILED: 4,
  /** The database could not be reached, refused a statement, or is not migrated. */
  DATABASE: 5,
  /** The API refused the credentials (401/403) for every cluster tried. */
  AUTH: 6,
  /** Stopped by SIGINT (128 + 2): the ledger says `interrupted`. */
  INTERRUPTED_SIGINT: 130,
  /** Stopped by SIGTERM (128 + 15), e.g. a pod eviction: the ledger says `interrupted`. */
  INTERRUPTED_SIGTERM: 143,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** A few words per exit code, for --help and metric descriptions. */
export const EXIT_CODE_MEANINGS: Readonly<Record<ExitCodeValue, string>> = {
  [ExitCode.OK]: 'ok',
  [ExitCode.INTERNAL]: 'internal error',
  [ExitCode.USAGE_OR_CONFIG]: 'usage/config',
  [ExitCode.PARTIAL]: 'partial',
  [ExitCode.FAILED]: 'failed',
  [ExitCode.DATABASE]: 'database',
  [ExitCode.AUTH]: 'auth',
  [ExitCode.INTERRUPTED_SIGINT]: 'interrupted (SIGINT)',
  [ExitCode.INTERRUPTED_SIGTERM]: 'interrupted (SIGTERM)',
};

export function exitCodeForError(error: unknown): ExitCodeValue {
  return error instanceof ExporterError ? exitCodeForCode(error.code) : ExitCode.INTERNAL;
}

/** The exit code an error code stands for (ledger rows carry codes, not error objects). */
export function exitCodeForCode(code: ErrorCode): ExitCodeValue {
  switch (code) {
    case 'USAGE':
    case 'CONFIG_INVALID':
      return ExitCode.USAGE_OR_CONFIG;
    case 'DB_UNAVAILABLE':
    case 'DB_ERROR':
    case 'SCHEMA_NOT_MIGRATED':
    case 'MIGRATION_FAILED':
    case 'EMBEDDED_PG_FAILED':
      return ExitCode.DATABASE;
    case 'DWS_AUTH_FAILED':
      return ExitCode.AUTH;
    case 'DWS_API_ERROR':
    case 'DWS_NETWORK_ERROR':
    case 'DWS_ENDPOINT_UNREACHABLE':
    case 'DWS_PAYLOAD_INVALID':
      return ExitCode.FAILED;
    // INTERRUPTED, NOT_STARTED and ABANDONED never decide an exit code: an
    // interrupted run exits 130/143, and an abandoned one was closed by a later run.
    case 'INTERNAL':
    case 'INTERRUPTED':
    case 'NOT_STARTED':
    case 'ABANDONED':
      return ExitCode.INTERNAL;
  }
}

/**
 * A run that exported nothing exits with the most specific cause: when every
 * failure has the same class (all auth, all database) that class's code,
 * otherwise FAILED.
 */
export function exitCodeForRun(
  status: RunStatus,
  failureCodes: readonly ErrorCode[],
  interruptedBy: string | null,
): ExitCodeValue {
  switch (status) {
    case 'succeeded':
      return ExitCode.OK;
    case 'partial':
      return ExitCode.PARTIAL;
    case 'interrupted':
      return interruptedBy === 'SIGINT' ? ExitCode.INTERRUPTED_SIGINT : ExitCode.INTERRUPTED_SIGTERM;
    default: {
      const classes = new Set(failureCodes.map(exitCodeForCode));
      const only = classes.size === 1 ? [...classes][0] : undefined;
      return only === ExitCode.AUTH || only === ExitCode.DATABASE ? only : ExitCode.FAILED;
    }
  }
}
