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

/** What an exit code means, as a word automation can switch on (--summary-json `outcome`). */
export type Outcome =
  | 'succeeded'
  | 'partial'
  | 'failed'
  | 'usage_or_config'
  | 'database'
  | 'auth'
  | 'interrupted'
  | 'internal_error';

/** Per exit code: a few words for --help, and its outcome word. */
export const EXIT_CODES: Readonly<Record<ExitCodeValue, { readonly meaning: string; readonly outcome: Outcome }>> = {
  [ExitCode.OK]: { meaning: 'ok', outcome: 'succeeded' },
  [ExitCode.INTERNAL]: { meaning: 'internal error', outcome: 'internal_error' },
  [ExitCode.USAGE_OR_CONFIG]: { meaning: 'usage/config', outcome: 'usage_or_config' },
  [ExitCode.PARTIAL]: { meaning: 'partial', outcome: 'partial' },
  [ExitCode.FAILED]: { meaning: 'failed', outcome: 'failed' },
  [ExitCode.DATABASE]: { meaning: 'database', outcome: 'database' },
  [ExitCode.AUTH]: { meaning: 'auth', outcome: 'auth' },
  [ExitCode.INTERRUPTED_SIGINT]: { meaning: 'interrupted (SIGINT)', outcome: 'interrupted' },
  [ExitCode.INTERRUPTED_SIGTERM]: { meaning: 'interrupted (SIGTERM)', outcome: 'interrupted' },
};

/** The outcome word of any process exit code; one the exporter never uses is an internal error. */
export function outcomeOf(exitCode: number): Outcome {
  return OUTCOME_BY_CODE.get(exitCode) ?? 'internal_error';
}

const OUTCOME_BY_CODE = new Map(Object.entries(EXIT_CODES).map(([code, { outcome }]) => [Number(code), outcome]));

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
