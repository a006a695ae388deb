/** Metric families and their text exposition, as a Pushgateway parses them. */
import { describe, expect, it } from 'vitest';
import { formatExposition, pushTargetFromEnv, pushUrl, runMetrics } from '../../../src/report/metrics.js';
import type { RunSummaryDocument } from '../../../src/report/summary-json.js';

function summary(status: RunSummaryDocument['status'], exitCode: number): RunSummaryDocument {
  return {
    schemaVersion: 1,
    exporterVersion: '0.1.0',
    runId: 12,
    runGroupId: 'g',
    shard: { index: 0, count: 1 },
    status,
    exitCode,
    outcome: status === 'succeeded' ? 'succeeded' : 'partial',
    retryable: status !== 'succeeded',
    startedAt: '2026-03-01T02:00:00.000Z',
    finishedAt: '2026-03-01T02:10:00.000Z',
    durationMs: 600_000,
    totals: {
      clustersPlanned: 3,
      clustersOk: 2,
      clustersIncomplete: 0,
      clustersFailed: 1,
      clustersInterrupted: 0,
      clustersNotStarted: 0,
      tasksFetched: 900,
      rowsInserted: 100,
      rowsUpdated: 7,
      rowsUnchanged: 793,
      apiRequests: 40,
      apiRetries: 3,
    },
    clusters: [
      { endpoint: 'https://dws.a', projectId: 'p', clusterId: 'a', status: 'succeeded', apiCount: 1, tasksFetched: 1, rowsInserted: 1, rowsUpdated: 0, rowsUnchanged: 0, pages: 1, requests: 1, retries: 0, durationMs: 1, offsetMode: null, stopReason: 'count_reached', error: null },
      { endpoint: 'https://dws.a', projectId: 'p', clusterId: 'b', status: 'failed', apiCount: null, tasksFetched: 0, rowsInserted: 0, rowsUpdated: 0, rowsUnchanged: 0, pages: 0, requests: 5, retries: 4, durationMs: 1, offsetMode: null, stopReason: null, error: { code: 'DWS_API_ERROR', message: 'x', httpStatus: 503, apiErrorCode: null, requestId: null } },
    ],
    endpoints: [],
    abandonedRuns: [],
    error: null,
  };
}

const clusters = [
  { projectId: 'p', clusterId: 'a', lastSuccessAt: new Date('2026-03-01T02:09:00.000Z') },
  { projectId: 'p', clusterId: 'b', lastSuccessAt: null },
];

describe('runMetrics', () => {
  it('reports the run, its clusters, rows, API traffic by status and per-cluster freshness', () => {
    const text = formatExposition(runMetrics({ summary: summary('partial', 3), apiResponses: new Map([['200', 36], ['503', 4]]), clusters }));
    expect(text).toContain('dws_exporter_last_run_timestamp_seconds 1772331000\n');
    expect(text).toContain('dws_exporter_last_run_status{status="partial"} 1\n');
    expect(text).toContain('dws_exporter_last_run_status{status="succeeded"} 0\n');
    expect(text).toContain('dws_exporter_last_run_exit_code 3\n');
    expect(text).toContain('dws_exporter_last_run_duration_seconds 600\n');
    expect(text).toContain('dws_exporter_clusters{status="failed"} 1\n');
    expect(text).toContain('dws_exporter_rows{operation="inserted"} 100\n');
    expect(text).toContain('dws_exporter_rows{operation="updated"} 7\n');
    expect(text).toContain('dws_exporter_api_requests 40\n');
    expect(text).toContain('dws_exporter_api_retries 3\n');
    expect(text).toContain('dws_exporter_api_responses{code="503"} 4\n');
    expect(text).toContain('dws_exporter_cluster_last_success_timestamp_seconds{project_id="p",cluster_id="a"} 1772330940\n');
    expect(text).toContain('dws_exporter_cluster_last_success_timestamp_seconds{project_id="p",cluster_id="b"} 0\n');
    expect(text).toContain('dws_exporter_cluster_last_run_succeeded{project_id="p",cluster_id="b"} 0\n');
  });

  it('pushes the last-success timestamp only for a run that succeeded, so a failed run keeps the previous one', () => {
    const names = (s: RunSummaryDocument) => runMetrics({ summary: s, apiResponses: new Map(), clusters: [] }).map((f) => f.name);
    expect(names(summary('succeeded', 0))).toContain('dws_exporter_last_success_timestamp_seconds');
    expect(names(summary('partial', 3))).not.toContain('dws_exporter_last_success_timestamp_seconds');
  });

  it('declares HELP and TYPE once per family, before its samples', () => {
    const text = formatExposition(runMetrics({ summary: summary('succeeded', 0), apiResponses: new Map([['200', 1]]), clusters }));
    const declared = new Set<string>();
    for (const line of text.trimEnd().split('\n')) {
      const type = /^# TYPE (\S+) gauge$/.exec(line);
      if (type?.[1]) {
        expect(declared.has(type[1])).toBe(false);
        declared.add(type[1]);
      } else if (!line.startsWith('# HELP ')) {
        expect(declared.has(line.split(/[{ ]/)[0] ?? '')).toBe(true);
      }
    }
  });
});

describe('formatExposition', () => {
  it('escapes label values and help text', () => {
    const text = formatExposition([
      { name: 'm', help: 'a\\b\nc', type: 'gauge', samples: [{ labels: { v: 'q"u\\o\nte' }, value: 1 }] },
    ]);
    expect(text).toBe('# HELP m a\\\\b\\nc\n# TYPE m gauge\nm{v="q\\"u\\\\o\\nte"} 1\n');
  });

  it('refuses invalid metric and label names', () => {
    expect(() => formatExposition([{ name: '1bad', help: '', type: 'gauge', samples: [] }])).toThrow(/invalid metric name/);
    expect(() => formatExposition([{ name: 'ok', help: '', type: 'gauge', samples: [{ labels: { 'a-b': 'x' }, value: 1 }] }])).toThrow(/invalid label name/);
  });
});

describe('push target', () => {
  it('is read from PUSHGATEWAY_URL and PUSHGATEWAY_JOB and groups by shard', () => {
    expect(pushTargetFromEnv({}, 0)).toBeNull();
    const target = pushTargetFromEnv({ PUSHGATEWAY_URL: 'http://pushgateway:9091/' }, 2);
    expect(target).toEqual({ url: 'http://pushgateway:9091/', job: 'dws_task_exporter', shardIndex: 2 });
    expect(pushUrl(target!)).toBe('http://pushgateway:9091/metrics/job/dws_task_exporter/shard/2');
    expect(pushUrl({ url: 'https://u:p@pg.example:9091', job: 'nightly dws', shardIndex: 0 })).toBe(
      'https://pg.example:9091/metrics/job/nightly%20dws/shard/0',
    );
  });
});
