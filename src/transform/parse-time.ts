/**
 * API time strings → instants. The API sends `YYYY-MM-DD HH:mm:ss` with no
 * zone (the zone is undocumented, so it is configured). luxon owns the zone
 * rules (its IANAZone reads them from Intl), but is asked once per zone and
 * local hour, not once per row: the common shape is matched by one regex and
 * turned into an instant with Date.UTC and the hour's cached UTC offset.
 *
 * Local times around DST changes are resolved the way PostgreSQL does, so a
 * row never depends on the date the exporter runs: a repeated wall time
 * (clocks going back) takes the offset in force after the change; a skipped
 * one (clocks going forward) takes the offset in force before it.
 */
import { DateTime, IANAZone } from 'luxon';

const API_SHAPE = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/;
const HOUR_MS = 3_600_000;

export type ParsedTime = { readonly ok: true; readonly instant: Date } | { readonly ok: false };

const INVALID: ParsedTime = { ok: false };

export function parseApiTime(raw: string, zone: string): ParsedTime {
  // The documented shape, read digit by digit: no regex, no substrings.
  const wallMs = raw.length === 19 ? wallClockMs(raw) : null;
  if (wallMs !== null) return fromWallMs(wallMs, zone);
  const trimmed = raw.trim();
  const match = API_SHAPE.exec(trimmed);
  if (match) return fromParts(match, zone);
  // Other shapes seen in the wild: ISO 8601 with or without offset/fraction.
  // luxon applies `zone` only when the string names no offset of its own.
  const iso = DateTime.fromISO(trimmed, { zone });
  return iso.isValid ? { ok: true, instant: iso.toJSDate() } : INVALID;
}

function fromParts(match: RegExpExecArray, zoneName: string): ParsedTime {
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  const hour = Number(match[4]);
  const minute = Number(match[5]);
  const second = Number(match[6]);
  // Date.UTC rolls 2023-02-30 over to March, and 24:00 to the next day: refuse instead.
  const wallMs = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(wallMs);
  if (
    year < 1 || hour > 23 || minute > 59 || second > 59 ||
    check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day
  ) {
    return INVALID;
  }
  return fromWallMs(wallMs, zoneName);
}

/** A wall-clock time (as if it were UTC) → the instant in `zoneName`. */
function fromWallMs(wallMs: number, zoneName: string): ParsedTime {
  if (zoneName === 'UTC' || zoneName === 'Etc/UTC') return { ok: true, instant: new Date(wallMs) };
  const zone = zoneFor(zoneName);
  if (!zone.isValid) return INVALID;
  const hourStart = wallMs - (wallMs % HOUR_MS + HOUR_MS) % HOUR_MS;
  const offset = hourOffset(zoneName, zone, hourStart);
  if (offset !== null) return { ok: true, instant: new Date(wallMs - offset * 60_000) };
  return { ok: true, instant: new Date(resolveLocal(zone, wallMs).instantMs) };
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * `YYYY-MM-DD HH:mm:ss` (or `T` between date and time) → its wall-clock
 * time as if it were UTC, in ms; null for anything else, including an
 * impossible date (2023-02-30), hour 24, or a year before 100 (left to the
 * general path, which treats those exactly as before).
 */
function wallClockMs(raw: string): number | null {
  if (
    raw.charCodeAt(4) !== DASH || raw.charCodeAt(7) !== DASH || raw.charCodeAt(13) !== COLON ||
    raw.charCodeAt(16) !== COLON || (raw.charCodeAt(10) !== SPACE && raw.charCodeAt(10) !== LETTER_T)
  ) {
    return null;
  }
  const year = digits(raw, 0, 4);
  const month = digits(raw, 5, 2);
  const day = digits(raw, 8, 2);
  const hour = digits(raw, 11, 2);
  const minute = digits(raw, 14, 2);
  const second = digits(raw, 17, 2);
  if (
    year < 100 || month < 1 || month > 12 || day < 1 ||
    hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59
  ) {
    return null;
  }
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (DAYS_IN_MONTH[month - 1] as number) + (leap ? 1 : 0)) return null;
  return Date.UTC(year, month - 1, day, hour, minute, second);
}

const DASH = 0x2d;
const COLON = 0x3a;
const SPACE = 0x20;
const LETTER_T = 0x54;
const ZERO = 0x30;

/** The number written by `length` ASCII digits at `start`; -1 if any is not a digit. */
function digits(raw: string, start: number, length: number): number {
  let value = 0;
  for (let i = start; i < start + length; i++) {
    const d = raw.charCodeAt(i) - ZERO;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}

/**
 * The instant of a wall-clock time (given as if it were UTC) in `zone`.
 * `exact` is false for a repeated or skipped wall time.
 */
export function resolveLocal(zone: IANAZone, wallMs: number): { readonly instantMs: number; readonly exact: boolean } {
  // Within an hour or so of the true instant; no zone changes offset twice
  // within half a day, so the offsets six hours either side of it are the
  // ones before and after any change near this wall time.
  const approx = wallMs - zone.offset(wallMs) * 60_000;
  const before = zone.offset(approx - 6 * HOUR_MS);
  const after = zone.offset(approx + 6 * HOUR_MS);
  const withBefore = wallMs - before * 60_000;
  const withAfter = wallMs - after * 60_000;
  const beforeFits = zone.offset(withBefore) === before;
  const afterFits = zone.offset(withAfter) === after;
  if (beforeFits && afterFits) return { instantMs: withAfter, exact: before === after };
  if (afterFits) return { instantMs: withAfter, exact: true };
  if (beforeFits) return { instantMs: withBefore, exact: true };
  return { instantMs: withBefore, exact: false };
}

/** Offset (minutes) shared by every wall time of a local hour; null when the hour has a change. */
const offsets = new Map<string, Map<number, number | null>>();
const MAX_CACHED_HOURS = 200_000;

function hourOffset(zoneName: string, zone: IANAZone, hourStartWallMs: number): number | null {
  let byHour = offsets.get(zoneName);
  if (!byHour) {
    byHour = new Map();
    offsets.set(zoneName, byHour);
  }
  const cached = byHour.get(hourStartWallMs);
  if (cached !== undefined) return cached;
  const start = resolveLocal(zone, hourStartWallMs);
  const end = resolveLocal(zone, hourStartWallMs + HOUR_MS - 1000);
  const startOffset = (hourStartWallMs - start.instantMs) / 60_000;
  const endOffset = (hourStartWallMs + HOUR_MS - 1000 - end.instantMs) / 60_000;
  const offset = start.exact && end.exact && startOffset === endOffset ? startOffset : null;
  if (byHour.size >= MAX_CACHED_HOURS) byHour.clear();
  byHour.set(hourStartWallMs, offset);
  return offset;
}

const zones = new Map<string, IANAZone>();

function zoneFor(name: string): IANAZone {
  let zone = zones.get(name);
  if (!zone) {
    zone = IANAZone.create(name);
    zones.set(name, zone);
  }
  return zone;
}
