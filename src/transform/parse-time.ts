/**
 * API time strings → instants. The API sends `YYYY-MM-DD HH:mm:ss` with no
 * zone (the zone is undocumented, so it is configured). luxon owns the zone
 * rules, but is asked once per zone and local hour, not once per row: the
 * common shape is matched by one regex and turned into an instant with
 * Date.UTC and the hour's cached UTC offset. Hours in which the offset
 * changes (DST transitions) always go through luxon.
 */
import { DateTime, IANAZone } from 'luxon';

const API_SHAPE = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/;
// A marker means the string names its own offset; then the configured zone must not apply.
const HAS_OFFSET = /(Z|[+-]\d{2}(:?\d{2})?)$/i;

export type ParsedTime = { readonly ok: true; readonly instant: Date } | { readonly ok: false };

const INVALID: ParsedTime = { ok: false };

export function parseApiTime(raw: string, zone: string): ParsedTime {
  const match = API_SHAPE.exec(raw);
  if (match) return fromParts(match, zone);
  // Other shapes seen in the wild: ISO 8601 with or without offset/fraction.
  const trimmed = raw.trim();
  const iso = DateTime.fromISO(trimmed, HAS_OFFSET.test(trimmed) ? { setZone: true } : { zone });
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
  if (zoneName === 'UTC' || zoneName === 'Etc/UTC') return { ok: true, instant: check };
  const offsetMinutes = hourOffset(zoneName, year, month, day, hour);
  if (offsetMinutes !== null) return { ok: true, instant: new Date(wallMs - offsetMinutes * 60_000) };
  const local = DateTime.fromObject({ year, month, day, hour, minute, second }, { zone: zoneFor(zoneName) });
  return local.isValid ? { ok: true, instant: local.toJSDate() } : INVALID;
}

/** Offset of a whole local hour, or null when it changes within the hour. */
const offsets = new Map<string, Map<number, number | null>>();
const MAX_CACHED_HOURS = 200_000;

function hourOffset(zoneName: string, year: number, month: number, day: number, hour: number): number | null {
  let byHour = offsets.get(zoneName);
  if (!byHour) {
    byHour = new Map();
    offsets.set(zoneName, byHour);
  }
  const key = ((year * 100 + month) * 100 + day) * 100 + hour;
  const cached = byHour.get(key);
  if (cached !== undefined) return cached;
  const zone = zoneFor(zoneName);
  const start = DateTime.fromObject({ year, month, day, hour, minute: 0, second: 0 }, { zone });
  const end = DateTime.fromObject({ year, month, day, hour, minute: 59, second: 59 }, { zone });
  const stable =
    start.isValid && end.isValid && start.offset === end.offset && start.hour === hour && end.hour === hour &&
    // The hour before must not share wall times with this one (a repeated hour when clocks go back).
    zone.offset(start.toMillis() - 1) === start.offset;
  const offset = stable ? start.offset : null;
  if (byHour.size >= MAX_CACHED_HOURS) byHour.clear();
  byHour.set(key, offset);
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
