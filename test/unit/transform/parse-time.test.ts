/**
 * parseApiTime: the API's zone-less `YYYY-MM-DD HH:mm:ss` read in the
 * configured zone, the SQL/ISO shapes (fraction, offset) read exactly to the
 * microsecond, everything else refused (never rolled over into another day).
 * The cheap path (digits + Date.UTC + a per-hour offset cache) is checked
 * against luxon, which owns the zone rules; test/integration/parse-time-postgres
 * checks every shape against PostgreSQL's own timestamptz input.
 */
import { seededRandom } from '../../../src/simulator/random.js';
import { DateTime, Settings } from 'luxon';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseApiTime } from '../../../src/transform/parse-time.js';

/** The instant as ISO 8601 UTC with microseconds, or null when refused: one value to compare. */
function iso(raw: string, zone: string): string | null {
  const micros = parseApiTime(raw, zone);
  return micros === null ? null : isoMicros(micros);
}

/** What toISOString would write if Date kept microseconds. */
function isoMicros(micros: number): string {
  const ms = Math.floor(micros / 1000);
  return `${new Date(ms).toISOString().slice(0, 19)}.${String(micros - Math.floor(micros / 1e6) * 1e6).padStart(6, '0')}Z`;
}

/** luxon's instant (ms) in the same form. */
function isoMs(date: Date): string {
  return isoMicros(date.getTime() * 1000);
}


const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

describe('the API shape YYYY-MM-DD HH:mm:ss', () => {
  it('is read as UTC when the zone is UTC or Etc/UTC', () => {
    expect(iso('2023-06-15 08:30:45', 'UTC')).toBe('2023-06-15T08:30:45.000000Z');
    expect(iso('2023-06-15 08:30:45', 'Etc/UTC')).toBe('2023-06-15T08:30:45.000000Z');
  });

  it('is read in the configured zone: Asia/Shanghai is UTC+8 all year', () => {
    expect(iso('2023-06-15 08:30:45', 'Asia/Shanghai')).toBe('2023-06-15T00:30:45.000000Z');
    expect(iso('2023-01-01 00:00:00', 'Asia/Shanghai')).toBe('2022-12-31T16:00:00.000000Z');
  });

  it('is read with the offset in force on that date in a DST zone (Europe/Berlin: +01 winter, +02 summer)', () => {
    expect(iso('2023-01-15 12:00:00', 'Europe/Berlin')).toBe('2023-01-15T11:00:00.000000Z');
    expect(iso('2023-07-15 12:00:00', 'Europe/Berlin')).toBe('2023-07-15T10:00:00.000000Z');
  });

  it('is read exactly on both sides of the spring-forward gap (Europe/Berlin, 2023-03-26 02:00 → 03:00)', () => {
    expect(iso('2023-03-26 01:59:59', 'Europe/Berlin')).toBe('2023-03-26T00:59:59.000000Z');
    expect(iso('2023-03-26 03:00:00', 'Europe/Berlin')).toBe('2023-03-26T01:00:00.000000Z');
  });

  it('reads a nonexistent local time (inside the spring-forward gap) shifted forward by the gap, as luxon does', () => {
    // 02:30 does not exist in Berlin on 2023-03-26; luxon moves it to 03:30 CEST = 01:30Z.
    expect(iso('2023-03-26 02:30:00', 'Europe/Berlin')).toBe('2023-03-26T01:30:00.000000Z');
    expect(iso('2023-03-26 02:00:00', 'Europe/Berlin')).toBe('2023-03-26T01:00:00.000000Z');
    expect(iso('2023-03-26 02:59:59', 'Europe/Berlin')).toBe('2023-03-26T01:59:59.000000Z');
  });

  it('is read exactly on both sides of the fall-back overlap (Europe/Berlin, 2023-10-29 03:00 → 02:00)', () => {
    expect(iso('2023-10-29 01:59:59', 'Europe/Berlin')).toBe('2023-10-28T23:59:59.000000Z');
    expect(iso('2023-10-29 03:00:00', 'Europe/Berlin')).toBe('2023-10-29T02:00:00.000000Z');
  });

  it('reads an ambiguous local time (the repeated hour) as one of its two instants, whichever luxon picks', () => {
    // 02:30 happens twice in Berlin on 2023-10-29: 00:30Z (CEST) and 01:30Z (CET).
    // Which one luxon picks depends on the zone's offset at the *current* time
    // (DateTime.fromObject guesses with zone.offset(Settings.now())): see the
    // next describe block.
    expect(['2023-10-29T00:30:00.000000Z', '2023-10-29T01:30:00.000000Z']).toContain(
      iso('2023-10-29 02:30:00', 'Europe/Berlin'),
    );
  });

  it('accepts a T separator the same way as a space', () => {
    expect(iso('2023-06-15T08:30:45', 'UTC')).toBe('2023-06-15T08:30:45.000000Z');
    expect(iso('2023-06-15T08:30:45', 'Asia/Shanghai')).toBe('2023-06-15T00:30:45.000000Z');
  });

  it('accepts the first and last second of a day, and 29 February in a leap year', () => {
    expect(iso('2023-12-31 23:59:59', 'UTC')).toBe('2023-12-31T23:59:59.000000Z');
    expect(iso('2024-01-01 00:00:00', 'UTC')).toBe('2024-01-01T00:00:00.000000Z');
    expect(iso('2024-02-29 12:00:00', 'UTC')).toBe('2024-02-29T12:00:00.000000Z');
    expect(iso('2000-02-29 12:00:00', 'Asia/Shanghai')).toBe('2000-02-29T04:00:00.000000Z');
  });

  it('reads years below 100 as written, never as 19xx (Date.UTC maps years 0–99 to 1900–1999)', () => {
    expect(iso('0050-01-01 00:00:00', 'UTC')).toBe('0050-01-01T00:00:00.000000Z');
    expect(iso('0099-12-31 23:59:59', 'UTC')).toBe('0099-12-31T23:59:59.000000Z');
    expect(iso('0001-01-01T00:00:00', 'UTC')).toBe('0001-01-01T00:00:00.000000Z');
  });
});

describe('ambiguous local times do not depend on the date the exporter runs', () => {
  afterEach(() => {
    Settings.now = () => Date.now();
    vi.resetModules();
  });

  /** parseApiTime from a fresh module (empty offset cache) with luxon's clock pinned to `now`. */
  async function parseAt(now: string, raw: string, zone: string): Promise<string | null> {
    Settings.now = () => Date.parse(now);
    vi.resetModules();
    const fresh = await import('../../../src/transform/parse-time.js');
    const micros = fresh.parseApiTime(raw, zone);
    return micros === null ? null : isoMicros(micros);
  }

  it('documents luxon: DateTime.fromObject resolves the repeated hour by the offset in force *now*', () => {
    const at = (now: string): string | null => {
      Settings.now = () => Date.parse(now);
      return DateTime.fromObject(
        { year: 2023, month: 10, day: 29, hour: 2, minute: 30 },
        { zone: 'Europe/Berlin' },
      ).toISO();
    };
    expect(at('2024-07-01T00:00:00Z')).toBe('2023-10-29T02:30:00.000+02:00'); // run in summer: CEST, first occurrence
    expect(at('2024-01-01T00:00:00Z')).toBe('2023-10-29T02:30:00.000+01:00'); // run in winter: CET, second occurrence
  });

  it('reads 2023-10-29 02:30:00 Europe/Berlin as the same instant in a summer run and a winter run', async () => {
    const summerRun = await parseAt('2024-07-01T00:00:00Z', '2023-10-29 02:30:00', 'Europe/Berlin');
    const winterRun = await parseAt('2024-01-01T00:00:00Z', '2023-10-29 02:30:00', 'Europe/Berlin');
    expect(summerRun).not.toBeNull();
    expect(winterRun).toBe(summerRun);
  });

  it('reads a nonexistent local time the same way in a summer run and a winter run', async () => {
    const summerRun = await parseAt('2024-07-01T00:00:00Z', '2023-03-26 02:30:00', 'Europe/Berlin');
    const winterRun = await parseAt('2024-01-01T00:00:00Z', '2023-03-26 02:30:00', 'Europe/Berlin');
    expect(summerRun).toBe('2023-03-26T01:30:00.000000Z');
    expect(winterRun).toBe(summerRun);
  });
});

describe('the SQL and ISO shapes servers send: space or T, 1–9 fraction digits, optional offset', () => {
  it('keeps fractional seconds to the microsecond, with a space as well as a T (issue 11: stored as NULL before)', () => {
    expect(iso('2023-06-05 01:58:43.123', 'UTC')).toBe('2023-06-05T01:58:43.123000Z');
    expect(iso('2023-06-05 01:58:43.123456', 'UTC')).toBe('2023-06-05T01:58:43.123456Z');
    expect(iso('2023-06-05T01:58:43.000001', 'UTC')).toBe('2023-06-05T01:58:43.000001Z');
    expect(iso('2023-06-05 01:58:43.5', 'Asia/Shanghai')).toBe('2023-06-04T17:58:43.500000Z');
    expect(iso('2023-06-05 01:58:43.0', 'UTC')).toBe('2023-06-05T01:58:43.000000Z');
  });

  it('rounds 7–9 fraction digits to the microsecond exactly as PostgreSQL does (half to even on the double)', () => {
    expect(iso('2023-06-05 01:58:43.1234564', 'UTC')).toBe('2023-06-05T01:58:43.123456Z');
    expect(iso('2023-06-05 01:58:43.123456789', 'UTC')).toBe('2023-06-05T01:58:43.123457Z');
    expect(iso('2023-06-05 01:58:43.0000005', 'UTC')).toBe('2023-06-05T01:58:43.000000Z');
    expect(iso('2023-06-05 01:58:43.0000015', 'UTC')).toBe('2023-06-05T01:58:43.000002Z');
  });

  it('carries a fraction that rounds up to a whole second into the next second, minute and day', () => {
    expect(iso('2023-06-05 01:58:43.9999995', 'UTC')).toBe('2023-06-05T01:58:44.000000Z');
    expect(iso('2023-12-31 23:59:59.9999999', 'UTC')).toBe('2024-01-01T00:00:00.000000Z');
    expect(iso('2023-06-05 23:59:59.999999999+08:00', 'UTC')).toBe('2023-06-05T16:00:00.000000Z');
  });

  it('reads Z (either case) as UTC whatever the configured zone', () => {
    expect(iso('2023-06-15T08:30:45Z', 'Asia/Shanghai')).toBe('2023-06-15T08:30:45.000000Z');
    expect(iso('2023-06-15T08:30:45z', 'Europe/Berlin')).toBe('2023-06-15T08:30:45.000000Z');
    expect(iso('2023-06-15 08:30:45.123456Z', 'Europe/Berlin')).toBe('2023-06-15T08:30:45.123456Z');
  });

  it('reads ±hh:mm, ±hhmm and ±hh with that offset, which wins over the configured zone', () => {
    expect(iso('2023-06-05 01:58:43+08:00', 'UTC')).toBe('2023-06-04T17:58:43.000000Z');
    expect(iso('2023-06-15T08:30:45-05:00', 'Asia/Shanghai')).toBe('2023-06-15T13:30:45.000000Z');
    expect(iso('2023-06-15T08:30:45+0800', 'Europe/Berlin')).toBe('2023-06-15T00:30:45.000000Z');
    expect(iso('2023-06-15 08:30:45+08', 'Europe/Berlin')).toBe('2023-06-15T00:30:45.000000Z');
    expect(iso('2023-06-15 08:30:45.123+05:30', 'America/New_York')).toBe('2023-06-15T03:00:45.123000Z');
    expect(iso('2023-06-15 08:30:45-00:00', 'Asia/Shanghai')).toBe('2023-06-15T08:30:45.000000Z');
  });

  it('accepts offsets up to ±15:59 (PostgreSQL\'s limit) and refuses larger ones', () => {
    expect(iso('2023-06-15 08:30:45+15:59', 'UTC')).toBe('2023-06-14T16:31:45.000000Z');
    expect(iso('2023-06-15 08:30:45-15:59', 'UTC')).toBe('2023-06-16T00:29:45.000000Z');
    expect(iso('2023-06-15 08:30:45+16:00', 'UTC')).toBeNull();
    expect(iso('2023-06-15 08:30:45+08:60', 'UTC')).toBeNull();
  });

  it('keeps the documented shape exact in a DST zone when a fraction is added', () => {
    // Berlin: +02 in summer; the repeated hour of 2023-10-29 takes the later (standard-time) reading.
    expect(iso('2023-07-15 12:00:00.654321', 'Europe/Berlin')).toBe('2023-07-15T10:00:00.654321Z');
    expect(iso('2023-10-29 02:30:00.5', 'Europe/Berlin')).toBe('2023-10-29T01:30:00.500000Z');
  });

  it('accepts surrounding whitespace, as PostgreSQL does', () => {
    expect(iso(' 2023-06-15 08:30:45 ', 'UTC')).toBe('2023-06-15T08:30:45.000000Z');
    expect(iso('  2023-06-15T08:30:45.25Z\n', 'UTC')).toBe('2023-06-15T08:30:45.250000Z');
  });

  it.each([
    ['ten fraction digits', '2023-06-05 01:58:43.1234567890'],
    ['a dot without digits', '2023-06-05 01:58:43.'],
    ['a space before the offset', '2023-06-05 01:58:43 +08:00'],
    ['a one-digit offset', '2023-06-05 01:58:43+8'],
    ['an offset with seconds', '2023-06-05 01:58:43+08:00:00'],
    ['a dangling colon', '2023-06-05 01:58:43+08:'],
    ['a zone name', '2023-06-05 01:58:43 Asia/Shanghai'],
    ['an abbreviation', '2023-06-05 01:58:43 CST'],
    ['no seconds', '2023-06-15T08:30'],
    ['a date alone', '2023-06-15'],
    ['ISO basic format', '20230615T083045Z'],
    ['an ISO week date', '2023-W24-4T08:30:45'],
    ['an ordinal date', '2023-166T08:30:45'],
    ['a fraction with a comma', '2023-06-05 01:58:43,123'],
    ['epoch milliseconds', '1685930323123'],
    ['epoch seconds with a fraction', '1685930323.123'],
  ])('refuses %s (%j) instead of guessing', (_label, raw) => {
    for (const zone of ['UTC', 'Asia/Shanghai']) expect(parseApiTime(raw, zone)).toBeNull();
  });

  it('refuses a fraction it cannot hold exactly (instants outside 1685–2255) but keeps whole seconds of any year', () => {
    expect(iso('9999-12-31 23:59:59', 'UTC')).toBe('9999-12-31T23:59:59.000000Z');
    expect(iso('1000-01-01 00:00:00', 'UTC')).toBe('1000-01-01T00:00:00.000000Z');
    expect(parseApiTime('9999-12-31 23:59:59.5', 'UTC')).toBeNull();
    expect(parseApiTime('1000-01-01 00:00:00.000001', 'UTC')).toBeNull();
  });

  it('refuses instants outside years 1–9999 UTC, which PostgreSQL could not read back from the ISO text', () => {
    expect(parseApiTime('0001-01-01 00:00:00+01:00', 'UTC')).toBeNull();
    expect(parseApiTime('9999-12-31 23:00:00-01:00', 'UTC')).toBeNull();
  });
});

describe('invalid inputs are refused, never rolled over', () => {
  it('29 February exists in leap years only: every fourth year, not centuries, but every fourth century', () => {
    expect(iso('2024-02-29 10:00:00', 'UTC')).toBe('2024-02-29T10:00:00.000000Z');
    expect(iso('2000-02-29 10:00:00', 'Asia/Shanghai')).toBe('2000-02-29T02:00:00.000000Z');
    expect(parseApiTime('1900-02-29 10:00:00', 'UTC')).toBeNull();
    expect(parseApiTime('2100-02-29T10:00:00', 'UTC')).toBeNull();
  });

  it.each([
    ['all zeros', '0000-00-00 00:00:00'],
    ['30 February', '2023-02-30 10:00:00'],
    ['29 February in a common year', '2023-02-29 10:00:00'],
    ['31 April', '2023-04-31 10:00:00'],
    ['month 13', '2023-13-01 10:00:00'],
    ['day 0', '2023-01-00 10:00:00'],
    ['hour 24 (PostgreSQL rolls it over to the next day)', '2023-01-01 24:00:00'],
    ['minute 60', '2023-01-01 10:60:00'],
    ['second 60 (PostgreSQL rolls a leap second over to the next minute)', '2023-12-31 23:59:60'],
    ['year 0', '0000-01-01 00:00:00'],
    ['empty string', ''],
    ['whitespace', '   '],
    ['garbage', 'not a time'],
    ['HTML', '<html>'],
    ['a number', '1686817845'],
    ['one-digit fields', '2023-6-5 8:30:45'],
    ['slashes', '2023/06/15 08:30:45'],
    ['the six characters \\u0000 left by NUL escaping', '2023-06-15 08:30:45\\u0000'],
  ])('%s: %j', (_label, raw) => {
    for (const zone of ['UTC', 'Asia/Shanghai', 'Europe/Berlin']) {
      expect(parseApiTime(raw, zone)).toBeNull();
    }
  });

  it('refuses every time when the zone is not a valid IANA zone', () => {
    expect(parseApiTime('2023-06-15 08:30:45', 'Mars/Olympus_Mons')).toBeNull();
  });
});

describe('cross-check against luxon on generated timestamps (seeded)', () => {
  function randomParts(random: () => number): [number, number, number, number, number, number] {
    const int = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));
    // Days up to 31 and hours up to 24 on purpose: invalid dates must be refused like luxon refuses them.
    return [int(100, 9999), int(1, 12), int(1, 31), int(0, 24), int(0, 59), int(0, 59)];
  }

  it('the UTC fast path agrees with luxon on 5000 timestamps (valid and invalid), both separators', () => {
    const random = seededRandom(20230615);
    let valid = 0;
    for (let i = 0; i < 5000; i += 1) {
      const [y, mo, d, h, mi, s] = randomParts(random);
      const separator = i % 2 === 0 ? ' ' : 'T';
      const raw = `${pad(y, 4)}-${pad(mo)}-${pad(d)}${separator}${pad(h)}:${pad(mi)}:${pad(s)}`;
      const expected = DateTime.fromFormat(raw, `yyyy-MM-dd'${separator}'HH:mm:ss`, { zone: 'utc' });
      const actual = iso(raw, 'UTC');
      expect(actual, raw).toBe(expected.isValid ? isoMs(expected.toJSDate()) : null);
      if (actual !== null) valid += 1;
    }
    // Most generated cases are valid: the comparison is not vacuous.
    expect(valid).toBeGreaterThan(4000);
  });

  interface WallTime {
    readonly year: number;
    readonly month: number;
    readonly day: number;
    readonly hour: number;
    readonly minute: number;
    readonly second: number;
  }

  /**
   * luxon's readings of a wall time, with its clock in January and in July:
   * one reading, except for an ambiguous (repeated) local time, where luxon's
   * pick depends on the current date (see above) and either instant is a
   * correct reading.
   */
  function luxonReadings(wall: WallTime, zone: string): Set<string> {
    const readings = new Set<string>();
    try {
      for (const now of ['2024-01-15T00:00:00Z', '2024-07-15T00:00:00Z']) {
        Settings.now = () => Date.parse(now);
        readings.add(isoMs(DateTime.fromObject({ ...wall }, { zone }).toJSDate()));
      }
    } finally {
      Settings.now = () => Date.now();
    }
    return readings;
  }

  function format(wall: WallTime): string {
    return `${pad(wall.year, 4)}-${pad(wall.month)}-${pad(wall.day)} ${pad(wall.hour)}:${pad(wall.minute)}:${pad(wall.second)}`;
  }

  /** Checks one wall time; returns whether it was ambiguous. */
  function expectLuxonReading(wall: WallTime, zone: string): boolean {
    const raw = format(wall);
    const readings = luxonReadings(wall, zone);
    const actual = iso(raw, zone);
    if (readings.size === 1) expect(actual, `${raw} ${zone}`).toBe([...readings][0]);
    else expect([...readings], `${raw} ${zone} (ambiguous)`).toContain(actual);
    return readings.size > 1;
  }

  it('the cached per-hour offsets agree with luxon on 3000 timestamps per zone, DST zones included', () => {
    const zones = ['Asia/Shanghai', 'Europe/Berlin', 'America/New_York', 'America/Sao_Paulo', 'Australia/Lord_Howe', 'Asia/Kolkata'];
    const random = seededRandom(42);
    for (const zone of zones) {
      for (let i = 0; i < 3000; i += 1) {
        const [, month, day, , minute, second] = randomParts(random);
        const year = 1990 + Math.floor(random() * 50);
        const hour = Math.floor(random() * 24);
        expectLuxonReading({ year, month, day: Math.min(day, 28), hour, minute, second }, zone);
      }
    }
  });

  it('agrees with luxon through 00:00–04:59 of every Europe/Berlin transition day of 2000–2030 (7 min 13 s steps)', () => {
    // Transition Sundays: the last of March (gap 02:00–02:59) and of October (02:00–02:59 twice).
    const lastSunday = (year: number, month: number): number => {
      const last = new Date(Date.UTC(year, month, 0));
      return last.getUTCDate() - last.getUTCDay();
    };
    let checked = 0;
    let ambiguous = 0;
    for (let year = 2000; year <= 2030; year += 1) {
      for (const month of [3, 10]) {
        const day = lastSunday(year, month);
        for (let offset = 0; offset < 5 * 3600; offset += 433) {
          const wall = {
            year,
            month,
            day,
            hour: Math.floor(offset / 3600),
            minute: Math.floor((offset % 3600) / 60),
            second: offset % 60,
          };
          if (expectLuxonReading(wall, 'Europe/Berlin')) ambiguous += 1;
          checked += 1;
        }
      }
    }
    expect(checked).toBeGreaterThan(2500);
    // The repeated hours were exercised, not only the plain ones.
    expect(ambiguous).toBeGreaterThan(200);
  });
});
