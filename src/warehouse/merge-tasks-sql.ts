/**
 * The one statement that writes a batch, whichever way it arrived (COPY into
 * a staging table, or unnest of parameter arrays), and returns each cluster's
 * counters for the ledger (batch-ledger.ts). `$1` is the run id.
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

const KEY = columnList(KEY_COLUMNS);

/**
 * The batch's merge. It deduplicates by task identity and writes in key order
 * (consistent lock order: concurrent runs cannot deadlock), and skips rows
 * stored exactly so already by reading them by primary key first: ON
 * CONFLICT DO UPDATE locks every conflicting row even when its WHERE then
 * declines the update, a write (WAL and a dirty page) per unchanged task.
 */
export function mergeTasksSql(staged: string): string {
  return `
WITH staged AS (
    SELECT DISTINCT ON (${KEY}) *
      FROM (${staged}) AS s
     ORDER BY ${KEY}
), changed AS (
    -- LIMIT 1 keeps the lookup a per-row primary-key probe: the staging
    -- table has no statistics, and a hash join would scan the whole table.
    SELECT s.*
      FROM staged s
      LEFT JOIN LATERAL (
          SELECT ${columnList([...COMPARED_COLUMNS, FINGERPRINT])}
            FROM ${TASKS_TABLE} c
           WHERE ${KEY_COLUMNS.map((column) => `c.${column} = s.${column}`).join(' AND ')}
           LIMIT 1
      ) AS stored ON true
     WHERE stored.project_id IS NULL
        OR ${rowOf([...COMPARED_COLUMNS, FINGERPRINT], 'stored')} IS DISTINCT FROM ${rowOf([...COMPARED_COLUMNS, FINGERPRINT], 's')}
     ORDER BY ${columnList(KEY_COLUMNS, 's')}
), upserted AS (
    ${indent(upsertTasksSql('changed'), '    ')}
    RETURNING t.cluster_id, (t.xmax = 0) AS inserted, (t.last_run_id = $1) AS changed
), written AS (
    SELECT cluster_id,
           count(*) FILTER (WHERE inserted)                 AS inserted,
           count(*) FILTER (WHERE NOT inserted AND changed) AS updated
      FROM upserted GROUP BY cluster_id
), batch AS (
    SELECT cluster_id,
           count(*)                                              AS fetched,
           count(*) FILTER (WHERE cardinality(parse_issues) > 0) AS flagged
      FROM staged GROUP BY cluster_id
), counts AS (
    SELECT b.cluster_id, b.fetched, b.flagged,
           coalesce(w.inserted, 0) AS inserted,
           coalesce(w.updated, 0)  AS updated,
           b.fetched - coalesce(w.inserted, 0) - coalesce(w.updated, 0) AS unchanged
      FROM batch b LEFT JOIN written w USING (cluster_id)
)
SELECT cluster_id, fetched::int, flagged::int, inserted::int, updated::int, unchanged::int FROM counts`;
}
