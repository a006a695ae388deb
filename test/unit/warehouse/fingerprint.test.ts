/**
 * rowFingerprint: deterministic, a safe integer, and different for rows that
 * differ in one character anywhere (the case that matters: a task whose
 * end time, result or log changed).
 */
import { describe, expect, it } from 'vitest';
import { rowFingerprint } from '../../../src/warehouse/fingerprint.js';

const LINE = 'p\tc-1\tlc_sales\tExpand\t2023-06-15 08:00:00\t2023-06-15T00:00:00.000Z\t\\N\t\\N\t\\N\tt\t\\N\texpanded 扩容\t{}\t\\N\n';

describe('rowFingerprint', () => {
  it('is a non-negative safe integer of at most 53 bits, the same for the same text', () => {
    const fingerprint = rowFingerprint(LINE);
    expect(Number.isSafeInteger(fingerprint) && fingerprint >= 0).toBe(true);
    expect(rowFingerprint(`${LINE}`)).toBe(fingerprint);
    expect(rowFingerprint('')).toBe(rowFingerprint(''));
  });

  it('differs for every one-character change at every position, and for 200,000 rows differing in a counter', () => {
    const texts = new Set<string>([LINE]);
    for (let i = 0; i < LINE.length; i++) {
      for (const replacement of ['x', '\t', '0', 'é']) texts.add(LINE.slice(0, i) + replacement + LINE.slice(i + 1));
    }
    expect(new Set([...texts].map(rowFingerprint)).size).toBe(texts.size);
    const many = new Set<number>();
    for (let n = 0; n < 200_000; n++) many.add(rowFingerprint(LINE.replace('expanded', `expanded ${n}`)));
    expect(many.size).toBe(200_000);
  });

  it('tells apart texts that differ only in length or in an odd last character', () => {
    expect(rowFingerprint('ab')).not.toBe(rowFingerprint('abc'));
    expect(rowFingerprint('abc')).not.toBe(rowFingerprint('abd'));
    expect(rowFingerprint('a\u0000')).not.toBe(rowFingerprint('a'));
  });
});
