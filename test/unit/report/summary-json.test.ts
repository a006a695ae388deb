/** The summary document's meaning of each exit code, and its shape for a run that could not start. */
import { describe, expect, it } from 'vitest';
import { ConfigError, DbUnavailableError } from '../../../src/core/errors.js';
import { ExitCode, outcomeOf } from '../../../src/core/exit-codes.js';
import { retryableExitCode, summaryFromError, type SummaryContext } from '../../../src/report/summary-json.js';

const context: SummaryContext = {
  exporterVersion: '0.1.0',
  runGroupId: 'dws-task-exporter-29384756',
  shard: { index: 1, count: 4 },
  startedAt: new Date('2026-03-01T02:17:00.000Z'),
  finishedAt: new Date('2026-03-01T02:17:01.250Z'),
};

describe('outcome and retryable per exit code', () => {
  it('names every exit code and says which ones a scheduler may retry', () => {
    const table = Object.values(ExitCode).map((code) => [code, outcomeOf(code), retryableExitCode(code)]);
    expect(table).toEqual([
      [0, 'succeeded', false],
      [1, 'internal_error', true],
      [2, 'usage_or_config', false],
      [3, 'partial', true],
      [4, 'failed', true],
      [5, 'database', true],
      [6, 'auth', false],
      [130, 'interrupted', true],
      [143, 'interrupted', true],
    ]);
  });
});

describe('summaryFromError', () => {
  it('describes a run that failed before the ledger opened, with the error code and no totals', () => {
    const doc = summaryFromError(new DbUnavailableError('postgres://x:***@db:5432/a', new Error('ECONNREFUSED')), ExitCode.DATABASE, context);
    expect(doc).toEqual({
      schemaVersion: 1,
      exporterVersion: '0.1.0',
      runId: null,
      runGroupId: 'dws-task-exporter-29384756',
      shard: { index: 1, count: 4 },
      status: 'error',
      exitCode: 5,
      outcome: 'database',
      retryable: true,
      startedAt: '2026-03-01T02:17:00.000Z',
      finishedAt: '2026-03-01T02:17:01.250Z',
      durationMs: 1250,
      totals: null,
      clusters: [],
      endpoints: [],
      abandonedRuns: [],
      error: { code: 'DB_UNAVAILABLE', message: 'cannot connect to PostgreSQL at postgres://x:***@db:5432/a: ECONNREFUSED' },
    });
  });

  it('marks a config error as not retryable and an unknown error as internal', () => {
    expect(summaryFromError(new ConfigError('bad', 'config.json'), ExitCode.USAGE_OR_CONFIG, context)).toMatchObject({
      outcome: 'usage_or_config',
      retryable: false,
      error: { code: 'CONFIG_INVALID', message: 'config.json: bad' },
    });
    expect(summaryFromError(new TypeError('x is undefined'), ExitCode.INTERNAL, context)).toMatchObject({
      outcome: 'internal_error',
      error: { code: 'INTERNAL', message: 'x is undefined' },
    });
  });
});
