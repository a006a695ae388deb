/**
 * The exporter's error classes. Like undici's `lib/core/errors.js`: a few
 * classes, each with a stable `code` that logs, the ledger and automation can
 * match on, and the context an operator needs (cluster, status, request id).
 * Messages never contain credentials: callers pass paths, never signed URLs or
 * headers.
 */

export type ErrorCode =
  | 'USAGE'
  | 'CONFIG_INVALID'
  | 'DWS_API_ERROR'
  | 'DWS_AUTH_FAILED'
  | 'DWS_NETWORK_ERROR'
  | 'DWS_PAYLOAD_INVALID'
  | 'DB_UNAVAILABLE'
  | 'DB_ERROR'
  | 'SCHEMA_NOT_MIGRATED'
  | 'MIGRATION_FAILED'
  | 'EMBEDDED_PG_FAILED';

export abstract class ExporterError extends Error {
  abstract readonly code: ErrorCode;
  override get name(): string {
    return this.constructor.name;
  }
}

/** Bad command-line usage: unknown flag, missing value. */
export class UsageError extends ExporterError {
  readonly code = 'USAGE';
}

/** The config file or the environment does not describe a valid run. */
export class ConfigError extends ExporterError {
  readonly code = 'CONFIG_INVALID';
  constructor(
    message: string,
    /** Where the problem is: a file path, `env`, or `config.projects[0].clusters`. */
    readonly source: string,
  ) {
    super(`${source}: ${message}`);
  }
}

/** Where a DWS API call went, without any secret. */
export interface ApiCallContext {
  readonly projectId: string;
  readonly clusterId: string;
  /** Path and query of the request; never headers. */
  readonly path: string;
}

export interface ApiErrorDetails {
  readonly status: number;
  readonly errorCode: string | null;
  readonly errorMsg: string | null;
  readonly requestId: string | null;
}

/** The DWS API answered with an error status (after retries, if retryable). */
export class DwsApiError extends ExporterError {
  readonly code: 'DWS_API_ERROR' | 'DWS_AUTH_FAILED' = 'DWS_API_ERROR';
  constructor(
    readonly call: ApiCallContext,
    readonly details: ApiErrorDetails,
  ) {
    super(
      `DWS API ${details.status}${details.errorCode ? ` ${details.errorCode}` : ''}` +
        `${details.errorMsg ? `: ${details.errorMsg}` : ''} (GET ${call.path}` +
        `${details.requestId ? `, request id ${details.requestId}` : ''})`,
    );
  }
}

/** 401/403: the credentials were refused. Never retried (AK lockout). */
export class DwsAuthError extends DwsApiError {
  override readonly code = 'DWS_AUTH_FAILED';
}

/** No HTTP answer at all: connection refused or reset, DNS, timeout. */
export class DwsNetworkError extends ExporterError {
  readonly code = 'DWS_NETWORK_ERROR';
  constructor(
    readonly call: ApiCallContext,
    cause: unknown,
  ) {
    super(`cannot reach the DWS API (GET ${call.path}): ${describeCause(cause)}`, { cause });
  }
}

/** A 200 whose body is not the documented shape. */
export class DwsPayloadError extends ExporterError {
  readonly code = 'DWS_PAYLOAD_INVALID';
  constructor(
    readonly call: ApiCallContext,
    problem: string,
    readonly requestId: string | null,
  ) {
    super(
      `DWS API returned an invalid page for GET ${call.path}: ${problem}` +
        `${requestId ? ` (request id ${requestId})` : ''}`,
    );
  }
}

/** The database cannot be reached or refused the login. */
export class DbUnavailableError extends ExporterError {
  readonly code = 'DB_UNAVAILABLE';
  constructor(target: string, cause: unknown) {
    super(`cannot connect to PostgreSQL at ${target}: ${describeCause(cause)}`, { cause });
  }
}

/** A statement failed (permissions, constraint, disk full, …). */
export class DbError extends ExporterError {
  readonly code = 'DB_ERROR';
  constructor(what: string, cause: unknown) {
    super(`${what}: ${describeCause(cause)}`, { cause });
  }
}

export class SchemaNotMigratedError extends ExporterError {
  readonly code = 'SCHEMA_NOT_MIGRATED';
  constructor(pending: readonly string[]) {
    super(
      `the warehouse schema is not up to date (pending migrations: ${pending.join(', ')}); ` +
        'run `dws-task-exporter migrate` or drop --no-migrate',
    );
  }
}

export class MigrationError extends ExporterError {
  readonly code = 'MIGRATION_FAILED';
}

export class EmbeddedPostgresError extends ExporterError {
  readonly code = 'EMBEDDED_PG_FAILED';
}

export function describeCause(cause: unknown): string {
  if (cause instanceof AggregateError && cause.errors.length > 0) {
    return cause.errors.map(describeCause).join('; ');
  }
  if (cause instanceof Error) {
    const code = (cause as { code?: unknown }).code;
    return typeof code === 'string' && !cause.message.includes(code)
      ? `${cause.message} (${code})`
      : cause.message;
  }
  return String(cause);
}
