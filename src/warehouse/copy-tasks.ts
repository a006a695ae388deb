/**
 * The fast load path: COPY the batch into a session-local staging table
 * (pg-copy-streams, large chunks), then one statement merges it into
 * dws.logical_cluster_tasks and adds each cluster's counters to the ledger.
 * The merge deduplicates (DISTINCT ON the natural key) and writes rows in key
 * order, so concurrent runs lock rows in the same order and cannot deadlock.
 */
import { once } from 'node:events';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { TaskRow } from '../transform/task-row.js';
import { mergeTasksSql, readBatchCounts, type BatchCountsRow, type ClusterBatchCounts } from './merge-tasks-sql.js';

export const STAGE_TABLE = 'dws_stage_tasks';

/** The staging table: the batch's columns, session-local, emptied at commit. */
export function createStageSql(table: string): string {
  return `
CREATE TEMP TABLE IF NOT EXISTS ${table} (
    project_id           text        NOT NULL,
    cluster_id           text        NOT NULL,
    logical_cluster_name text        NOT NULL,
    task_type            text        NOT NULL,
    start_time_raw       text        NOT NULL,
    start_time           timestamptz,
    end_time_raw         text,
    end_time             timestamptz,
    duration_seconds     double precision,
    is_running           boolean     NOT NULL,
    result               text,
    log                  text,
    parse_issues         text[]      NOT NULL,
    extra                jsonb
) ON COMMIT DELETE ROWS`;
}

const CREATE_STAGE_SQL = createStageSql(STAGE_TABLE);

const COPY_SQL = `COPY ${STAGE_TABLE} FROM STDIN`;

export const MERGE_STAGE_SQL = mergeTasksSql(
  `SELECT * FROM ${STAGE_TABLE}`,
);

const staged = new WeakSet<pg.ClientBase>();

/**
 * The batch as COPY text, in chunks of ~1,000 rows (a few hundred KB per
 * write, far from one write per row). Built before the transaction opens, so
 * the database never waits inside it for the exporter's CPU.
 */
export function encodeCopy(rows: readonly TaskRow[]): string[] {
  const chunks: string[] = [];
  for (let i = 0; i < rows.length; i += COPY_CHUNK_ROWS) {
    let chunk = '';
    const end = Math.min(rows.length, i + COPY_CHUNK_ROWS);
    for (let j = i; j < end; j++) chunk += copyLine(rows[j] as TaskRow);
    chunks.push(chunk);
  }
  return chunks;
}

/** Inside the caller's transaction; `chunks` from encodeCopy. */
export async function copyAndMerge(
  client: pg.ClientBase,
  chunks: readonly string[],
  runId: number,
): Promise<ClusterBatchCounts[]> {
  if (!staged.has(client)) {
    await client.query(CREATE_STAGE_SQL);
    staged.add(client);
  }
  const stream = client.query(copyFrom(COPY_SQL));
  for (const chunk of chunks) {
    if (!stream.write(chunk)) await once(stream, 'drain');
  }
  stream.end();
  await once(stream, 'finish');
  const result = await client.query<BatchCountsRow>(MERGE_STAGE_SQL, [runId]);
  return readBatchCounts(result.rows);
}

const COPY_CHUNK_ROWS = 1000;

/** One row in COPY text format: tab-separated, \N for null, backslash escapes. */
export function copyLine(row: TaskRow): string {
  // Concatenation, not an array and join: this runs once per task.
  return (
    `${text(row.projectId)}\t${text(row.clusterId)}\t${text(row.logicalClusterName)}\t` +
    `${text(row.taskType)}\t${text(row.startTimeRaw)}\t` +
    `${row.startTime === null ? '\\N' : row.startTime.toISOString()}\t` +
    `${row.endTimeRaw === null ? '\\N' : text(row.endTimeRaw)}\t` +
    `${row.endTime === null ? '\\N' : row.endTime.toISOString()}\t` +
    `${row.durationSeconds === null ? '\\N' : String(row.durationSeconds)}\t` +
    `${row.isRunning ? 't' : 'f'}\t` +
    `${row.result === null ? '\\N' : text(row.result)}\t` +
    `${row.log === null ? '\\N' : text(row.log)}\t` +
    `${row.issues.length === 0 ? '{}' : text(arrayLiteral(row.issues))}\t` +
    `${row.extra === null ? '\\N' : text(JSON.stringify(row.extra))}\n`
  );
}

const COPY_SPECIAL = /[\\\t\n\r]/;

function text(value: string): string {
  if (!COPY_SPECIAL.test(value)) return value;
  return value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

function arrayLiteral(items: readonly string[]): string {
  return `{${items.map((item) => `"${item.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(',')}}`;
}
