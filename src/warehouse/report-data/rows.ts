/**
 * The rows report-sql.ts returns (as node-postgres types them: timestamptz
 * as Date, int and float8 as number, float8[] as number[]), and their
 * mapping to the report's model.
 */
import {
  RESULT_CLASSES,
  type AttentionCluster,
  type ClusterRef,
  type DurationStats,
  type FailedTask,
  type ResultClass,
  type RunningTask,
  type TimelineTask,
} from './model.js';

export interface WindowRow {
  readonly first_day: string;
  readonly last_day: string;
  readonly window_start: Date;
  readonly window_end: Date;
  readonly generated_at: Date;
  readonly latest_task_start: Date | null;
}

export interface FleetStatusRow {
  readonly status: string;
  readonly bucket: string;
  readonly clusters: number;
}

interface ClusterRow {
  readonly project_id: string;
  readonly cluster_id: string;
  readonly cluster_name: string | null;
}

/** Queries with a LIMIT also count every row there is. */
interface Counted {
  readonly total: number;
}

/** ATTENTION_SQL's rows: the model's fields, and the total. */
export type AttentionRow = AttentionCluster & Counted;

interface ResultCounts {
  readonly succeeded: number;
  readonly failed: number;
  readonly running: number;
  readonly other: number;
}

export interface DailyRow extends ResultCounts {
  readonly day: string;
  readonly task_type: string;
}

export interface LogicalClusterRow extends ClusterRow, Counted {
  readonly logical_cluster_name: string;
  readonly succeeded: number;
  readonly failed: number;
}

export interface DurationRow {
  readonly task_type: string;
  readonly tasks: number;
  readonly min: number;
  readonly quartiles: readonly number[];
  readonly max: number;
}

export interface ActiveClusterRow extends ClusterRow {
  readonly tasks: number;
  readonly failed: number;
  readonly running: number;
}

export interface TimelineTaskRow {
  readonly cluster_id: string;
  readonly logical_cluster_name: string;
  readonly task_type: string;
  readonly start_time: Date;
  readonly end_time: Date | null;
  readonly result_class: string;
}

export interface OthersDailyRow {
  readonly day: string;
  readonly tasks: number;
  readonly failed: number;
  readonly running: number;
}

interface TaskWithLogRow extends ClusterRow, Counted {
  readonly logical_cluster_name: string;
  readonly task_type: string;
  readonly start_time: Date | null;
  readonly log: string | null;
  readonly log_length: number;
}

export interface RunningRow extends TaskWithLogRow {
  readonly start_time_raw: string;
  readonly running_seconds: number | null;
  readonly cluster_last_export_at: Date | null;
}

export interface FailureRow extends TaskWithLogRow {
  readonly end_time: Date | null;
  readonly duration_seconds: number | null;
}

export function toClusterRef(r: ClusterRow): ClusterRef {
  return { projectId: r.project_id, clusterId: r.cluster_id, clusterName: r.cluster_name };
}

function resultClass(value: string): ResultClass {
  return RESULT_CLASSES.find((c) => c === value) ?? 'other';
}

export function toTimelineTask(r: TimelineTaskRow): TimelineTask {
  return {
    logicalClusterName: r.logical_cluster_name,
    taskType: r.task_type,
    start: r.start_time,
    end: r.end_time,
    resultClass: resultClass(r.result_class),
  };
}

function taskWithLog(r: TaskWithLogRow): Omit<RunningTask, 'startRaw' | 'runningSeconds' | 'clusterLastExportAt'> {
  return {
    ...toClusterRef(r),
    logicalClusterName: r.logical_cluster_name,
    taskType: r.task_type,
    start: r.start_time,
    log: r.log,
    logLength: r.log_length,
  };
}

export function toRunningTask(r: RunningRow): RunningTask {
  return {
    ...taskWithLog(r),
    startRaw: r.start_time_raw,
    runningSeconds: r.running_seconds,
    clusterLastExportAt: r.cluster_last_export_at,
  };
}

export function toFailedTask(r: FailureRow): FailedTask {
  return { ...taskWithLog(r), end: r.end_time, durationSeconds: r.duration_seconds };
}

export function toDurationStats(r: DurationRow): DurationStats {
  const [p25 = r.min, p50 = r.min, p75 = r.max, p95 = r.max] = r.quartiles;
  return { taskType: r.task_type, tasks: r.tasks, min: r.min, p25, p50, p75, p95, max: r.max };
}
