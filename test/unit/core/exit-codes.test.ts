/**
 * Exit codes for schedulers (README "Exit codes"): each error class maps to
 * its documented code, and a run's status (with its clusters' failure codes)
 * maps to the most specific code.
 */
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  CredentialError,
  DbError,
  DbUnavailableError,
  DwsApiError,
  DwsAuthError,
  DwsNetworkError,
  DwsPayloadError,
  EmbeddedPostgresError,
  EndpointUnreachableError,
  MigrationError,
  SchemaNotMigratedError,
  UsageError,
  type ApiCallContext,
  type ErrorCode,
} from '../../../src/core/errors.js';
import { ExitCode, exitCodeForError, exitCodeForRun } from '../../../src/core/exit-codes.js';

const CALL: ApiCallContext = { projectId: 'p', clusterId: 'c', path: '/v2/p/clusters/c/logical-clusters/tasks?offset=0' };
const details = (status: number) => ({ status, errorCode: null, errorMsg: null, requestId: null });

describe('the documented values', () => {
  it('are 0, 1, 2, 3, 4, 5, 6, 130 and 143', () => {
    expect(ExitCode).toEqual({
      OK: 0,
      INTERNAL: 1,
      USAGE_OR_CONFIG: 2,
      PARTIAL: 3,
      FAILED: 4,
      DATABASE: 5,
      AUTH: 6,
      INTERRUPTED_SIGINT: 130,
      INTERRUPTED_SIGTERM: 143,
    });
  });
});

describe('exitCodeForError', () => {
  it.each<[string, Error, number]>([
    ['UsageError → 2', new UsageError('unknown flag --foo'), 2],
    ['ConfigError → 2', new ConfigError('bad', 'exporter.json'), 2],
    ['DwsApiError → 4', new DwsApiError(CALL, details(500)), 4],
    ['DwsAuthError (401/403) → 6', new DwsAuthError(CALL, details(401)), 6],
    ['DwsNetworkError → 4', new DwsNetworkError(CALL, new Error('ECONNREFUSED')), 4],
    ['DwsPayloadError → 4', new DwsPayloadError(CALL, 'body is not JSON', null), 4],
    ['EndpointUnreachableError → 4 (a network-class failure)', new EndpointUnreachableError('https://dws.example', 'ECONNREFUSED', null), 4],
    ['DbUnavailableError → 5', new DbUnavailableError('db:5432', new Error('refused')), 5],
    ['DbError → 5', new DbError('insert', new Error('disk full')), 5],
    ['SchemaNotMigratedError → 5', new SchemaNotMigratedError(['0002_clusters_dimension']), 5],
    ['MigrationError → 5', new MigrationError('0002 failed'), 5],
    ['EmbeddedPostgresError → 5', new EmbeddedPostgresError('initdb failed'), 5],
  ])('%s', (_label, error, code) => {
    expect(exitCodeForError(error)).toBe(code);
  });

  it('maps credential failures by their code: auth → 6, network and payload → 4', () => {
    expect(exitCodeForError(new CredentialError('DWS_AUTH_FAILED', 'IAM refused the password'))).toBe(ExitCode.AUTH);
    expect(exitCodeForError(new CredentialError('DWS_NETWORK_ERROR', 'metadata service unreachable'))).toBe(ExitCode.FAILED);
    expect(exitCodeForError(new CredentialError('DWS_PAYLOAD_INVALID', 'no securitytoken'))).toBe(ExitCode.FAILED);
  });

  it('maps anything that is not an exporter error to 1 (internal), even when it looks like one', () => {
    expect(exitCodeForError(new Error('bug'))).toBe(ExitCode.INTERNAL);
    expect(exitCodeForError(new TypeError('x is undefined'))).toBe(ExitCode.INTERNAL);
    expect(exitCodeForError(Object.assign(new Error('lookalike'), { code: 'CONFIG_INVALID' }))).toBe(ExitCode.INTERNAL);
    expect(exitCodeForError('a string')).toBe(ExitCode.INTERNAL);
    expect(exitCodeForError(undefined)).toBe(ExitCode.INTERNAL);
    expect(exitCodeForError(null)).toBe(ExitCode.INTERNAL);
  });
});

describe('exitCodeForRun', () => {
  it('succeeded → 0 and partial → 3, whatever the failure codes', () => {
    expect(exitCodeForRun('succeeded', [], null)).toBe(0);
    expect(exitCodeForRun('partial', ['DWS_API_ERROR'], null)).toBe(3);
    expect(exitCodeForRun('partial', ['DWS_AUTH_FAILED'], null)).toBe(3);
    expect(exitCodeForRun('partial', ['DB_ERROR'], null)).toBe(3);
  });

  it('interrupted → 130 for SIGINT and 143 for SIGTERM', () => {
    expect(exitCodeForRun('interrupted', [], 'SIGINT')).toBe(130);
    expect(exitCodeForRun('interrupted', [], 'SIGTERM')).toBe(143);
  });

  it('interrupted by anything else (or unknown) → 143, even when clusters failed', () => {
    expect(exitCodeForRun('interrupted', [], null)).toBe(143);
    expect(exitCodeForRun('interrupted', ['DWS_AUTH_FAILED'], 'SIGHUP')).toBe(143);
  });

  it('failed with every cluster refused by the API (auth) → 6', () => {
    expect(exitCodeForRun('failed', ['DWS_AUTH_FAILED'], null)).toBe(6);
    expect(exitCodeForRun('failed', ['DWS_AUTH_FAILED', 'DWS_AUTH_FAILED'], null)).toBe(6);
  });

  it('failed with every cluster failing in the database → 5', () => {
    expect(exitCodeForRun('failed', ['DB_ERROR'], null)).toBe(5);
    expect(exitCodeForRun('failed', ['DB_ERROR', 'DB_UNAVAILABLE'], null)).toBe(5);
  });

  it('failed with mixed causes, API/network/payload errors, internal errors or no codes → 4', () => {
    expect(exitCodeForRun('failed', ['DWS_AUTH_FAILED', 'DB_ERROR'], null)).toBe(4);
    expect(exitCodeForRun('failed', ['DWS_AUTH_FAILED', 'DWS_API_ERROR'], null)).toBe(4);
    expect(exitCodeForRun('failed', ['DWS_API_ERROR', 'DWS_NETWORK_ERROR', 'DWS_PAYLOAD_INVALID'], null)).toBe(4);
    expect(exitCodeForRun('failed', ['INTERNAL'], null)).toBe(4);
    expect(exitCodeForRun('failed', [], null)).toBe(4);
  });

  it('an unreachable endpoint: 4 when it is the only cause, 3 when other clusters succeeded', () => {
    expect(exitCodeForRun('failed', ['DWS_ENDPOINT_UNREACHABLE', 'DWS_ENDPOINT_UNREACHABLE'], null)).toBe(4);
    expect(exitCodeForRun('failed', ['DWS_ENDPOINT_UNREACHABLE', 'DWS_NETWORK_ERROR'], null)).toBe(4);
    expect(exitCodeForRun('partial', ['DWS_ENDPOINT_UNREACHABLE'], null)).toBe(3);
  });

  it('abandoned (and a run still marked running) are treated like failed', () => {
    expect(exitCodeForRun('abandoned', [], null)).toBe(4);
    expect(exitCodeForRun('abandoned', ['DWS_AUTH_FAILED'], null)).toBe(6);
    expect(exitCodeForRun('running', ['DB_ERROR'], null)).toBe(5);
  });

  it('a run whose clusters all failed with database codes exits as a database error, like exitCodeForError', () => {
    const databaseCodes: ErrorCode[] = ['DB_UNAVAILABLE', 'DB_ERROR', 'SCHEMA_NOT_MIGRATED', 'MIGRATION_FAILED', 'EMBEDDED_PG_FAILED'];
    for (const code of databaseCodes) {
      expect(exitCodeForRun('failed', [code, code], null), code).toBe(ExitCode.DATABASE);
    }
  });
});
