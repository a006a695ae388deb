/**
 * API time strings → epoch microseconds (timestamptz's resolution). The
 * documented `YYYY-MM-DD HH:mm:ss` is the fast path; `T`, 1–9 fraction digits
 * and `Z`/`±hh`/`±hhmm`/`±hh:mm` (winning over the configured zone) are read
 * exactly; anything else is refused, never guessed. Zone rules: luxon, cached.
 */
import { IANAZone } from 'luxon';

/** Whole microseconds since 1970-01-01T00:00:00Z. */
export type EpochMicros = number;

const HOUR_MS = 3_600_000;
const HOUR_SECONDS = 3600;
/** Everything after the 19 characters of the documented shape. */
const SUFFIX = /^(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d\d)(?::?(\d\d))?)?$/;
// PostgreSQL refuses larger offsets ("time zone displacement out of range").
const MAX_OFFSET_HOURS = 15;
// Date.UTC reads years 0–99 as 1900–1999; 400 Gregorian years are exactly 146,097 days.
const GREGORIAN_CYCLE_MS = 146_097 * 86_400_000;
// Instants of years 1–9999 UTC: what the ISO text written for COPY reads back as.
const FIRST_SECOND = (Date.UTC(401, 0, 1) - GREGORIAN_CYCLE_MS) / 1000;
const LAST_SECOND = Date.UTC(9999, 11, 31, 23, 59, 59) / 1000;

/** The instant `raw` names, or null when it is not one of the accepted shapes. */
export function parseApiTime(raw: string, zone: string): EpochMicros | null {
  if (raw.length === 19) {
    const wall = wallSeconds(raw);
    if (wall !== null) return inZone(wall, 0, zone);
  }
  const text = raw.trim();
  const wall = text.length >= 19 ? wallSeconds(text) : null;
  if (wall === null) return null;
  const suffix = text.length === 19 ? null : SUFFIX.exec(text.slice(19));
  if (text.length > 19 && suffix === null) return null;
  const fraction = suffix?.[1] === undefined ? 0 : fractionMicros(suffix[1]);
  if (suffix?.[2] !== undefined) return instant(wall, 0, fraction);
  if (suffix?.[3] === undefined) return inZone(wall, fraction, zone);
  const hours = Number(suffix[4]);
  const minutes = suffix[5] === undefined ? 0 : Number(suffix[5]);
  if (hours > MAX_OFFSET_HOURS || minutes > 59) return null;
  return instant(wall, (suffix[3] === '-' ? -1 : 1) * (hours * HOUR_SECONDS + minutes * 60), fraction);
}

/**
 * 1–9 fraction digits → microseconds as PostgreSQL computes them
 * (`rint(strtod(".ddd") * 1e6)`, half to even), so 7–9 digits round the
 * same way; may be 1,000,000 (carried into the next second).
 */
function fractionMicros(digits: string): number {
  const scaled = Number(`0.${digits}`) * 1e6;
  const rounded = Math.round(scaled);
  return rounded - scaled === 0.5 && rounded % 2 !== 0 ? rounded - 1 : rounded;
}

/** Wall time (seconds, as if UTC) minus its UTC offset, plus the fraction; null if not exact or out of range. */
function instant(wallSeconds: number, offsetSeconds: number, fraction: number): EpochMicros | null {
  const carry = fraction === 1e6 ? 1 : 0;
  const seconds = wallSeconds - offsetSeconds + carry;
  if (seconds < FIRST_SECOND || seconds > LAST_SECOND) return null;
  const subSecond = fraction - carry * 1e6;
  const micros = seconds * 1e6 + subSecond;
  // Whole seconds are exact at any year (multiples of 10^6 are multiples of 64);
  // a fraction only below 2^53 µs (years 1685–2255): refused rather than rounded.
  return subSecond === 0 || Number.isSafeInteger(micros) ? micros : null;
}

/** A zone-less wall time read in the configured zone. */
function inZone(wallSeconds: number, fraction: number, zoneName: string): EpochMicros | null {
  if (zoneName === 'UTC' || zoneName === 'Etc/UTC') return instant(wallSeconds, 0, fraction);
  const zone = zoneFor(zoneName);
  if (!zone.isValid) return null;
  const hourStart = wallSeconds - ((wallSeconds % HOUR_SECONDS) + HOUR_SECONDS) % HOUR_SECONDS;
  const offset = hourOffset(zoneName, zone, hourStart) ?? offsetOf(zone, wallSeconds).seconds;
  return instant(wallSeconds, offset, fraction);
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * The first 19 characters as `YYYY-MM-DD HH:mm:ss` (or `T`/`t` for the
 * space) → that wall-clock time as if it were UTC, in seconds; null for
 * anything else, including an impossible date (2023-02-30), year 0, hour 24
 * or second 60 (PostgreSQL rolls those over; a task time is not guessed).
 */
function wallSeconds(raw: string): number | null {
  const separator = raw.charCodeAt(10);
  if (
    raw.charCodeAt(4) !== DASH || raw.charCodeAt(7) !== DASH || raw.charCodeAt(13) !== COLON ||
    raw.charCodeAt(16) !== COLON || (separator !== SPACE && separator !== LETTER_T && separator !== LETTER_T_LOWER)
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
    year < 1 || month < 1 || month > 12 || day < 1 ||
    hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59
  ) {
    return null;
  }
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (DAYS_IN_MONTH[month - 1] as number) + (leap ? 1 : 0)) return null;
  const ms =
    year < 100
      ? Date.UTC(year + 400, month - 1, day, hour, minute, second) - GREGORIAN_CYCLE_MS
      : Date.UTC(year, month - 1, day, hour, minute, second);
  return ms / 1000;
}

const DASH = 0x2d;
const COLON = 0x3a;
const SPACE = 0x20;
const LETTER_T = 0x54;
const LETTER_T_LOWER = 0x74;
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
 * The UTC offset (whole seconds: LMT offsets have seconds) of a wall time in
 * `zone`, resolved the way PostgreSQL does so a row never depends on the date
 * the exporter runs: a repeated wall time (clocks going back) takes the
 * offset in force after the change, a skipped one (clocks going forward) the
 * offset in force before it. `exact` is false for those two.
 */
function offsetOf(zone: IANAZone, wallSeconds: number): { readonly seconds: number; readonly exact: boolean } {
  const wallMs = wallSeconds * 1000;
  // Within an hour or so of the true instant; no zone changes offset twice
  // within half a day, so the offsets six hours either side of it are the
  // ones before and after any change near this wall time.
  const approx = wallMs - zone.offset(wallMs) * 60_000;
  const before = zone.offset(approx - 6 * HOUR_MS);
  const after = zone.offset(approx + 6 * HOUR_MS);
  const beforeFits = zone.offset(wallMs - before * 60_000) === before;
  const afterFits = zone.offset(wallMs - after * 60_000) === after;
  const toSeconds = (minutes: number): number => Math.round(minutes * 60);
  if (beforeFits && afterFits) return { seconds: toSeconds(after), exact: before === after };
  if (afterFits) return { seconds: toSeconds(after), exact: true };
  return { seconds: toSeconds(before), exact: beforeFits };
}

/** Offset (seconds) shared by every wall time of a local hour; null when the hour has a change. */
const offsets = new Map<string, Map<number, number | null>>();
const MAX_CACHED_HOURS = 200_000;

function hourOffset(zoneName: string, zone: IANAZone, hourStart: number): number | null {
  let byHour = offsets.get(zoneName);
  if (!byHour) {
    byHour = new Map();
    offsets.set(zoneName, byHour);
  }
  const cached = byHour.get(hourStart);
  if (cached !== undefined) return cached;
  const start = offsetOf(zone, hourStart);
  const end = offsetOf(zone, hourStart + HOUR_SECONDS - 1);
  const offset = start.exact && end.exact && start.seconds === end.seconds ? start.seconds : null;
  if (byHour.size >= MAX_CACHED_HOURS) byHour.clear();
  byHour.set(hourStart, offset);
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
