/** How numbers, durations, instants and long texts read on the page. */
import { DateTime } from 'luxon';

export function count(n: number): string {
  return n.toLocaleString('en-US');
}

export function percent(part: number, whole: number): string {
  if (whole === 0) return '–';
  const value = (100 * part) / whole;
  return `${value < 10 && value > 0 ? value.toFixed(1) : Math.round(value)} %`;
}

/** 42 s, 12 min, 1 h 05 min, 3 d 4 h. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
  return `${Math.floor(s / 86_400)} d ${Math.floor((s % 86_400) / 3600)} h`;
}

/** An axis tick: 10 s, 10 min, 6 h, 7 d. */
export function roundDuration(seconds: number): string {
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86_400) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86_400)} d`;
}

export function instant(date: Date | null, zone: string): string {
  return date === null ? '–' : DateTime.fromJSDate(date, { zone }).toFormat('yyyy-LL-dd HH:mm');
}

/** Midnight that starts `day` (YYYY-MM-DD) in `zone`, as epoch milliseconds. */
export function dayStartMs(day: string, zone: string): number {
  return DateTime.fromISO(day, { zone }).toMillis();
}

/** `Mon 01-06` for a YYYY-MM-DD day. */
export function shortDay(day: string): string {
  return DateTime.fromISO(day, { zone: 'UTC' }).toFormat('ccc LL-dd');
}

/** The days from `first` to `last` inclusive, as YYYY-MM-DD. */
export function daysBetween(first: string, last: string): string[] {
  const days: string[] = [];
  let day = DateTime.fromISO(first, { zone: 'UTC' });
  const end = DateTime.fromISO(last, { zone: 'UTC' });
  while (day <= end) {
    days.push(day.toISODate() ?? '');
    day = day.plus({ days: 1 });
  }
  return days;
}

export interface Excerpt {
  readonly text: string;
  /** Characters left out (of the full stored text). */
  readonly omitted: number;
}

/**
 * At most `max` characters (code points, so no emoji is cut in half), the
 * rest counted; `fullLength` is the stored length when `value` is already
 * an excerpt of it.
 */
export function excerpt(value: string, max: number, fullLength: number = value.length): Excerpt {
  const points = Array.from(value);
  if (points.length <= max && fullLength <= value.length) return { text: value, omitted: 0 };
  const kept = points.slice(0, max).join('');
  return { text: kept, omitted: Math.max(0, fullLength - kept.length) };
}

/** A name for one line: at most `max` characters, an ellipsis when cut. */
export function label(value: string, max: number): string {
  const points = Array.from(value.replace(/\s+/g, ' '));
  return points.length <= max ? points.join('') : `${points.slice(0, max - 1).join('')}…`;
}
