/**
 * parseApiTime against PostgreSQL's own timestamptz input, to the
 * microsecond: generated strings in every accepted shape (space or T, 0–9
 * fraction digits, no zone, Z, ±hh, ±hhmm, ±hh:mm) and zone, DST edges
 * included, read by `$1::timestamptz` in a session whose TimeZone is the
 * configured sourceTimeZone. Refused shapes stay refused, never guessed.
 */
import fc from 'fast-check';
import { IANAZone } from 'luxon';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseApiTime } from '../../src/transform/parse-time.js';
import { adminUrl } from '../support/database.js';

/** Fixed, so a failure reproduces; fast-check prints the failing case, shrunk. */
const SEED = 20230605;

const ZONES = [
  'UTC',
  'Asia/Shanghai',
  'Europe/Berlin',
  'America/New_York',
  'America/Sao_Paulo',
  'Australia/Lord_Howe', // DST of 30 minutes
  'Asia/Kolkata', // +05:30
  'Pacific/Chatham', // +12:45 / +13:45
  'America/St_Johns', // -03:30 / -02:30
] as const;

let client: pg.Client;

beforeAll(async () => {
  client = new pg.Client(adminUrl());
  await client.connect();
});

afterAll(async () => {
  await client.end();
});

/** PostgreSQL's reading of each string in `zone`, as epoch microseconds (exact: numeric, then bigint). */
async function postgresMicros(texts: readonly string[], zone: string): Promise<bigint[]> {
  await client.query(`SELECT set_config('TimeZone', $1, false)`, [zone]);
  const result = await client.query<{ micros: string }>(
    `SELECT (extract(epoch FROM t.s::timestamptz) * 1000000)::bigint::text AS micros
       FROM unnest($1::text[]) WITH ORDINALITY AS t(s, i) ORDER BY t.i`,
    [texts],
  );
  return result.rows.map((row) => BigInt(row.micros));
}

/** Whether PostgreSQL accepts `text` as a timestamptz at all. */
async function postgresAccepts(text: string): Promise<boolean> {
  try {
    await client.query('SELECT $1::timestamptz', [text]);
    return true;
  } catch {
    return false;
  }
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** Wall-clock parts of the documented shape, always a real date. */
interface Wall {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

const daysIn = (year: number, month: number): number => new Date(Date.UTC(year, month, 0)).getUTCDate();

const anyWall: fc.Arbitrary<Wall> = fc
  .record({
    year: fc.integer({ min: 1970, max: 2037 }),
    month: fc.integer({ min: 1, max: 12 }),
    day: fc.integer({ min: 1, max: 31 }),
    hour: fc.integer({ min: 0, max: 23 }),
    minute: fc.integer({ min: 0, max: 59 }),
    second: fc.integer({ min: 0, max: 59 }),
  })
  .map((w) => ({ ...w, day: Math.min(w.day, daysIn(w.year, w.month)) }));

/** UTC instants (ms) at which `zone` changes its offset, 1990–2037, found with luxon by bisection. */
function transitions(zone: string): number[] {
  const z = IANAZone.create(zone);
  const found: number[] = [];
  for (let year = 1990; year <= 2037; year++) {
    for (let month = 0; month < 12; month++) {
      let lo = Date.UTC(year, month, 1);
      let hi = Date.UTC(year, month + 1, 1);
      if (z.offset(lo) === z.offset(hi)) continue;
      while (hi - lo > 1000) {
        const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
        if (z.offset(mid) === z.offset(lo)) lo = mid;
        else hi = mid;
      }
      found.push(hi);
    }
  }
  return found;
}

/** Wall times within 90 minutes of an offset change: skipped, repeated and plain ones. */
function nearTransition(zone: string): fc.Arbitrary<Wall> | null {
  const at = transitions(zone);
  if (at.length === 0) return null;
  const z = IANAZone.create(zone);
  return fc.tuple(fc.constantFrom(...at), fc.integer({ min: -90 * 60, max: 90 * 60 })).map(([instant, shift]) => {
    // The wall clock just before the change, moved by `shift` seconds.
    const wall = new Date(instant - 1000 + z.offset(instant - 1000) * 60_000 + shift * 1000);
    return {
      year: wall.getUTCFullYear(),
      month: wall.getUTCMonth() + 1,
      day: wall.getUTCDate(),
      hour: wall.getUTCHours(),
      minute: wall.getUTCMinutes(),
      second: wall.getUTCSeconds(),
    };
  });
}

const fraction = fc.oneof(
  fc.constant(''),
  fc.integer({ min: 1, max: 9 }).chain((digits) =>
    fc.array(fc.integer({ min: 0, max: 9 }), { minLength: digits, maxLength: digits }).map((d) => `.${d.join('')}`),
  ),
  // Rounding edges: 7–9 digits ending in 5, and all nines (carried into the next second).
  fc.constantFrom('.0000005', '.0000015', '.1234565', '.9999995', '.999999999', '.000000500'),
);

const offset = fc.oneof(
  fc.constant(''),
  fc.constantFrom('Z', 'z'),
  fc
    .record({
      sign: fc.constantFrom('+', '-'),
      hours: fc.integer({ min: 0, max: 15 }),
      minutes: fc.integer({ min: 0, max: 59 }),
      form: fc.constantFrom('hh', 'hhmm', 'hh:mm'),
    })
    .map(({ sign, hours, minutes, form }) =>
      form === 'hh' ? `${sign}${pad(hours)}` : `${sign}${pad(hours)}${form === 'hh:mm' ? ':' : ''}${pad(minutes)}`,
    ),
);

function accepted(wall: fc.Arbitrary<Wall>): fc.Arbitrary<string> {
  return fc
    .tuple(wall, fc.constantFrom(' ', 'T'), fraction, offset)
    .map(
      ([w, separator, frac, zone]) =>
        `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}${separator}${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}${frac}${zone}`,
    );
}

describe('every accepted shape reads exactly as PostgreSQL reads it', () => {
  for (const zone of ZONES) {
    it(`in ${zone}: 3,000 generated strings, DST edges included, agree to the microsecond`, async () => {
      const edges = nearTransition(zone);
      const strings = edges ? fc.oneof(accepted(anyWall), accepted(edges)) : accepted(anyWall);
      let compared = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(strings, { minLength: 75, maxLength: 100 }), async (texts) => {
          const expected = await postgresMicros(texts, zone);
          texts.forEach((text, i) => {
            const ours = parseApiTime(text, zone);
            expect(ours === null ? null : BigInt(ours), `${text} in ${zone}`).toBe(expected[i]);
          });
          compared += texts.length;
        }),
        { seed: SEED, numRuns: 40 },
      );
      expect(compared).toBeGreaterThanOrEqual(3000);
    });
  }
});

describe('refused shapes stay refused', () => {
  const digits = (length: number): fc.Arbitrary<string> =>
    fc.array(fc.integer({ min: 0, max: 9 }), { minLength: length, maxLength: length }).map((d) => d.join(''));

  /** Strings PostgreSQL refuses too: numbers, garbage, impossible dates and fields, zones out of range. */
  const refusedByBoth = fc.oneof(
    fc.integer({ min: 0, max: 2 ** 42 }).map(String),
    fc.tuple(fc.integer({ min: 0, max: 2 ** 31 }), digits(3)).map(([s, ms]) => `${s}.${ms}`),
    fc.string({ maxLength: 30 }).filter((s) => !/\d{4}-\d\d-\d\d/.test(s) && !/^\s*(today|now|tomorrow|yesterday|epoch|infinity|-infinity|allballs)\s*$/i.test(s)),
    fc.constantFrom(
      '2023-02-29 10:00:00', '2023-02-30 10:00:00', '2023-04-31 10:00:00', '1900-02-29 10:00:00',
      '2023-13-01 10:00:00', '2023-00-10 10:00:00', '2023-01-00 10:00:00', '2023-01-32 10:00:00',
      '2023-01-01 10:60:00', '2023-01-01 25:00:00', '0000-01-01 00:00:00',
      '2023-06-05 01:58:43+16:00', '2023-06-05 01:58:43-16:00', '2023-06-05 01:58:43+08:60',
      'not a time', '<html>', '', '   ',
    ),
  );

  it('numbers, garbage, impossible dates and offsets beyond ±15:59: refused by PostgreSQL and by the exporter', async () => {
    await fc.assert(
      fc.asyncProperty(refusedByBoth, fc.constantFrom(...ZONES), async (text, zone) => {
        expect(parseApiTime(text, zone), `${JSON.stringify(text)} in ${zone}`).toBeNull();
        expect(await postgresAccepts(text), `PostgreSQL on ${JSON.stringify(text)}`).toBe(false);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('24:00:00 and second 60: PostgreSQL rolls them over to the next day or minute, the exporter flags them instead', async () => {
    for (const text of ['2023-06-05 24:00:00', '2023-12-31 23:59:60', '2023-06-05T24:00:00.000+08:00', '2016-12-31 23:59:60Z']) {
      expect(await postgresAccepts(text), text).toBe(true);
      for (const zone of ZONES) expect(parseApiTime(text, zone), `${text} in ${zone}`).toBeNull();
    }
  });

  it('shapes PostgreSQL also reads but a server does not send (date only, no seconds, named zones) are refused, not guessed', async () => {
    for (const text of ['2023-06-05', '2023-06-05 01:58', '2023-06-05 01:58:43 Asia/Shanghai', '2023-06-05 01:58:43 CST', '20230605T015843', 'June 5 2023 01:58:43']) {
      expect(await postgresAccepts(text), text).toBe(true);
      for (const zone of ZONES) expect(parseApiTime(text, zone), `${text} in ${zone}`).toBeNull();
    }
  });
});
