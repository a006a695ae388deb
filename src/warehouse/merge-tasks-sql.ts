/**
 * The one statement that writes a batch, whichever way it arrived (COPY into
 * a staging table, or unnest of parameter arrays), and returns what it wrote
 * per cluster for the ledger (batch-ledger.ts). `$1` is the run id.
 */
import {
  COLUMN_NAMES, COMPARED_COLUMNS, FINGERPRINT_COLUMN as FINGERPRINT, KEY_COLUMNS, NATURAL_KEY_CONSTRAINT, TASKS_TABLE,
  columnList, rowOf,
} from './task-columns.js';

/**
 * INSERT … ON CONFLICT … DO UPDATE … WHERE IS DISTINCT FROM from `source`
 * (a relation with the task columns): a finished task updates in place, a
 * row another run stored meanwhile is still handled. A row whose columns are
 * equal but whose fingerprint is not (written before fingerprints existed)
 * gets its fingerprint and keeps its last_run_id, so RETURNING can tell an
 * update (last_run_id = $1) from that refresh. Shared with the benchmark's
 * DB bound, which must measure exactly this statement.
 */
export function upsertTasksSql(source: string): string {
  const changed = `${rowOf(COMPARED_COLUMNS, 't')} IS DISTINCT FROM ${rowOf(COMPARED_COLUMNS, 'EXCLUDED')}`;
  return `INSERT INTO ${TASKS_TABLE} AS t (
    ${columnList(COLUMN_NAMES)}, first_run_id, last_run_id)
SELECT ${columnList(COLUMN_NAMES)}, $1, $1
  FROM ${source}
ON CONFLICT ON CONSTRAINT ${NATURAL_KEY_CONSTRAINT} DO UPDATE SET
    ${[...COMPARED_COLUMNS, FINGERPRINT].map((column) => `${column} = EXCLUDED.${column}`).join(',\n    ')},
    last_seen_at = CASE WHEN ${changed} THEN now() ELSE t.last_seen_at END,
    last_run_id = CASE WHEN ${changed} THEN EXCLUDED.last_run_id ELSE t.last_run_id END
WHERE ${rowOf([...COMPARED_COLUMNS, FINGERPRINT], 't')}
      IS DISTINCT FROM
      ${rowOf([...COMPARED_COLUMNS, FINGERPRINT], 'EXCLUDED')}`;
}

function indent(text: string, prefix: string): string {
  return text.replace(/\n/g, `\n${prefix}`);
}

/**
 * The batch's merge: the rows the exporter found new or changed (unchanged
 * tasks never travel, see cluster-listing.ts), upserted in key order so that
 * concurrent runs lock rows in the same order and cannot deadlock. Returns,
 * per cluster, the rows inserted and the rows updated (a row another run
 * wrote identically meanwhile, or whose fingerprint was only missing, is
 * neither).
 */
export function mergeTasksSql(staged: string): string {
  return `
WITH upserted AS (
    ${indent(upsertTasksSql(`(${staged} ORDER BY ${columnList(KEY_COLUMNS)}) AS s`), '    ')}
    RETURNING t.cluster_id, (t.xmax = 0) AS inserted, (t.last_run_id = $1) AS changed
)
SELECT cluster_id,
       count(*) FILTER (WHERE inserted)::int                 AS inserted,
       count(*) FILTER (WHERE NOT inserted AND changed)::int AS updated
  FROM upserted
 GROUP BY cluster_id`;
}
