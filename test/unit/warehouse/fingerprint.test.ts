/**
 * Task fingerprints: deterministic, 53-bit, different for tasks that differ in
 * any field (the case that matters: a task whose end time, result or log
 * changed), and different for another project or time zone, which change
 * the rows the exporter writes.
 */
import { describe, expect, it } from 'vitest';
import type { RawTask } from '../../../src/source/task-page.js';
import { fingerprintSeed, taskFingerprint, textFingerprint } from '../../../src/warehouse/fingerprint.js';
import { FORMAT_SAMPLES } from '../../../src/warehouse/fingerprint-samples.js';
import { isRunningTask, toTaskRow } from '../../../src/transform/task-row.js';

const TASK: RawTask = {
  type: 'Expand',
  logical_cluster_name: 'lc_sales',
  start_time: '2023-06-15 08:00:00',
  end_time: '2023-06-15 08:05:30',
  result: 'success',
  log: 'expanded by 2 nodes 扩容',
};
const CONTEXT = { projectId: 'p-1', clusterId: 'c-1', sourceTimeZone: 'UTC' };
const SEED = fingerprintSeed(CONTEXT);

describe('taskFingerprint', () => {
  it('is a non-negative safe integer, the same for the same task however its keys are ordered', () => {
    const fingerprint = taskFingerprint(TASK, SEED);
    expect(Number.isSafeInteger(fingerprint) && fingerprint >= 0 && fingerprint < 2 ** 53).toBe(true);
    const reordered = Object.fromEntries(Object.entries(TASK).reverse());
    expect(taskFingerprint(reordered, SEED)).toBe(fingerprint);
    expect(taskFingerprint(JSON.parse(JSON.stringify(TASK)) as RawTask, fingerprintSeed({ ...CONTEXT }))).toBe(fingerprint);
  });

  it('differs for every one-character change of every field, for a field moved into another, and for null, absent or extra fields', () => {
    const variants: RawTask[] = [TASK];
    for (const [field, value] of Object.entries(TASK)) {
      const text = String(value);
      for (let i = 0; i < text.length; i++) variants.push({ ...TASK, [field]: `${text.slice(0, i)}#${text.slice(i + 1)}` });
      variants.push({ ...TASK, [field]: null }, { ...TASK, [field]: undefined }, { ...TASK, [field]: '' });
    }
    variants.push(
      { ...TASK, result: 'successexpanded by 2 nodes 扩容', log: '' },
      { ...TASK, extra: 'x' },
      { ...TASK, result: 1 },
      { ...TASK, result: '1' },
    );
    expect(new Set(variants.map((task) => taskFingerprint(task, SEED))).size).toBe(variants.length);
  });

  it('has no collision among 200,000 tasks that differ in a counter', () => {
    const seen = new Set<number>();
    for (let n = 0; n < 200_000; n++) seen.add(taskFingerprint({ ...TASK, log: `attempt ${n}` }, SEED));
    expect(seen.size).toBe(200_000);
  });

  it('depends on the project and the source time zone, which the rows depend on, not on the cluster', () => {
    const other = [
      fingerprintSeed({ ...CONTEXT, projectId: 'p-2' }),
      fingerprintSeed({ ...CONTEXT, sourceTimeZone: 'Asia/Shanghai' }),
    ].map((seed) => taskFingerprint(TASK, seed));
    expect(new Set([taskFingerprint(TASK, SEED), ...other]).size).toBe(3);
    expect(fingerprintSeed({ ...CONTEXT, clusterId: 'c-2' })).toBe(SEED);
  });
});

describe('the sample tasks folded into every fingerprint', () => {
  it('are turned into rows without an error, and isRunningTask agrees with the row on each', () => {
    for (const { task, zone } of FORMAT_SAMPLES) {
      expect(isRunningTask(task)).toBe(toTaskRow(task, { ...CONTEXT, sourceTimeZone: zone }).isRunning);
    }
  });

  it('cover each parse issue the transform can name, so a change to any of them changes the signature', () => {
    const issues = new Set(FORMAT_SAMPLES.flatMap(({ task, zone }) => toTaskRow(task, { ...CONTEXT, sourceTimeZone: zone }).issues));
    expect([...issues].sort()).toEqual(
      expect.arrayContaining([
        'end_before_start',
        'end_time_unparsable',
        'extra_nul_escaped',
        'log_not_string',
        'logical_cluster_name_nul_escaped',
        'log_nul_escaped',
        'result_not_string',
        'start_time_missing',
        'start_time_unparsable',
        'type_missing',
        'logical_cluster_name_missing',
        'type_not_string',
      ]),
    );
  });
});

describe('textFingerprint', () => {
  it('tells apart texts that differ only in length or in an odd last character', () => {
    expect(textFingerprint('ab')).not.toBe(textFingerprint('abc'));
    expect(textFingerprint('abc')).not.toBe(textFingerprint('abd'));
    expect(textFingerprint('a\u0000')).not.toBe(textFingerprint('a'));
  });
});
