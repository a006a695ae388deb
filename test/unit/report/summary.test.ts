import { describe, expect, it } from 'vitest';
import type { ClusterResult } from '../../../src/export/export-cluster.js';
import type { RunReport } from '../../../src/export/run-export.js';
import { formatRunSummary } from '../../../src/report/summary.js';

function failed(i: number): ClusterResult {
  return {
    projectId: 'p',
    clusterId: `c${i}`,
    status: 'failed',
    durationMs: 1,
    apiCount: null,
    duplicates: 0,
    pages: 0,
    requests: 0,
    retries: 0,
    offsetMode: null,
    stopReason: null,
    error: { code: 'DWS_AUTH_FAILED', message: 'refused', httpStatus: 401, apiErrorCode: 'APIG.0301', requestId: null },
    tasksFetched: 0,
    rows: { inserted: 0, updated: 0, unchanged: 0 },
    ledgerError: null,
  };
}

function report(clusters: readonly ClusterResult[]): RunReport {
  return {
    runId: 7,
    status: 'failed',
    durationMs: 1200,
    exitCode: 6,
    clusters,
    totals: {
      clustersOk: 0,
      clustersIncomplete: 0,
      clustersFailed: clusters.length,
      tasksFetched: 0,
      rowsInserted: 0,
      rowsUpdated: 0,
      rowsUnchanged: 0,
      apiRequests: 2,
      apiRetries: 0,
    },
  };
}

describe('formatRunSummary', () => {
  it('names every cluster that needs attention when there are a few', () => {
    const text = formatRunSummary(report([failed(1), failed(2)]));
    expect(text).toContain('p/c1 failed: DWS_AUTH_FAILED refused');
    expect(text).toContain('p/c2 failed');
    expect(text).not.toContain('more (see the ledger)');
    expect(text).toContain('run_id = 7');
  });

  it('lists ten clusters and counts the rest when a whole fleet fails the same way', () => {
    const text = formatRunSummary(report(Array.from({ length: 200 }, (_, i) => failed(i))));
    expect(text.split('\n').filter((line) => line.includes(' failed: '))).toHaveLength(10);
    expect(text).toContain('… and 190 more (see the ledger).');
  });
});
