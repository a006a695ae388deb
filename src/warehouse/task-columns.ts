/**
 * The columns the exporter writes to dws.logical_cluster_tasks, in COPY
 * order: the one list the staging table, the COPY column list, the unnest
 * casts and the upsert are derived from. migrations/ create the table; a test
 * checks that names and types here agree with it.
 */

export interface TaskColumn {
  readonly name: string;
  /** The column's SQL type, as format_type() spells it (the unnest path casts text to it). */
  readonly type: string;
  /**
   * `key`: identifies the task; `compared`: a change makes the stored row out
   * of date; `fingerprint`: a hash of the rest (fingerprint.ts).
   */
  readonly role: 'key' | 'compared' | 'fingerprint';
}

export const TASK_COLUMNS: readonly TaskColumn[] = [
  { name: 'project_id', type: 'text', role: 'compared' },
  { name: 'cluster_id', type: 'text', role: 'key' },
  { name: 'logical_cluster_name', type: 'text', role: 'key' },
  { name: 'task_type', type: 'text', role: 'key' },
  { name: 'start_time_raw', type: 'text', role: 'key' },
  { name: 'start_time', type: 'timestamp with time zone', role: 'compared' },
  { name: 'end_time_raw', type: 'text', role: 'compared' },
  { name: 'end_time', type: 'timestamp with time zone', role: 'compared' },
  { name: 'duration_seconds', type: 'double precision', role: 'compared' },
  { name: 'is_running', type: 'boolean', role: 'compared' },
  { name: 'result', type: 'text', role: 'compared' },
  { name: 'log', type: 'text', role: 'compared' },
  { name: 'parse_issues', type: 'text[]', role: 'compared' },
  { name: 'extra', type: 'jsonb', role: 'compared' },
  // Not part of a row's COPY text (copy-text.ts): added once the task's identity is known.
  { name: 'occurrence', type: 'integer', role: 'key' },
  { name: 'row_fingerprint', type: 'bigint', role: 'fingerprint' },
];

export const TASKS_TABLE = 'dws.logical_cluster_tasks';
export const NATURAL_KEY_CONSTRAINT = 'logical_cluster_tasks_natural_key';

export const COLUMN_NAMES: readonly string[] = TASK_COLUMNS.map((c) => c.name);
/** The task's identity, natural key and occurrence, in the primary key's column order (and so in lock order). */
export const KEY_COLUMNS: readonly string[] = TASK_COLUMNS.filter((c) => c.role === 'key').map((c) => c.name);
export const COMPARED_COLUMNS: readonly string[] = TASK_COLUMNS.filter((c) => c.role === 'compared').map((c) => c.name);
export const OCCURRENCE_COLUMN = 'occurrence';
export const FINGERPRINT_COLUMN = 'row_fingerprint';
/** A new task's line, COPYed straight into the table: the task columns and its first and last run. */
export const NEW_ROW_COLUMNS: readonly string[] = [...COLUMN_NAMES, 'first_run_id', 'last_run_id'];

/** The columns of a row's own COPY text (copyLine): all but the two appended once its identity is known. */
export const ROW_COLUMNS: readonly string[] = COLUMN_NAMES.filter(
  (name) => name !== OCCURRENCE_COLUMN && name !== FINGERPRINT_COLUMN,
);

/** `a.x, a.y, …` (or `x, y, …` without an alias). */
export function columnList(columns: readonly string[], alias?: string): string {
  return columns.map((column) => (alias ? `${alias}.${column}` : column)).join(', ');
}

/** `(a.x, a.y, …)`: a row value, for IS DISTINCT FROM. */
export function rowOf(columns: readonly string[], alias: string): string {
  return `(${columnList(columns, alias)})`;
}
