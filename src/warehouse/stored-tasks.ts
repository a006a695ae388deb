/**
 * What is stored of one cluster, read with one indexed query when its export
 * starts: each task's identity, fingerprint, and whether it was running or
 * flagged, for the identity rule (transform/task-identity.ts).
 */
import type pg from 'pg';
import type { StoredTask, StoredTasks } from '../transform/task-identity.js';
import { KEY_SEPARATOR, naturalKey } from '../transform/task-row.js';

// The key's own separator: a record's first three fields are the task's key as they stand.
const FIELD = KEY_SEPARATOR;
const RECORD = '\u001e';

/** A separator as a PostgreSQL escape-string literal, so the SQL and the parser below cannot drift apart. */
function sqlChar(char: string): string {
  return `E'\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}'`;
}

/**
 * The stored tasks of the clusters in `clusterIds` (a text[] parameter): one
 * text value per cluster, one result row to parse instead of one per task
 * (half the exporter's CPU for this read). Flags: occurrence * 4 + running *
 * 2 + flagged. By the primary key's leading column: an index scan per cluster.
 */
export function storedTasksSql(clusterIds: string): string {
  return `
SELECT cluster_id,
       string_agg(concat_ws(${sqlChar(FIELD)}, logical_cluster_name, task_type, start_time_raw, coalesce(row_fingerprint::text, ''),
                            occurrence * 4 + is_running::int * 2 + (cardinality(parse_issues) > 0)::int), ${sqlChar(RECORD)})
  FROM dws.logical_cluster_tasks
 WHERE cluster_id = ANY (${clusterIds})
 GROUP BY cluster_id`;
}

// Row by row, for a cluster whose key texts contain the separators above.
const STORED_ROWS_SQL = `
SELECT logical_cluster_name, task_type, start_time_raw, row_fingerprint,
       occurrence * 4 + is_running::int * 2 + (cardinality(parse_issues) > 0)::int
  FROM dws.logical_cluster_tasks
 WHERE cluster_id = $1`;

type StoredFields = [string, string, string, string | null, number];

function storedTask([logicalClusterName, taskType, startTimeRaw, fingerprint, flags]: StoredFields): StoredTask {
  return {
    key: naturalKey({ logicalClusterName, taskType, startTimeRaw }),
    occurrence: Math.floor(flags / 4),
    fingerprint: fingerprint === null || fingerprint === '' ? null : Number(fingerprint),
    running: (flags & 2) !== 0,
    flagged: (flags & 1) !== 0,
  };
}

/**
 * Each cluster's stored tasks from storedTasksSql's rows, in the order of
 * `clusterIds`. Read lazily from the text as the identity rule takes them:
 * until its walk starts, an opened cluster holds one string, not an object
 * per task.
 */
export function storedTasksOf(
  pool: pg.Pool,
  clusterIds: readonly string[],
  rows: readonly (readonly [string, string])[],
): Promise<StoredTasks[]> {
  const byCluster = new Map(rows);
  return Promise.all(
    clusterIds.map(async (id): Promise<StoredTasks> => {
      const text = byCluster.get(id);
      if (text === undefined) return [];
      const size = recordCount(text);
      return size === null ? readRowByRow(pool, id) : { size, [Symbol.iterator]: () => storedInText(text) };
    }),
  );
}

/** The number of records, each of exactly its five fields; null if a key text holds a separator. */
function recordCount(text: string): number | null {
  let start = 0;
  for (let records = 1; ; records++) {
    const end = text.indexOf(RECORD, start);
    const stop = end === -1 ? text.length : end;
    let fields = 1;
    for (let at = text.indexOf(FIELD, start); at !== -1 && at < stop; at = text.indexOf(FIELD, at + 1)) fields += 1;
    if (fields !== 5) return null;
    if (end === -1) return records;
    start = end + 1;
  }
}

/**
 * The records as StoredTasks, each key one slice of the text (its first three
 * fields), the numbers read in place: a cluster's keys then hold one string
 * between them, not a thousand, for scavenges to copy while its walk lasts.
 */
function* storedInText(text: string): Generator<StoredTask> {
  let start = 0;
  while (start <= text.length) {
    const end = text.indexOf(RECORD, start);
    const stop = end === -1 ? text.length : end;
    const c = text.indexOf(FIELD, text.indexOf(FIELD, text.indexOf(FIELD, start) + 1) + 1);
    const d = text.indexOf(FIELD, c + 1);
    const flags = digits(text, d + 1, stop);
    yield {
      key: text.slice(start, c),
      occurrence: Math.floor(flags / 4),
      fingerprint: c + 1 === d ? null : digits(text, c + 1, d),
      running: (flags & 2) !== 0,
      flagged: (flags & 1) !== 0,
    };
    if (end === -1) return;
    start = end + 1;
  }
}

/**
 * The non-negative integer written in text[from, to): PostgreSQL's text of an
 * int or of a fingerprint (a bigint under 2^53, exact in a double). NaN for
 * anything else (a fingerprint edited by hand): it matches no task, which is
 * then written again.
 */
function digits(text: string, from: number, to: number): number {
  let value = 0;
  for (let i = from; i < to; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return NaN;
    value = value * 10 + digit;
  }
  return value;
}

async function readRowByRow(pool: pg.Pool, clusterId: string): Promise<StoredTask[]> {
  const result = await pool.query<StoredFields>({ text: STORED_ROWS_SQL, values: [clusterId], rowMode: 'array' });
  return result.rows.map(storedTask);
}
