/**
 * The COPY paths (pg-copy-streams, large chunks): new tasks straight into the
 * tasks table, and changed ones into a session-local staging table, from
 * which one statement merges them (merge-tasks-sql.ts).
 */
import { once } from 'node:events';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { WrittenRow } from './batch-ledger.js';
import { mergeTasksSql } from './merge-tasks-sql.js';
import { COLUMN_NAMES, NEW_ROW_COLUMNS, TASKS_TABLE, columnList } from './task-columns.js';

export const STAGE_TABLE = 'dws_stage_tasks';

/** The staging table: the task columns with the tasks table's own types, session-local, emptied at commit. */
export function createStageSql(table: string): string {
  return `CREATE TEMP TABLE IF NOT EXISTS ${table} ON COMMIT DELETE ROWS AS
SELECT ${columnList(COLUMN_NAMES)} FROM ${TASKS_TABLE} WITH NO DATA`;
}

const CREATE_STAGE_SQL = createStageSql(STAGE_TABLE);

const COPY_SQL = `COPY ${STAGE_TABLE} (${columnList(COLUMN_NAMES)}) FROM STDIN`;

export const MERGE_STAGE_SQL = mergeTasksSql(`SELECT * FROM ${STAGE_TABLE}`);

const COPY_NEW_SQL = `COPY ${TASKS_TABLE} (${columnList(NEW_ROW_COLUMNS)}) FROM STDIN`;

const staged = new WeakSet<pg.ClientBase>();

async function copyIn(client: pg.ClientBase, sql: string, chunks: readonly Buffer[]): Promise<void> {
  const stream = client.query(copyFrom(sql));
  for (const chunk of chunks) {
    if (!stream.write(chunk)) await once(stream, 'drain');
  }
  stream.end();
  await once(stream, 'finish');
}

/**
 * New tasks' lines (with their run ids) COPYed into the tasks table itself:
 * no staging, no conflict probe. A task another run stored meanwhile fails it
 * with unique_violation; the caller then merges instead.
 */
export function copyNewRows(client: pg.ClientBase, chunks: readonly Buffer[]): Promise<void> {
  return copyIn(client, COPY_NEW_SQL, chunks);
}

/** Inside the caller's transaction; `chunks`: COPY text (copy-text.ts) as UTF-8, a few hundred KB each. */
export async function copyAndMerge(
  client: pg.ClientBase,
  chunks: readonly Buffer[],
  runId: number,
): Promise<WrittenRow[]> {
  if (!staged.has(client)) {
    await client.query(CREATE_STAGE_SQL);
    staged.add(client);
  }
  await copyIn(client, COPY_SQL, chunks);
  return (await client.query<WrittenRow>(MERGE_STAGE_SQL, [runId])).rows;
}
