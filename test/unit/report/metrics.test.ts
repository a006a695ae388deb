/** The metrics a run pushes, as the Pushgateway receives them (prom-client's text exposition). */
import { describe, expect, it } from 'vitest';
import { metricsRegistry, runMetrics, type RunMetricsInput } from '../../../src/report/metrics.js';
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
      clustersPlanned: 5,
      clustersOk: 2,
      clustersIncomplete: 0,
      clustersFailed: 1,
      clustersInterrupted: 1,
      clustersNotStarted: 1,
      tasksFetched: 900,
      rowsInserted: 100,
      rowsUpdated: 7,
      rowsUnchanged: 793,
      apiRequests: 40,
      apiRetries: 3,
    },
    clusters: [
      { endpoint: 'https://dws.a', projectId: 'p', clusterId: 'a', status: 'succeeded', apiCount: 1, tasksFetched: 1, rowsInserted: 1, rowsUpdated: 0, rowsUnchanged: 0, pages: 1, requests: 1, retries: 0, durationMs: 1, offsetMode: null, stopReason: 'count_reached', error: null },
      { endpoint: 'https://dws.b', projectId: 'p', clusterId: 'b', status: 'failed', apiCount: null, tasksFetched: 0, rowsInserted: 0, rowsUpdated: 0, rowsUnchanged: 0, pages: 0, requests: 0, retries: 0, durationMs: 0, offsetMode: null, stopReason: null, error: { code: 'DWS_ENDPOINT_UNREACHABLE', message: 'x', httpStatus: null, apiErrorCode: null, requestId: null } },
    ],
    endpoints: [
      { endpoint: 'https://dws.a', clusters: 1, unreachable: false, clustersNotExported: 0, lastError: null },
      { endpoint: 'https://dws.b', clusters: 1, unreachable: true, clustersNotExported: 1, lastError: 'ECONNREFUSED' },
    ],
    abandonedRuns: [{ runId: 11, clustersPlanned: 5, clustersOk: 1, clustersIncomplete: 0, clustersFailed: 0, clustersInterrupted: 0, clustersNotStarted: 3, clustersAbandoned: 1 }],
    error: null,
  };
}

const clusters: RunMetricsInput['clusters'] = [
  { projectId: 'p', clusterId: 'a', lastSuccessAt: new Date('2026-03-01T02:09:00.000Z'), failuresSinceSuccess: 0 },
  { projectId: 'p', clusterId: 'b', lastSuccessAt: null, failuresSinceSuccess: 4 },
];

async function exposition(input: RunMetricsInput): Promise<string> {
  return metricsRegistry(runMetrics(input)).metrics();
}

describe('runMetrics', () => {
  it('reports the run, its clusters, rows, API traffic by status and per-cluster freshness', async () => {
    const text = await exposition({ summary: summary('partial', 3), apiResponses: new Map([['200', 36], ['503', 4]]), clusters });
    for (const line of [
      'dws_exporter_last_run_timestamp_seconds 1772331000',
      'dws_exporter_last_run_status{status="partial"} 1',
      'dws_exporter_last_run_status{status="succeeded"} 0',
      'dws_exporter_last_run_exit_code 3',
      'dws_exporter_last_run_duration_seconds 600',
      'dws_exporter_rows{operation="inserted"} 100',
      'dws_exporter_rows{operation="updated"} 7',
      'dws_exporter_api_requests 40',
      'dws_exporter_api_retries 3',
      'dws_exporter_api_responses{code="503"} 4',
      'dws_exporter_cluster_last_success_timestamp_seconds{project_id="p",cluster_id="a"} 1772330940',
      'dws_exporter_cluster_last_success_timestamp_seconds{project_id="p",cluster_id="b"} 0',
      'dws_exporter_cluster_last_run_succeeded{project_id="p",cluster_id="b"} 0',
    ]) {
      expect(text).toContain(`${line}\n`);
    }
  });

  it('counts planned clusters as succeeded + incomplete + failed + interrupted + not started, like the summary', async () => {
    const text = await exposition({ summary: summary('partial', 3), apiResponses: new Map(), clusters: [] });
    for (const [status, n] of [['planned', 5], ['succeeded', 2], ['incomplete', 0], ['failed', 1], ['interrupted', 1], ['not_started', 1]] as const) {
      expect(text).toContain(`dws_exporter_clusters{status="${status}"} ${n}\n`);
    }
    expect(text).toContain('dws_exporter_abandoned_runs_closed 1\n');
  });

  it('says which endpoints the run stopped calling (1) among every endpoint it used (0)', async () => {
    const text = await exposition({ summary: summary('partial', 3), apiResponses: new Map(), clusters: [] });
    expect(text).toContain('dws_exporter_endpoint_unreachable{endpoint="https://dws.a"} 0\n');
    expect(text).toContain('dws_exporter_endpoint_unreachable{endpoint="https://dws.b"} 1\n');
  });

  it('reports failures since the last success per cluster, from the export health view', async () => {
    const text = await exposition({ summary: summary('partial', 3), apiResponses: new Map(), clusters });
    expect(text).toContain('dws_exporter_cluster_failures_since_success{project_id="p",cluster_id="a"} 0\n');
    expect(text).toContain('dws_exporter_cluster_failures_since_success{project_id="p",cluster_id="b"} 4\n');
  });

  it('pushes the last-success timestamp only for a run that succeeded, so a failed run keeps the previous one', () => {
    const names = (s: RunSummaryDocument) => runMetrics({ summary: s, apiResponses: new Map(), clusters: [] }).map((f) => f.name);
    expect(names(summary('succeeded', 0))).toContain('dws_exporter_last_success_timestamp_seconds');
    expect(names(summary('partial', 3))).not.toContain('dws_exporter_last_success_timestamp_seconds');
  });

  it('declares HELP and TYPE gauge once per family, before its samples, and leaves out families without samples', async () => {
    const text = await exposition({ summary: summary('succeeded', 0), apiResponses: new Map(), clusters: [] });
    const declared = new Set<string>();
    for (const line of text.split('\n').filter((l) => l !== '')) {
      const type = /^# TYPE (\S+) (\S+)$/.exec(line);
      if (type?.[1]) {
        expect(type[2]).toBe('gauge');
        expect(declared.has(type[1])).toBe(false);
        declared.add(type[1]);
      } else if (!line.startsWith('# HELP ')) {
        expect(declared.has(line.split(/[{ ]/)[0] ?? '')).toBe(true);
      }
    }
    expect(declared.has('dws_exporter_api_responses')).toBe(false);
    expect(declared.has('dws_exporter_cluster_last_success_timestamp_seconds')).toBe(false);
  });

  it('escapes label values', async () => {
    const text = await metricsRegistry([{ name: 'm', help: 'h', samples: [{ labels: { v: 'q"u\\o\nte' }, value: 1 }] }]).metrics();
    expect(text).toContain('m{v="q\\"u\\\\o\\nte"} 1\n');
  });
});
