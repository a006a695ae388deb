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
import { COPY_COLUMNS } from './copy-text.js';
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

const COPY_SQL = `COPY ${STAGE_TABLE} (${COPY_COLUMNS.join(', ')}) FROM STDIN`;

export const MERGE_STAGE_SQL = mergeTasksSql(
  `SELECT * FROM ${STAGE_TABLE}`,
);

const staged = new WeakSet<pg.ClientBase>();

/** Inside the caller's transaction; `chunks`: COPY text (copy-text.ts) as UTF-8, a few hundred KB each. */
export async function copyAndMerge(
  client: pg.ClientBase,
  chunks: readonly Buffer[],
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
