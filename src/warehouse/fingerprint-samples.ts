/**
 * Sample tasks, one per shape the transform and the COPY encoding handle: what
 * the exporter writes for them is folded into every fingerprint (fingerprint.ts).
 * A change to how tasks become rows must show here; add a sample for a new shape.
 */
import type { RawTask } from '../source/task-page.js';

interface Sample {
  readonly task: RawTask;
  readonly zone: string;
}

const base = {
  type: 'Expand',
  logical_cluster_name: 'lc_sales',
  start_time: '2023-06-15 08:00:00',
  end_time: '2023-06-15 08:05:30',
  result: 'success',
  log: 'expanded by 2 nodes',
} as const;

const tasks: readonly RawTask[] = [
  base,
  { ...base, end_time: '', result: '' },
  { ...base, end_time: null, result: null, log: null },
  { type: 'Grow', logical_cluster_name: 'lc', start_time: '2023-06-15 08:00:00' },
  { ...base, end_time: '   ' },
  { ...base, log: 'tab\there\nnew line\r\\back\\slash \\N 扩容成功' },
  { ...base, log: 'nul\u0000inside', logical_cluster_name: 'l\u0000c' },
  { ...base, type: 5, result: true, log: { step: 1, ok: [true, null] } },
  { ...base, extra_field: 'kept', nested: { x: [1, 'y'] }, __proto__x: 'z' },
  { ...base, type: null, logical_cluster_name: undefined, note: 'nul\u0000inside' },
  { ...base, start_time: '2023-06-15T08:00:00', end_time: '2023-06-15t08:05:30.5' },
  { ...base, start_time: '2023-06-15 08:00:00.123456789', end_time: '2023-06-15 08:00:01.1234565' },
  { ...base, start_time: '2023-06-15 08:00:00Z', end_time: '2023-06-15 08:05:30+08' },
  { ...base, start_time: '2023-06-15 08:00:00+0800', end_time: '2023-06-15 08:05:30-03:30' },
  { ...base, start_time: ' 2023-06-15 08:00:00 ', end_time: '2023-06-15 08:05:30+15:59' },
  { ...base, start_time: '2023-02-30 10:00:00', end_time: 'yesterday' },
  { ...base, start_time: '', end_time: '2023-06-15 24:00:00' },
  { ...base, start_time: undefined },
  { ...base, end_time: '2023-06-15 07:00:00' },
  { ...base, start_time: '0001-01-01 00:00:00', end_time: '9999-12-31 23:59:59' },
  { ...base, start_time: '1969-12-31 23:59:59.999999', end_time: '1970-01-01 00:00:00.000001' },
];

/** DST edges and a zone east of UTC: the offsets the zone rules give. */
const zoned: readonly Sample[] = [
  { task: { ...base, start_time: '2023-10-29 02:30:00', end_time: '2023-03-26 02:30:00' }, zone: 'Europe/Berlin' },
  { task: base, zone: 'Asia/Shanghai' },
  { task: { ...base, start_time: '2023-11-05 01:30:00' }, zone: 'America/New_York' },
];

export const FORMAT_SAMPLES: readonly Sample[] = [...tasks.map((task) => ({ task, zone: 'UTC' })), ...zoned];
