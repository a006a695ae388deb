/**
 * The exporter's error classes, like undici's `lib/core/errors.js`: each has a
 * stable `code` (mapped to an exit code in exit-codes.ts) and the context an
 * operator needs. Messages never contain credentials.
 */
export type ErrorCode =
  | 'USAGE'
  | 'CONFIG_INVALID'
  | 'DWS_API_ERROR'
  | 'DWS_AUTH_FAILED'
  | 'DWS_NETWORK_ERROR'
  /** The endpoint's breaker is open: the request or the whole cluster was not sent (src/source/endpoint-breaker.ts). */
  | 'DWS_ENDPOINT_UNREACHABLE'
  | 'DWS_PAYLOAD_INVALID'
  | 'DB_UNAVAILABLE'
  | 'DB_ERROR'
  | 'SCHEMA_NOT_MIGRATED'
  | 'MIGRATION_FAILED'
  | 'EMBEDDED_PG_FAILED'
  /** Not an ExporterError: a bug. */
  | 'INTERNAL'
  /** Ledger only: the run was stopped by a signal while exporting the cluster. */
  | 'INTERRUPTED'
  /** Ledger only: the run was stopped by a signal before the cluster's turn came. */
  | 'NOT_STARTED'
  /** Ledger only: written by a later run for a process that died (src/warehouse/run-lock.ts). */
  | 'ABANDONED';

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

/**
 * The endpoint stopped being called after connection failures (or gateway
 * outages) across several clusters in a row: this request, or this whole
 * cluster (`call` null), was not sent or was stopped.
 */
export class EndpointUnreachableError extends ExporterError {
  readonly code = 'DWS_ENDPOINT_UNREACHABLE';
  constructor(
    /** The endpoint's origin, e.g. https://dws.cn-north-4.myhuaweicloud.com */
    readonly endpoint: string,
    readonly lastError: string,
    readonly call: ApiCallContext | null,
    options?: { readonly cause?: unknown },
  ) {
    super(
      `endpoint ${endpoint} unreachable (last error: ${lastError}): ` +
        (call === null ? 'cluster not called' : `GET ${call.path} not sent or stopped`),
      options,
    );
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

/**
 * Failures to obtain credentials (credential files, the metadata service,
 * IAM). They carry the stable codes above, so the ledger, the exit code (6
 * when every cluster failed with DWS_AUTH_FAILED) and automation treat them
 * like the DWS API's own refusals. Messages name where the credential was to
 * come from, never its value.
 */
export type CredentialErrorCode = Extract<ErrorCode, 'DWS_AUTH_FAILED' | 'DWS_NETWORK_ERROR' | 'DWS_PAYLOAD_INVALID'>;

export class CredentialError extends ExporterError {
  readonly code: CredentialErrorCode;
  constructor(code: CredentialErrorCode, message: string, options?: { readonly cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** One 401/403 the auth breaker counted against a credential. */
export interface Refusal {
  readonly call: ApiCallContext;
  readonly details: ApiErrorDetails;
}

/** Which credential a message is about, and what to check: never the secret itself. */
export interface CredentialDescription {
  readonly label: string;
  readonly advice: string;
}

/**
 * A request that was not sent because its credential had already been refused
 * (thrown by the auth breaker in src/source/auth/auth-breaker.ts).
 */
export class AuthBreakerOpenError extends DwsAuthError {
  constructor(call: ApiCallContext, lease: CredentialDescription, refusals: readonly Refusal[]) {
    const last = refusals[refusals.length - 1];
    super(call, {
      status: last?.details.status ?? 401,
      errorCode: last?.details.errorCode ?? null,
      errorMsg: last?.details.errorMsg ?? null,
      requestId: null,
    });
    const answer = last
      ? `${last.details.status}${last.details.errorCode ? ` ${last.details.errorCode}` : ''}` +
        `${last.details.errorMsg ? `: ${last.details.errorMsg}` : ''}`
      : 'refused';
    this.message =
      `not sent: the API already refused ${lease.label} for ${describeTargets(refusals)} (${answer}); ` +
      `the run stops using it so the account is not locked. ${capitalise(lease.advice)}`;
  }
}

/** A 401/403 from the API, with which credential was refused and what to check about it. */
export class CredentialRefusedError extends DwsAuthError {
  constructor(call: ApiCallContext, details: ApiErrorDetails, lease: CredentialDescription) {
    super(call, details);
    this.message = `${this.message}. Refused: ${lease.label}. ${capitalise(lease.advice)}`;
  }
}

function capitalise(text: string): string {
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}`;
}

function describeTargets(refusals: readonly Refusal[]): string {
  const names = [...new Set(refusals.map(({ call }) =>
    call.clusterId === '' ? `the cluster list of project ${call.projectId}` : `cluster ${call.clusterId} (project ${call.projectId})`,
  ))];
  return names.length <= 1 ? (names[0] ?? 'earlier requests') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1] ?? ''}`;
}

/** The project a DiscoveryError is about. */
export interface ProjectDescription {
  readonly projectId: string;
  readonly region: string | null;
  readonly endpoint: string;
}

/** The cluster list of a project could not be read (see src/plan/plan-clusters.ts). */
export class DiscoveryError extends ExporterError {
  readonly code: ErrorCode;
  constructor(
    readonly project: ProjectDescription,
    cause: unknown,
    others: readonly string[] = [],
  ) {
    super(
      `cannot list the clusters of project ${project.projectId} (${project.region ?? 'region unknown'}, ${project.endpoint}): ` +
        `${describeCause(cause)}${others.length > 0 ? `; the cluster lists of ${others.join(', ')} failed too (see the log)` : ''}`,
      { cause },
    );
    this.code = cause instanceof ExporterError ? cause.code : 'DWS_API_ERROR';
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

/** The embedded PostgreSQL runs for another live exporter process, `owner`: a read-only command may share it. */
export class EmbeddedInUseError extends EmbeddedPostgresError {
  constructor(
    message: string,
    readonly owner: number,
  ) {
    super(message);
  }
}

/**
 * How a refused setting's value is quoted: a short word as it was written, to
 * spot the typo; anything longer not at all, in case it is a secret pasted
 * into the wrong variable.
 */
export function quoteBadValue(value: string): string {
  return /^[\w.-]{1,16}$/.test(value.trim()) ? `not ${JSON.stringify(value)}` : 'the value given is not shown';
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
