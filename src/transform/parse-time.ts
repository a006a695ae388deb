/**
 * API time strings → instants. The API sends `YYYY-MM-DD HH:mm:ss` with no
 * zone (the zone is undocumented, so it is configured). luxon owns the zone
 * rules; the common shape is matched by one regex and, for UTC, built with
 * Date.UTC, so the hot path never builds a DateTime per row.
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
  const iso = DateTime.fromISO(raw.trim(), HAS_OFFSET.test(raw.trim()) ? { setZone: true } : { zone });
  return iso.isValid ? { ok: true, instant: iso.toJSDate() } : INVALID;
}

function fromParts(match: RegExpExecArray, zone: string): ParsedTime {
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [
    number, number, number, number, number, number,
  ];
  if (zone === 'UTC' || zone === 'Etc/UTC') {
    const ms = Date.UTC(year, month - 1, day, hour, minute, second);
    const back = new Date(ms);
    // Date.UTC rolls 2023-02-30 over to March: refuse instead.
    const exact =
      back.getUTCFullYear() === year && back.getUTCMonth() === month - 1 && back.getUTCDate() === day &&
      hour < 24 && minute < 60 && second < 60 && year > 0;
    return exact ? { ok: true, instant: back } : INVALID;
  }
  const local = DateTime.fromObject({ year, month, day, hour, minute, second }, { zone: zoneFor(zone) });
  return local.isValid ? { ok: true, instant: local.toJSDate() } : INVALID;
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
