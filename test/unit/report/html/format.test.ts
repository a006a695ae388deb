import { describe, expect, it } from 'vitest';
import { count, daysBetween, duration, excerpt, instant, label, percent, roundDuration } from '../../../../src/report/html/format.js';

describe('report formatting', () => {
  it('cuts long texts by code point, never inside an emoji, and counts what was left out of the stored text', () => {
    expect(excerpt('😀😀😀', 2)).toEqual({ text: '😀😀', omitted: 2 });
    expect(excerpt('short', 10)).toEqual({ text: 'short', omitted: 0 });
    // The warehouse sends 400 characters of a 500,000-character log.
    expect(excerpt('a'.repeat(400), 400, 500_000)).toEqual({ text: 'a'.repeat(400), omitted: 499_600 });
  });

  it('shortens a label to one line of at most n characters with an ellipsis', () => {
    expect(label('a\nb\t c', 10)).toBe('a b c');
    expect(label('x'.repeat(50), 10)).toBe(`${'x'.repeat(9)}…`);
  });

  it('writes durations for people: seconds, minutes, hours with minutes, days with hours', () => {
    expect([0, 42, 600, 3900, 90_061].map(duration)).toEqual(['0 s', '42 s', '10 min', '1 h 05 min', '1 d 1 h']);
    expect([10, 600, 21_600, 604_800].map(roundDuration)).toEqual(['10 s', '10 min', '6 h', '7 d']);
  });

  it('writes instants in the report zone', () => {
    const d = new Date('2025-06-17T16:30:00Z');
    expect(instant(d, 'UTC')).toBe('2025-06-17 16:30');
    expect(instant(d, 'Asia/Shanghai')).toBe('2025-06-18 00:30');
    expect(instant(null, 'UTC')).toBe('–');
  });

  it('lists every day of a window, across a month end', () => {
    expect(daysBetween('2025-01-30', '2025-02-02')).toEqual(['2025-01-30', '2025-01-31', '2025-02-01', '2025-02-02']);
  });

  it('writes counts with separators and shares with a dash when there is nothing to divide', () => {
    expect(count(1234567)).toBe('1,234,567');
    expect([percent(1, 3), percent(1, 40), percent(0, 0)]).toEqual(['33 %', '2.5 %', '–']);
  });
});
