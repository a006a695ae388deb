/**
 * The per-cluster log line skips pino's path redaction (src/export/
 * cluster-log-line.ts): that is safe only while none of its fields is a name
 * the redaction paths cover, which these tests check on a line with every
 * field set.
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/core/logger.js';
import { clusterLineFields, clusterLineLogger, logClusterResult } from '../../../src/export/cluster-log-line.js';
import type { ClusterReport } from '../../../src/export/export-cluster.js';

/** A failed cluster with every field of the report set, the error's too. */
const FULL: ClusterReport = {
  endpoint: 'https://dws.cn-north-4.myhuaweicloud.com',
  projectId: '0a1b2c3d4e5f',
  clusterId: 'c-1',
  status: 'failed',
  durationMs: 1234.5,
  apiCount: 120,
  duplicates: 2,
  pages: 3,
  requests: 5,
  retries: 2,
  offsetMode: 'pages',
  stopReason: 'error',
  error: { code: 'DWS_API_ERROR', message: 'HTTP 500 from the task list', httpStatus: 500, apiErrorCode: 'DWS.0001', requestId: 'req-1' },
  tasksFetched: 100,
  rows: { inserted: 90, updated: 5, unchanged: 5 },
  ledgerError: null,
};

/** The JSON line each logger writes for `fields`, without its time. */
function lines(fields: object): { readonly redacted: unknown; readonly unredacted: unknown } {
  const written: string[] = [];
  const logger = createLogger('trace', { write: (chunk: string) => void written.push(chunk) }, { format: 'json' });
  logger.info(fields, 'cluster exported');
  clusterLineLogger(logger).info(fields, 'cluster exported');
  const [redacted, unredacted] = written.map((line) => ({ ...(JSON.parse(line) as object), time: null }));
  return { redacted, unredacted };
}

describe('the per-cluster log line', () => {
  it('writes exactly what redaction would let through, with every field set', () => {
    const { redacted, unredacted } = lines(clusterLineFields(7, FULL));
    expect(unredacted).toEqual(redacted);
  });

  it('is the check above able to fail: a secret-named field makes the two lines differ', () => {
    const { redacted, unredacted } = lines({ ...clusterLineFields(7, FULL), error: { ...FULL.error, token: 'secret' } });
    expect(unredacted).not.toEqual(redacted);
  });

  it('goes out at the level its outcome calls for, with the run id and counts', () => {
    const written: string[] = [];
    const logger = clusterLineLogger(createLogger('trace', { write: (chunk: string) => void written.push(chunk) }, { format: 'json' }));
    logClusterResult(logger, 7, FULL);
    logClusterResult(logger, 7, { ...FULL, status: 'succeeded', error: null });
    const parsed = written.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(parsed.map((p) => [p.level, p.msg])).toEqual([['error', 'cluster failed'], ['info', 'cluster exported']]);
    expect(parsed[1]).toMatchObject({ runId: 7, clusterId: 'c-1', fetched: 100, inserted: 90, updated: 5, unchanged: 5, durationMs: 1235 });
  });
});
