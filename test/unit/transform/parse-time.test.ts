/**
 * parseApiTime: the API's zone-less `YYYY-MM-DD HH:mm:ss` read in the
 * configured zone, ISO 8601 strings read with their own offset, everything
 * else refused (never rolled over into another day). The cheap path (regex +
 * Date.UTC + a per-hour offset cache) is checked against luxon, which owns the
 * zone rules, on a few thousand generated timestamps.
 */
import { seededRandom } from '../../../src/simulator/random.js';
import { DateTime, Settings } from 'luxon';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseApiTime } from '../../../src/transform/parse-time.js';

/** The instant as ISO 8601 UTC, or null when refused: one value to compare. */
function iso(raw: string, zone: string): string | null {
  const parsed = parseApiTime(raw, zone);
  return parsed.ok ? parsed.instant.toISOString() : null;
}


const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

describe('the API shape YYYY-MM-DD HH:mm:ss', () => {
  it('is read as UTC when the zone is UTC or Etc/UTC', () => {
    expect(iso('2023-06-15 08:30:45', 'UTC')).toBe('2023-06-15T08:30:45.000Z');
    expect(iso('2023-06-15 08:30:45', 'Etc/UTC')).toBe('2023-06-15T08:30:45.000Z');
  });

  it('is read in the configured zone: Asia/Shanghai is UTC+8 all year', () => {
    expect(iso('2023-06-15 08:30:45', 'Asia/Shanghai')).toBe('2023-06-15T00:30:45.000Z');
    expect(iso('2023-01-01 00:00:00', 'Asia/Shanghai')).toBe('2022-12-31T16:00:00.000Z');
  });

  it('is read with the offset in force on that date in a DST zone (Europe/Berlin: +01 winter, +02 summer)', () => {
    expect(iso('2023-01-15 12:00:00', 'Europe/Berlin')).toBe('2023-01-15T11:00:00.000Z');
    expect(iso('2023-07-15 12:00:00', 'Europe/Berlin')).toBe('2023-07-15T10:00:00.000Z');
  });

  it('is read exactly on both sides of the spring-forward gap (Europe/Berlin, 2023-03-26 02:00 → 03:00)', () => {
    expect(iso('2023-03-26 01:59:59', 'Europe/Berlin')).toBe('2023-03-26T00:59:59.000Z');
    expect(iso('2023-03-26 03:00:00', 'Europe/Berlin')).toBe('2023-03-26T01:00:00.000Z');
  });

  it('reads a nonexistent local time (inside the spring-forward gap) shifted forward by the gap, as luxon does', () => {
    // 02:30 does not exist in Berlin on 2023-03-26; luxon moves it to 03:30 CEST = 01:30Z.
    expect(iso('2023-03-26 02:30:00', 'Europe/Berlin')).toBe('2023-03-26T01:30:00.000Z');
    expect(iso('2023-03-26 02:00:00', 'Europe/Berlin')).toBe('2023-03-26T01:00:00.000Z');
    expect(iso('2023-03-26 02:59:59', 'Europe/Berlin')).toBe('2023-03-26T01:59:59.000Z');
  });

  it('is read exactly on both sides of the fall-back overlap (Europe/Berlin, 2023-10-29 03:00 → 02:00)', () => {
    expect(iso('2023-10-29 01:59:59', 'Europe/Berlin')).toBe('2023-10-28T23:59:59.000Z');
    expect(iso('2023-10-29 03:00:00', 'Europe/Berlin')).toBe('2023-10-29T02:00:00.000Z');
  });

  it('reads an ambiguous local time (the repeated hour) as one of its two instants, whichever luxon picks', () => {
    // 02:30 happens twice in Berlin on 2023-10-29: 00:30Z (CEST) and 01:30Z (CET).
    // Which one luxon picks depends on the zone's offset at the *current* time
    // (DateTime.fromObject guesses with zone.offset(Settings.now())): see the
    // next describe block.
    expect(['2023-10-29T00:30:00.000Z', '2023-10-29T01:30:00.000Z']).toContain(
      iso('2023-10-29 02:30:00', 'Europe/Berlin'),
    );
  });

  it('accepts a T separator the same way as a space', () => {
    expect(iso('2023-06-15T08:30:45', 'UTC')).toBe('2023-06-15T08:30:45.000Z');
    expect(iso('2023-06-15T08:30:45', 'Asia/Shanghai')).toBe('2023-06-15T00:30:45.000Z');
  });

  it('accepts the first and last second of a day, and 29 February in a leap year', () => {
    expect(iso('2023-12-31 23:59:59', 'UTC')).toBe('2023-12-31T23:59:59.000Z');
    expect(iso('2024-01-01 00:00:00', 'UTC')).toBe('2024-01-01T00:00:00.000Z');
    expect(iso('2024-02-29 12:00:00', 'UTC')).toBe('2024-02-29T12:00:00.000Z');
    expect(iso('2000-02-29 12:00:00', 'Asia/Shanghai')).toBe('2000-02-29T04:00:00.000Z');
  });

  it('never misreads a year below 100 as 19xx (Date.UTC maps years 0–99 to 1900–1999)', () => {
    // Today such years are refused rather than read; refusing is acceptable, shifting is not.
    for (const raw of ['0050-01-01 00:00:00', '0099-12-31 23:59:59', '0001-01-01T00:00:00']) {
      const parsed = parseApiTime(raw, 'UTC');
      if (parsed.ok) expect(parsed.instant.getUTCFullYear()).toBe(Number(raw.slice(0, 4)));
    }
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
    const parsed = fresh.parseApiTime(raw, zone);
    return parsed.ok ? parsed.instant.toISOString() : null;
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
    expect(summerRun).toBe('2023-03-26T01:30:00.000Z');
    expect(winterRun).toBe(summerRun);
  });
});

describe('ISO 8601 strings', () => {
  it('with Z are read as UTC whatever the configured zone', () => {
    expect(iso('2023-06-15T08:30:45Z', 'Asia/Shanghai')).toBe('2023-06-15T08:30:45.000Z');
    expect(iso('2023-06-15T08:30:45z', 'Europe/Berlin')).toBe('2023-06-15T08:30:45.000Z');
  });

  it('with an offset are read with that offset, not the configured zone', () => {
    expect(iso('2023-06-15T08:30:45+08:00', 'UTC')).toBe('2023-06-15T00:30:45.000Z');
    expect(iso('2023-06-15T08:30:45-05:00', 'Asia/Shanghai')).toBe('2023-06-15T13:30:45.000Z');
    expect(iso('2023-06-15T08:30:45+0800', 'Europe/Berlin')).toBe('2023-06-15T00:30:45.000Z');
    expect(iso('2023-06-15T08:30:45+08', 'Europe/Berlin')).toBe('2023-06-15T00:30:45.000Z');
  });

  it('with fractional seconds keep the milliseconds (finer digits are truncated)', () => {
    expect(iso('2023-06-15T08:30:45.123Z', 'UTC')).toBe('2023-06-15T08:30:45.123Z');
    expect(iso('2023-06-15T08:30:45.5+08:00', 'UTC')).toBe('2023-06-15T00:30:45.500Z');
    expect(iso('2023-06-15T08:30:45.123456Z', 'UTC')).toBe('2023-06-15T08:30:45.123Z');
  });

  it('without an offset (fraction, or no seconds) are read in the configured zone', () => {
    expect(iso('2023-06-15T08:30:45.250', 'Asia/Shanghai')).toBe('2023-06-15T00:30:45.250Z');
    expect(iso('2023-06-15T08:30', 'Asia/Shanghai')).toBe('2023-06-15T00:30:00.000Z');
  });

  it('date-only strings are read in the configured zone, not the process zone', () => {
    // A configured zone whose midnight differs from the process zone's, whatever TZ the tests run in.
    const processMidnight = DateTime.fromISO('2023-06-15').toMillis();
    const zone = ['Asia/Shanghai', 'America/New_York'].find(
      (candidate) => DateTime.fromISO('2023-06-15', { zone: candidate }).toMillis() !== processMidnight,
    );
    expect(zone).toBeDefined();
    const expected = DateTime.fromISO('2023-06-15', { zone }).toJSDate().toISOString();
    expect(iso('2023-06-15', zone ?? 'UTC')).toBe(expected);
  });

  it('accepts the API shape with surrounding whitespace, as it does ISO strings', () => {
    expect(iso(' 2023-06-15 08:30:45 ', 'UTC')).toBe('2023-06-15T08:30:45.000Z');
  });

  it('accepts an ISO string with surrounding whitespace', () => {
    expect(iso('  2023-06-15T08:30:45Z\n', 'UTC')).toBe('2023-06-15T08:30:45.000Z');
  });
});

describe('invalid inputs are refused, never rolled over', () => {
  it('29 February exists in leap years only: every fourth year, not centuries, but every fourth century', () => {
    expect(iso('2024-02-29 10:00:00', 'UTC')).toBe('2024-02-29T10:00:00.000Z');
    expect(iso('2000-02-29 10:00:00', 'Asia/Shanghai')).toBe('2000-02-29T02:00:00.000Z');
    expect(parseApiTime('1900-02-29 10:00:00', 'UTC')).toEqual({ ok: false });
    expect(parseApiTime('2100-02-29T10:00:00', 'UTC')).toEqual({ ok: false });
  });

  it.each([
    ['all zeros', '0000-00-00 00:00:00'],
    ['30 February', '2023-02-30 10:00:00'],
    ['29 February in a common year', '2023-02-29 10:00:00'],
    ['31 April', '2023-04-31 10:00:00'],
    ['month 13', '2023-13-01 10:00:00'],
    ['day 0', '2023-01-00 10:00:00'],
    ['hour 24', '2023-01-01 24:00:00'],
    ['minute 60', '2023-01-01 10:60:00'],
    ['second 60 (no leap seconds)', '2023-12-31 23:59:60'],
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
      expect(parseApiTime(raw, zone)).toEqual({ ok: false });
    }
  });

  it('refuses every time when the zone is not a valid IANA zone', () => {
    expect(parseApiTime('2023-06-15 08:30:45', 'Mars/Olympus_Mons')).toEqual({ ok: false });
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
      expect(actual, raw).toBe(expected.isValid ? expected.toJSDate().toISOString() : null);
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
        readings.add(DateTime.fromObject({ ...wall }, { zone }).toJSDate().toISOString());
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
