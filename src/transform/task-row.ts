/**
 * One API task → one warehouse row. Never throws: whatever cannot be read is
 * stored as null and named in `issues`, so a task with a bad field is still
 * counted and visible instead of being dropped.
 */
import type { RawTask } from '../source/task-page.js';
import { parseApiTime, type EpochMicros } from './parse-time.js';

export interface TaskRow {
  readonly projectId: string;
  readonly clusterId: string;
  /** Natural key part; '' when the API sent none. */
  readonly logicalClusterName: string;
  readonly taskType: string;
  readonly startTimeRaw: string;
  /** Microsecond instants: PostgreSQL keeps microseconds, a Date only milliseconds. */
  readonly startTime: EpochMicros | null;
  readonly endTimeRaw: string | null;
  readonly endTime: EpochMicros | null;
  readonly durationSeconds: number | null;
  readonly result: string | null;
  readonly log: string | null;
  readonly isRunning: boolean;
  readonly issues: readonly string[];
  /** Fields the API sent beyond the documented six, kept verbatim. */
  readonly extra: Readonly<Record<string, unknown>> | null;
}

export interface RowContext {
  readonly projectId: string;
  readonly clusterId: string;
  readonly sourceTimeZone: string;
}

const KNOWN_FIELDS = new Set(['type', 'logical_cluster_name', 'start_time', 'end_time', 'result', 'log']);
const NO_ISSUES: readonly string[] = Object.freeze([]);
const NUL = '\u0000';
/**
 * Between the parts of a natural key. Also the field separator of the stored
 * tasks' one-value-per-cluster read (warehouse/stored-tasks.ts), whose first
 * three fields are then a stored task's key as it stands.
 */
export const KEY_SEPARATOR = '\u001f';

/**
 * The natural key within one cluster. The API has no task id; a task is
 * identified by where it ran, what it was, and the exact start string it
 * reported (raw, so changing `sourceTimeZone` never duplicates rows).
 */
export function naturalKey(row: Pick<TaskRow, 'logicalClusterName' | 'taskType' | 'startTimeRaw'>): string {
  return joinKey(row.logicalClusterName, row.taskType, row.startTimeRaw);
}

/**
 * The parts joined by KEY_SEPARATOR; when a part holds that character itself,
 * the parts as JSON, which escapes it: a key of the first kind has exactly two
 * raw separators, one of the second none, so no two part triples share a key.
 * join(), not a template: keys live as long as their cluster's walk, and a
 * concatenated string stays a rope until something flattens it.
 */
function joinKey(name: string, type: string, start: string): string {
  if (name.includes(KEY_SEPARATOR) || type.includes(KEY_SEPARATOR) || start.includes(KEY_SEPARATOR)) {
    return JSON.stringify([name, type, start]);
  }
  return [name, type, start].join(KEY_SEPARATOR);
}

/** The natural key straight from an API task, without building the row. */
export function rawTaskKey(task: RawTask): string {
  const { logical_cluster_name: name, type, start_time: start } = task;
  // The common case, without the per-field bookkeeping: three strings the row stores as they are.
  if (
    typeof name === 'string' && typeof type === 'string' && typeof start === 'string' &&
    !name.includes(NUL) && !type.includes(NUL) && !start.includes(NUL)
  ) {
    return joinKey(name, type, start);
  }
  const scratch: string[] = [];
  return naturalKey({
    logicalClusterName: readText(task.logical_cluster_name, 'logical_cluster_name', scratch) ?? '',
    taskType: readText(task.type, 'type', scratch) ?? '',
    startTimeRaw: readText(task.start_time, 'start_time', scratch) ?? '',
  });
}

/** toTaskRow(task).isRunning, without building the row: no end time, or only spaces. */
export function isRunningTask(task: RawTask): boolean {
  const end = task.end_time;
  return end === null || end === undefined || (typeof end === 'string' && end.trim() === '');
}

export function toTaskRow(task: RawTask, context: RowContext): TaskRow {
  const issues: string[] = [];
  const text = (field: string): string | null => readText(task[field], field, issues);

  const logicalClusterName = text('logical_cluster_name');
  const taskType = text('type');
  const startTimeRaw = text('start_time');
  const endTimeRaw = text('end_time');
  if (logicalClusterName === null) issues.push('logical_cluster_name_missing');
  if (taskType === null) issues.push('type_missing');
  if (startTimeRaw === null || startTimeRaw === '') issues.push('start_time_missing');

  const startTime = startTimeRaw ? parseApiTime(startTimeRaw, context.sourceTimeZone) : null;
  if (startTimeRaw && startTime === null) issues.push('start_time_unparsable');
  const isRunning = endTimeRaw === null || endTimeRaw.trim() === '';
  const endTime = isRunning ? null : parseApiTime(endTimeRaw, context.sourceTimeZone);
  if (!isRunning && endTime === null) issues.push('end_time_unparsable');

  let durationSeconds: number | null = null;
  if (startTime !== null && endTime !== null) {
    // An exact difference of whole microseconds, then the nearest double.
    const seconds = (endTime - startTime) / 1e6;
    if (seconds < 0) issues.push('end_before_start');
    else durationSeconds = seconds;
  }

  return {
    projectId: context.projectId,
    clusterId: context.clusterId,
    logicalClusterName: logicalClusterName ?? '',
    taskType: taskType ?? '',
    startTimeRaw: startTimeRaw ?? '',
    startTime,
    endTimeRaw,
    endTime,
    durationSeconds,
    result: text('result'),
    log: text('log'),
    isRunning,
    extra: extraFields(task, issues),
    issues: issues.length === 0 ? NO_ISSUES : [...new Set(issues)],
  };
}

function readText(value: unknown, field: string, issues: string[]): string | null {
  if (value === null || value === undefined) return null;
  let textValue: string;
  if (typeof value === 'string') {
    textValue = value;
  } else {
    issues.push(`${field}_not_string`);
    textValue = typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
  return escapeNul(textValue, field, issues);
}

/**
 * PostgreSQL text cannot hold U+0000. It is stored as the six characters
 * `\u0000` and the row is flagged, so nothing is dropped and a reader can tell.
 */
function escapeNul(value: string, field: string, issues: string[]): string {
  if (!value.includes('\u0000')) return value;
  issues.push(`${field}_nul_escaped`);
  return value.replaceAll('\u0000', '\\u0000');
}

function extraFields(task: RawTask, issues: string[]): Record<string, unknown> | null {
  // Most tasks carry only the documented fields: find that out without allocating.
  let unknown = false;
  for (const key in task) {
    if (!KNOWN_FIELDS.has(key)) {
      unknown = true;
      break;
    }
  }
  if (!unknown) return null;
  const entries = Object.entries(task)
    .filter(([key]) => !KNOWN_FIELDS.has(key))
    .map(([key, value]): [string, unknown] => [escapeNul(key, 'extra', issues), scrubNul(value, issues)]);
  // fromEntries defines own properties: a field named "__proto__" is kept as data.
  return entries.length === 0 ? null : Object.fromEntries(entries);
}

function scrubNul(value: unknown, issues: string[]): unknown {
  if (typeof value === 'string') return escapeNul(value, 'extra', issues);
  if (Array.isArray(value)) return value.map((item) => scrubNul(item, issues));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [escapeNul(k, 'extra', issues), scrubNul(v, issues)]),
    );
  }
  return value;
}
