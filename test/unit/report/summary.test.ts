import { describe, expect, it } from 'vitest';
import type { ClusterError } from '../../../src/core/run-outcome.js';
import type { ClusterReport } from '../../../src/export/export-cluster.js';
import type { RunReport } from '../../../src/export/run-export.js';
import { formatRunSummary } from '../../../src/report/summary.js';

function cluster(i: number, status: ClusterReport['status'], error: ClusterError | null, endpoint = 'https://dws.a'): ClusterReport {
  return {
    endpoint,
    projectId: 'p',
    clusterId: `c${i}`,
    status,
    durationMs: 1,
    apiCount: null,
    duplicates: 0,
    pages: 0,
    requests: 0,
    retries: 0,
    offsetMode: null,
    stopReason: null,
    error,
    tasksFetched: 0,
    rows: { inserted: 0, updated: 0, unchanged: 0 },
    ledgerError: null,
  };
}

const refused = (i: number): ClusterReport =>
  cluster(i, 'failed', { code: 'DWS_AUTH_FAILED', message: 'refused', httpStatus: 401, apiErrorCode: 'APIG.0301', requestId: null });

function report(clusters: readonly ClusterReport[], overrides: Partial<RunReport> = {}): RunReport {
  const count = (status: string, code?: string): number =>
    clusters.filter((c) => c.status === status && (code === undefined || c.error?.code === code)).length;
  return {
    runId: 7,
    status: 'failed',
    durationMs: 1200,
    exitCode: 6,
    clusters,
    endpoints: [],
    abandonedRuns: [],
    totals: {
      clustersPlanned: clusters.length,
      clustersOk: count('succeeded'),
      clustersIncomplete: count('incomplete'),
      clustersFailed: count('failed'),
      clustersInterrupted: count('interrupted') - count('interrupted', 'NOT_STARTED'),
      clustersNotStarted: count('interrupted', 'NOT_STARTED'),
      tasksFetched: 0,
      rowsInserted: 0,
      rowsUpdated: 0,
      rowsUnchanged: 0,
      apiRequests: 2,
      apiRetries: 0,
    },
    ...overrides,
  };
}

describe('formatRunSummary', () => {
  it('names every cluster that needs attention when there are a few', () => {
    const text = formatRunSummary(report([refused(1), refused(2)]));
    expect(text).toContain('p/c1 failed: DWS_AUTH_FAILED refused');
    expect(text).toContain('p/c2 failed');
    expect(text).not.toContain('more (see the ledger)');
    expect(text).toContain('run_id = 7');
  });

  it('lists ten clusters and counts the rest when a whole fleet fails the same way', () => {
    const text = formatRunSummary(report(Array.from({ length: 200 }, (_, i) => refused(i))));
    expect(text.split('\n').filter((line) => line.includes(' failed: '))).toHaveLength(10);
    expect(text).toContain('… and 190 more (see the ledger).');
  });

  it('tells an interrupted run against the planned clusters: complete, interrupted, not started (never "failed")', () => {
    const clusters = [
      ...Array.from({ length: 9 }, (_, i) => cluster(i, 'succeeded', null)),
      ...Array.from({ length: 8 }, (_, i) => cluster(10 + i, 'interrupted', { code: 'INTERRUPTED', message: 'the run was interrupted', httpStatus: null, apiErrorCode: null, requestId: null })),
      ...Array.from({ length: 43 }, (_, i) => cluster(20 + i, 'interrupted', { code: 'NOT_STARTED', message: 'not started: the run was interrupted (SIGINT)', httpStatus: null, apiErrorCode: null, requestId: null })),
    ];
    const text = formatRunSummary(report(clusters, { status: 'interrupted', exitCode: 130 }));
    expect(text.split('\n')[0]).toBe('Run 7 interrupted in 1.2 s: 9/60 clusters complete, 8 interrupted, 43 not started.');
    expect(text).not.toContain('not started: the run');
    expect(text).toContain('p/c10 interrupted: INTERRUPTED');
  });

  it('says an unreachable endpoint once, instead of listing its clusters', () => {
    const unreachable = (i: number): ClusterReport =>
      cluster(i, 'failed', { code: 'DWS_ENDPOINT_UNREACHABLE', message: 'endpoint https://dws.b unreachable', httpStatus: null, apiErrorCode: null, requestId: null }, 'https://dws.b');
    const clusters = [cluster(0, 'succeeded', null), ...Array.from({ length: 60 }, (_, i) => unreachable(i + 1))];
    const text = formatRunSummary(
      report(clusters, {
        status: 'partial',
        exitCode: 3,
        endpoints: [
          { endpoint: 'https://dws.a', clusters: 1, unreachable: false, clustersNotExported: 0, lastError: null },
          { endpoint: 'https://dws.b', clusters: 60, unreachable: true, clustersNotExported: 60, lastError: 'ENOTFOUND' },
        ],
      }),
    );
    expect(text).toContain('  Endpoint https://dws.b unreachable (last error: ENOTFOUND): 60 clusters not exported.\n');
    expect(text).not.toContain('need attention');
    expect(text.split('\n').filter((line) => line.includes('dws.b'))).toHaveLength(1);
  });

  it('reports the runs it closed as abandoned', () => {
    const text = formatRunSummary(
      report([cluster(0, 'succeeded', null)], {
        status: 'succeeded',
        exitCode: 0,
        abandonedRuns: [{ runId: 6, clustersPlanned: 12, clustersOk: 3, clustersIncomplete: 0, clustersFailed: 0, clustersInterrupted: 0, clustersNotStarted: 7, clustersAbandoned: 2 }],
      }),
    );
    expect(text).toContain('  Closed run 6 as abandoned (its process died): 3/12 clusters complete, 2 abandoned, 7 not started.\n');
  });
});
