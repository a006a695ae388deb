/**
 * A task's fingerprint: a 53-bit hash of the task as the API sent it, seeded
 * with how this exporter reads it (project, time zone, and the rows it writes
 * for sample tasks), stored with the row so a later export can tell an
 * unchanged task before building its row, and never send it.
 */
import type { RawTask } from '../source/task-page.js';
import { toTaskRow, type RowContext } from '../transform/task-row.js';
import { copyLine } from './copy-text.js';
import { FORMAT_SAMPLES } from './fingerprint-samples.js';

// Two independent 32-bit lanes (FNV-style multiply, murmur3 finish): a
// collision only delays an update until the task changes again, and is ~1 in 2^53.
let laneA = 0;
let laneB = 0;

function mix(value: number): void {
  laneA = Math.imul(laneA ^ value, 0x01000193);
  laneB = Math.imul(laneB ^ value, 0x5bd1e995) ^ (laneB >>> 13);
}

/** Four chars per loop step, every pair into both lanes, then the length: fields cannot run into each other. */
function mixText(text: string): void {
  const n = text.length;
  let a = laneA;
  let b = laneB;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    const p0 = text.charCodeAt(i) | (text.charCodeAt(i + 1) << 16);
    const p1 = text.charCodeAt(i + 2) | (text.charCodeAt(i + 3) << 16);
    a = Math.imul(Math.imul(a ^ p0, 0x01000193) ^ p1, 0x01000193);
    b = Math.imul(b ^ p0, 0x5bd1e995) ^ (b >>> 13);
    b = Math.imul(b ^ p1, 0x5bd1e995) ^ (b >>> 13);
  }
  laneA = a;
  laneB = b;
  for (; i < n; i++) mix(text.charCodeAt(i));
  mix(0x10000 | n);
}

function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
}

function start(seed: number): void {
  laneA = 0x811c9dc5 ^ seed;
  laneB = 0x9e3779b9 ^ Math.imul(seed, 0x27d4eb2f);
}

function finish(): number {
  return (fmix32(laneA) >>> 0) * 0x200000 + ((fmix32(laneB) >>> 0) & 0x1fffff);
}

/** A 53-bit hash of `text`. */
export function textFingerprint(text: string, seed = 0): number {
  start(seed);
  mixText(text);
  return finish();
}

const KNOWN = new Set(['type', 'logical_cluster_name', 'start_time', 'end_time', 'result', 'log']);

/** One documented field: a string, or absent/null (told apart); false for anything else. */
function mixField(value: unknown): boolean {
  if (typeof value === 'string') mixText(value);
  else if (value === undefined || value === null) mix(value === null ? 0x20001 : 0x20002);
  else return false;
  return true;
}

/** The documented fields in a fixed order (read by name: this runs once per task); anything else through JSON. */
export function taskFingerprint(task: RawTask, seed: number): number {
  start(seed);
  const plain =
    mixField(task.type) && mixField(task.logical_cluster_name) && mixField(task.start_time) &&
    mixField(task.end_time) && mixField(task.result) && mixField(task.log);
  if (!plain) return oddTaskFingerprint(task, seed);
  for (const key in task) if (!KNOWN.has(key)) return oddTaskFingerprint(task, seed);
  return finish();
}

/** Extra fields or non-string values: the whole task as JSON (rare). */
function oddTaskFingerprint(task: RawTask, seed: number): number {
  start(seed ^ 0x5f3759df);
  mixText(JSON.stringify(task));
  return finish();
}

let formatSignature: number | undefined;

/**
 * What this exporter writes for the sample tasks, as one hash: it changes
 * whenever the transform or the COPY encoding would write them differently,
 * and with it every fingerprint, so an upgrade that changes rows re-checks
 * every stored task once (a sample covers each shape the transform handles).
 */
function rowFormatSignature(): number {
  formatSignature ??= textFingerprint(FORMAT_SAMPLES.map(({ task, zone }) =>
    copyLine(toTaskRow(task, { projectId: 'p', clusterId: 'c', sourceTimeZone: zone }))).join(''));
  return formatSignature;
}

/** The seed for one cluster's fingerprints: what else, beyond the task, its rows depend on. */
export function fingerprintSeed(context: RowContext): number {
  return textFingerprint(`${context.projectId}\u0000${context.sourceTimeZone}`, rowFormatSignature()) | 0;
}
