/**
 * What the HTML report shows, as typed data: read from the warehouse by
 * read-report-data.ts, rendered by src/report/html (which never runs SQL).
 * Every list is already bounded here, so a fleet of any size renders a page
 * of bounded size; `...Total` fields say how much was left out.
 */
import type { RunTotals } from '../../core/run-outcome.js';

/** Which days the report covers. */
export interface ReportOptions {
  /** Days in the window, 1..366, ending with `until`. */
  readonly days: number;
  /** The window's last day: `today`, `latest` (the day of the latest task start), or `YYYY-MM-DD`. */
  readonly until: string;
  /** IANA zone that days and times are shown in (PostgreSQL's session TimeZone while reading). */
  readonly timeZone: string;
}

export const REPORT_DEFAULTS: ReportOptions = { days: 14, until: 'today', timeZone: 'UTC' };
export const REPORT_DAYS_MAX = 366;

/** The classes every chart colours by: `result` is an open set, anything unknown is `other`. */
export const RESULT_CLASSES = ['success', 'failed', 'running', 'other'] as const;
export type ResultClass = (typeof RESULT_CLASSES)[number];

/** Clusters drawn one per row in the timeline; the rest share one aggregated row. */
export const TIMELINE_CLUSTER_ROWS = 40;
/** Task bars drawn per timeline row (most recent first); the rest are counted. */
export const TIMELINE_TASKS_PER_CLUSTER = 200;
export const RUNNING_TASKS_SHOWN = 25;
export const FAILURES_SHOWN = 20;
export const ATTENTION_SHOWN = 20;
export const LOGICAL_CLUSTERS_SHOWN = 15;
export const LATEST_RUNS_SHOWN = 10;
/** Characters of a task log carried into the page; the full length is reported. */
export const LOG_EXCERPT_CHARS = 400;

export interface ReportWindow {
  readonly days: number;
  /** `YYYY-MM-DD` in `timeZone`, inclusive. */
  readonly firstDay: string;
  readonly lastDay: string;
  readonly start: Date;
  /** Exclusive: midnight after `lastDay`. */
  readonly end: Date;
  readonly timeZone: string;
  readonly generatedAt: Date;
  /** The latest task start in the warehouse (not in the future); null when there is none. */
  readonly latestTaskStart: Date | null;
}

export interface ClusterRef {
  readonly projectId: string;
  readonly clusterId: string;
  /** From dws.clusters; null when the cluster was never listed. */
  readonly clusterName: string | null;
}

/** A row of dws.export_runs, with the totals the ledger writes (RunTotals). */
export interface RunRow
  extends Pick<RunTotals, 'clustersOk' | 'clustersIncomplete' | 'clustersFailed' | 'tasksFetched' | 'rowsInserted' | 'rowsUpdated'> {
  readonly runId: number;
  readonly status: string;
  readonly startedAt: Date;
  readonly finishedAt: Date | null;
  readonly clustersTotal: number;
}

/** Staleness of a cluster's latest complete export, as v_export_health's staleness_seconds buckets it. */
export const STALENESS_BUCKETS = ['under 26 h', '26 h to 2 days', '2 to 7 days', 'over 7 days', 'never complete'] as const;
export type StalenessBucket = (typeof STALENESS_BUCKETS)[number];

export interface AttentionCluster extends ClusterRef {
  readonly lastAttemptStatus: string;
  readonly lastAttemptAt: Date;
  readonly lastSuccessAt: Date | null;
  readonly stalenessSeconds: number | null;
  readonly failuresSinceSuccess: number;
  readonly lastErrorCode: string | null;
  readonly lastErrorMessage: string | null;
}

export interface FleetHealth {
  /** Clusters ever exported (rows of dws.v_export_health). */
  readonly clusters: number;
  readonly byLastAttempt: readonly { readonly status: string; readonly clusters: number }[];
  readonly byStaleness: readonly { readonly bucket: StalenessBucket; readonly clusters: number }[];
  /** Latest attempt not succeeded, or stale (>= 26 h), or never complete: worst first. */
  readonly attention: readonly AttentionCluster[];
  readonly attentionTotal: number;
  readonly latestRuns: readonly RunRow[];
}

/** Tasks that started on one day, of one type, by result class. */
export interface DailyCount {
  readonly day: string;
  readonly taskType: string;
  readonly succeeded: number;
  readonly failed: number;
  readonly running: number;
  readonly other: number;
}

export interface LogicalClusterFailures extends ClusterRef {
  readonly logicalClusterName: string;
  readonly succeeded: number;
  readonly failed: number;
}

/** Durations (seconds) of the finished tasks of one type that started in the window. */
export interface DurationStats {
  readonly taskType: string;
  readonly tasks: number;
  readonly min: number;
  readonly p25: number;
  readonly p50: number;
  readonly p75: number;
  readonly p95: number;
  readonly max: number;
}

export interface TimelineTask {
  readonly logicalClusterName: string;
  readonly taskType: string;
  readonly start: Date;
  /** null while running (or if the end could not be read). */
  readonly end: Date | null;
  readonly resultClass: ResultClass;
}

export interface TimelineCluster extends ClusterRef {
  /** Tasks in or overlapping the window. */
  readonly tasks: number;
  readonly failed: number;
  readonly running: number;
  /** At most TIMELINE_TASKS_PER_CLUSTER, most recent first. */
  readonly drawn: readonly TimelineTask[];
}

export interface OthersDay {
  readonly day: string;
  readonly tasks: number;
  readonly failed: number;
  readonly running: number;
}

export interface Timeline {
  /** Clusters with tasks in or overlapping the window. */
  readonly activeClusters: number;
  /** The busiest TIMELINE_CLUSTER_ROWS: most failed, then running, then tasks. */
  readonly rows: readonly TimelineCluster[];
  /** The other active clusters, per day; empty when every active cluster has a row. */
  readonly others: readonly OthersDay[];
}

export interface TaskWithLog extends ClusterRef {
  readonly logicalClusterName: string;
  readonly taskType: string;
  readonly start: Date | null;
  /** At most LOG_EXCERPT_CHARS characters; `logLength` is the stored length. */
  readonly log: string | null;
  readonly logLength: number;
}

export interface RunningTask extends TaskWithLog {
  readonly startRaw: string;
  readonly runningSeconds: number | null;
  readonly clusterLastExportAt: Date | null;
}

export interface FailedTask extends TaskWithLog {
  readonly end: Date | null;
  readonly durationSeconds: number | null;
}

export interface Listed<T> {
  readonly rows: readonly T[];
  /** Rows there are in all (rows shows the first). */
  readonly total: number;
}

export interface ReportData {
  readonly window: ReportWindow;
  readonly fleet: FleetHealth;
  readonly daily: readonly DailyCount[];
  readonly logicalClusters: Listed<LogicalClusterFailures>;
  readonly durations: readonly DurationStats[];
  readonly timeline: Timeline;
  readonly running: Listed<RunningTask>;
  readonly failures: Listed<FailedTask>;
}
