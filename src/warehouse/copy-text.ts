/**
 * Rows as PostgreSQL COPY text (tab-separated, `\N` for null, backslash
 * escapes), the form in which the writer queues them: a page's rows die young
 * and a queued page costs its text, not thousands of objects. The unnest path
 * decodes the text back into one text array per column.
 */
import type { EpochMicros } from '../transform/parse-time.js';
import type { TaskRow } from '../transform/task-row.js';
import { COLUMN_NAMES, ROW_COLUMNS } from './task-columns.js';

/** The columns of a row's own fields, in order (task-columns.ts); identityEnd() writes the rest. */
export const COPY_COLUMNS = ROW_COLUMNS;

/**
 * One row in COPY text format. `end` follows its own fields: a newline, or
 * the task's identity columns and the newline (identityEnd).
 */
export function copyLine(row: TaskRow, end = '\n'): string {
  // Concatenation, not an array and join: this runs once per task.
  return (
    `${text(row.projectId)}\t${text(row.clusterId)}\t${text(row.logicalClusterName)}\t` +
    `${text(row.taskType)}\t${text(row.startTimeRaw)}\t` +
    `${row.startTime === null ? '\\N' : isoInstant(row.startTime)}\t` +
    `${row.endTimeRaw === null ? '\\N' : text(row.endTimeRaw)}\t` +
    `${row.endTime === null ? '\\N' : isoInstant(row.endTime)}\t` +
    `${row.durationSeconds === null ? '\\N' : String(row.durationSeconds)}\t` +
    `${row.isRunning ? 't' : 'f'}\t` +
    `${row.result === null ? '\\N' : text(row.result)}\t` +
    `${row.log === null ? '\\N' : text(row.log)}\t` +
    `${row.issues.length === 0 ? '{}' : text(arrayLiteral(row.issues))}\t` +
    `${row.extra === null ? '\\N' : text(JSON.stringify(row.extra))}${end}`
  );
}

/**
 * The end of a complete line: the task's occurrence and fingerprint, then
 * `tail`: a newline, or for a new task runIdsEnd(run) (its first and last
 * run: the line goes straight into the table).
 */
export function identityEnd(occurrence: number, fingerprint: number, tail = '\n'): string {
  return `\t${occurrence}\t${fingerprintText(fingerprint)}${tail}`;
}

/**
 * String(fingerprint) for a whole number in [0, 2^53), written as two halves
 * below 10^8: V8 formats small integers several times faster than a double
 * above 2^31 (3% of a first load's profile). The division is exact enough:
 * within 10^-8 of an integer only when the low half is 0, where it is exact.
 */
export function fingerprintText(fingerprint: number): string {
  if (fingerprint < 1e8) return String(fingerprint);
  const high = Math.floor(fingerprint / 1e8);
  const low = fingerprint - high * 1e8;
  return `${high}${low < 1e7 ? String(low).padStart(8, '0') : low}`;
}

/** A new task's first and last run, ending its line (identityEnd's tail). */
export function runIdsEnd(runId: number): string {
  return `\t${runId}\t${runId}\n`;
}

/**
 * COPY text of identified lines → one array per column (task-columns.ts
 * order), each value the field's text or null: what `text[]` parameters of
 * the unnest path take.
 */
export function decodeCopyText(copyText: string): (string | null)[][] {
  const columns: (string | null)[][] = COLUMN_NAMES.map(() => []);
  let start = 0;
  while (start < copyText.length) {
    const end = copyText.indexOf('\n', start);
    const line = copyText.slice(start, end === -1 ? copyText.length : end);
    const fields = line.split('\t');
    if (fields.length !== COLUMN_NAMES.length) {
      // Only copyLine writes this text, so this is a bug, never bad input.
      throw new Error(`COPY line with ${fields.length} fields, expected ${COLUMN_NAMES.length}`);
    }
    for (let i = 0; i < fields.length; i++) (columns[i] as (string | null)[]).push(unescapeField(fields[i] as string));
    start = end === -1 ? copyText.length : end + 1;
  }
  return columns;
}

const DAY_MICROS = 86_400_000_000;
const PAD2 = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
const dayPrefixes = new Map<number, string>();

/**
 * `2023-06-15T08:30:45.123456Z`: toISOString's text with microseconds. The
 * date part is formatted once per day (tasks of one run fall on a few
 * hundred days), the rest with integer arithmetic, exact for every instant
 * parseApiTime returns (years 1–9999).
 */
export function isoInstant(micros: EpochMicros): string {
  // Exact: below 2^53 µs the quotient of 1 µs before midnight never rounds up
  // to the next day, and beyond 2^53 µs only whole seconds occur.
  const day = Math.floor(micros / DAY_MICROS);
  const inDay = micros - day * DAY_MICROS;
  let prefix = dayPrefixes.get(day);
  if (prefix === undefined) {
    prefix = new Date(day * 86_400_000).toISOString().slice(0, -13);
    if (dayPrefixes.size >= 100_000) dayPrefixes.clear();
    dayPrefixes.set(day, prefix);
  }
  const seconds = Math.floor(inDay / 1e6);
  const fraction = inDay - seconds * 1e6;
  return (
    `${prefix}${PAD2[Math.floor(seconds / 3600)] as string}:${PAD2[Math.floor(seconds / 60) % 60] as string}:` +
    `${PAD2[seconds % 60] as string}.${fraction === 0 ? '000000' : String(fraction).padStart(6, '0')}Z`
  );
}

const COPY_SPECIAL = /[\\\t\n\r]/;
const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const UNESCAPES: Readonly<Record<string, string>> = { '\\': '\\', t: '\t', n: '\n', r: '\r' };

function text(value: string): string {
  if (!COPY_SPECIAL.test(value)) return value;
  return value.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c] as string);
}

function unescapeField(field: string): string | null {
  if (field === '\\N') return null;
  if (!field.includes('\\')) return field;
  return field.replace(/\\([\\tnr])/g, (_, c: string) => UNESCAPES[c] as string);
}

function arrayLiteral(items: readonly string[]): string {
  return `{${items.map((item) => `"${item.replace(/["\\]/g, (c) => `\\${c}`)}"`).join(',')}}`;
}
