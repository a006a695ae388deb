/**
 * The fallback load path, for databases where the job may not create
 * temporary tables (so COPY has nowhere to stage), and the faster one for
 * tiny batches: the same merge fed by unnest() of one text array per column,
 * cast in SQL, so each value goes through the same input conversion as COPY.
 */
import type pg from 'pg';
import type { WrittenRow } from './batch-ledger.js';
import { decodeCopyText } from './copy-text.js';
import { mergeTasksSql } from './merge-tasks-sql.js';
import { COLUMN_NAMES, TASK_COLUMNS, columnList } from './task-columns.js';

// $1 is the run id; the columns follow as $2, $3, …
const CAST_COLUMNS = TASK_COLUMNS.map((c) => (c.type === 'text' ? `u.${c.name}` : `u.${c.name}::${c.type} AS ${c.name}`));
const ARRAY_PARAMS = TASK_COLUMNS.map((_, i) => `$${i + 2}::text[]`);

export const UNNEST_MERGE_SQL = mergeTasksSql(`
    SELECT ${CAST_COLUMNS.join(', ')}
      FROM unnest(${ARRAY_PARAMS.join(', ')}) AS u(${columnList(COLUMN_NAMES)})`);

/** Inside the caller's transaction; `copyText`: the batch's rows as COPY text (copy-text.ts). */
export async function unnestAndMerge(
  client: pg.ClientBase,
  copyText: string,
  runId: number,
): Promise<WrittenRow[]> {
  return (await client.query<WrittenRow>(UNNEST_MERGE_SQL, [runId, ...decodeCopyText(copyText)])).rows;
}
