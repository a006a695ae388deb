/**
 * ReportData built by hand for the renderer's unit tests: every text field
 * the warehouse can hand over set to `text(i)`, so a test can put hostile
 * strings everywhere at once.
 */
import type { DailyCount, ReportData, TimelineCluster } from '../../../../src/warehouse/report-data/model.js';

const DAY_MS = 86_400_000;
const START = Date.UTC(2025, 5, 17);

export function day(i: number): string {
  return new Date(START + i * DAY_MS).toISOString().slice(0, 10);
}

export function at(dayIndex: number, hour: number): Date {
  return new Date(START + dayIndex * DAY_MS + hour * 3_600_000);
}

export interface FixtureOptions {
  /** Text for the i-th text field (names, types, logs, errors). */
  readonly text?: (i: number) => string;
  readonly clusters?: number;
  readonly othersDays?: boolean;
}

export function reportData(options: FixtureOptions = {}): ReportData {
  const text = options.text ?? ((i: number) => `name-${i}`);
  const clusters = options.clusters ?? 3;
  const ref = (i: number) => ({ projectId: text(800 + i), clusterId: `c-${i}`, clusterName: text(i) });
  const daily: DailyCount[] = Array.from({ length: 14 * 2 }, (_, i) => ({
    day: day(i % 14),
    taskType: i % 2 === 0 ? text(100) : 'Expand',
    succeeded: 3 + (i % 4),
    failed: i % 3,
    running: i % 5 === 0 ? 1 : 0,
    other: i % 7 === 0 ? 1 : 0,
  }));
  const rows: TimelineCluster[] = Array.from({ length: clusters }, (_, i) => ({
    ...ref(i),
    tasks: 3,
    failed: 1,
    running: 1,
    drawn: [
      { logicalClusterName: text(200 + i), taskType: text(100), start: at(1, 2), end: at(1, 4), resultClass: 'success' as const },
      { logicalClusterName: text(200 + i), taskType: 'Expand', start: at(5, 2), end: at(5, 9), resultClass: 'failed' as const },
      { logicalClusterName: text(200 + i), taskType: 'Grow', start: at(-30, 0), end: null, resultClass: 'running' as const },
    ],
  }));
  const logged = (i: number) => ({ ...ref(i), logicalClusterName: text(300 + i), taskType: text(100), start: at(3, 1), log: text(400 + i), logLength: text(400 + i).length });
  return {
    window: {
      days: 14,
      firstDay: day(0),
      lastDay: day(13),
      start: at(0, 0),
      end: at(14, 0),
      timeZone: 'UTC',
      generatedAt: at(20, 0),
      latestTaskStart: at(13, 5),
    },
    fleet: {
      clusters: clusters + 2,
      byLastAttempt: [
        { status: 'failed', clusters: 1 },
        { status: 'succeeded', clusters: clusters + 1 },
      ],
      byStaleness: [
        { bucket: 'under 26 h', clusters: clusters },
        { bucket: '26 h to 2 days', clusters: 0 },
        { bucket: '2 to 7 days', clusters: 1 },
        { bucket: 'over 7 days', clusters: 0 },
        { bucket: 'never complete', clusters: 1 },
      ],
      attention: [
        {
          ...ref(0),
          lastAttemptStatus: 'failed',
          lastAttemptAt: at(19, 0),
          lastSuccessAt: null,
          stalenessSeconds: null,
          failuresSinceSuccess: 2,
          lastErrorCode: 'DWS_API_ERROR',
          lastErrorMessage: text(500),
        },
      ],
      attentionTotal: 1,
      latestRuns: [
        { runId: 2, status: 'partial', startedAt: at(19, 0), finishedAt: at(19, 1), clustersTotal: 5, clustersOk: 4, clustersIncomplete: 0, clustersFailed: 1, tasksFetched: 90, rowsInserted: 10, rowsUpdated: 2 },
      ],
    },
    daily,
    logicalClusters: { rows: [{ ...ref(1), logicalClusterName: text(600), succeeded: 4, failed: 2 }], total: 7 },
    durations: [
      { taskType: text(100), tasks: 20, min: 5, p25: 60, p50: 300, p75: 900, p95: 3000, max: 7200 },
      { taskType: 'Expand', tasks: 4, min: 0, p25: 10, p50: 20, p75: 30, p95: 40, max: 50 },
    ],
    timeline: {
      activeClusters: clusters + (options.othersDays ? 500 : 0),
      rows,
      others: options.othersDays ? Array.from({ length: 14 }, (_, i) => ({ day: day(i), tasks: 40 + i, failed: i, running: 1 })) : [],
    },
    running: { rows: [{ ...logged(0), startRaw: text(700), runningSeconds: 90_000, clusterLastExportAt: at(19, 0) }], total: 30 },
    failures: { rows: [{ ...logged(1), end: at(3, 2), durationSeconds: 3600 }], total: 1 },
  };
}
