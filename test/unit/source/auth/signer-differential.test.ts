/**
 * Differential test: our signer against the official Node SDK's AKSKSigner
 * (@huaweicloud/huaweicloud-sdk-core, devDependency only) on a few hundred
 * generated requests.
 *
 * How the SDK is driven (read from auth/AKSKSigner.js and the callers in
 * auth/BaseCredentials.js / http/DefaultHttpClient.js, v3.1.x):
 * - input `{method, endpoint (URL without query), queryParams, headers, data?}`
 *   and a credential of which only getAk()/getSk() are read;
 * - the date comes from a preset `X-Sdk-Date` header (exactly that spelling),
 *   otherwise from `moment()` (Date.now); both ways are exercised below;
 * - host is taken from `url.parse(endpoint).host` and signed; every header
 *   passed in is signed, names lower-cased, values verbatim (not trimmed);
 * - the body hash is sha256(JSON.stringify(data)), so `data` is the parsed
 *   JSON of our body string;
 * - the security token is not read by sign(): BaseCredentials.processAuthRequest
 *   adds an `X-Security-Token` header before calling it, so we do the same;
 * - queryParams: a value or an array of values for a repeated key.
 *
 * Where the SDK and the documented algorithm disagree (query ordering, see the
 * last describe block) we keep the documented behaviour and assert that the
 * ordering is the only difference.
 */
import { seededRandom } from '../../../../src/simulator/random.js';
import { createHmac } from 'node:crypto';
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  canonicalRequest,
  encodeRfc3986,
  formatSdkDate,
  signRequest,
  stringToSign,
  type SigningCredentials,
} from '../../../../src/source/auth/signer.js';

// ---------------------------------------------------------------------------
// The SDK (CommonJS, loaded through createRequire; minimal local types for
// the part we use).

interface SdkCredential {
  getAk(): string;
  getSk(): string;
}
interface SdkRequest {
  method: string;
  endpoint: string;
  queryParams: Record<string, string | string[]>;
  headers: Record<string, string>;
  data?: unknown;
}
interface SdkSignerModule {
  AKSKSigner: { sign(request: SdkRequest, credential: SdkCredential): Record<string, string> };
}
const require = createRequire(import.meta.url);
const { AKSKSigner } = require('@huaweicloud/huaweicloud-sdk-core/auth/AKSKSigner') as SdkSignerModule;

// ---------------------------------------------------------------------------
// Deterministic generator (mulberry32).


class Gen {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = seededRandom(seed);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new Error('pick from empty list');
    return item;
  }
  hex(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += '0123456789abcdef'[this.int(16)];
    return s;
  }
  uuid(): string {
    return `${this.hex(8)}-${this.hex(4)}-4${this.hex(3)}-${this.pick(['8', '9', 'a', 'b'])}${this.hex(3)}-${this.hex(12)}`;
  }
}

/** Pieces query values are made of: every character class the brief names. */
const VALUE_PIECES = [
  'a', 'Z', '0', '9', 'job', ' ', '/', '&', '=', '%', '+', '~', '*', "'", '(', ')', '!',
  '-', '_', '.', ':', '@', ',', ';', '?', '#', '[', ']', '"', '%20', '扩容', '缩容', '😀', 'é',
] as const;
const SPECIALS = [' ', '/', '&', '=', '%', '+', '~', '*', "'", '(', '扩容', '😀'] as const;
const QUERY_KEYS = [
  'limit', 'offset', 'marker', 'start_time', 'end_time', 'type', 'status', 'name',
  'sort_key', 'sort_dir', 'tags', 'Marker', 'X-Filter', 'q.parser',
] as const;
const HOSTS = [
  'dws.cn-north-4.myhuaweicloud.com',
  'dws.ap-southeast-1.myhuaweicloud.com',
  'gateway.example.com:8443',
  '127.0.0.1:9443',
] as const;

interface Case {
  readonly id: number;
  readonly method: string;
  readonly host: string;
  readonly path: string;
  readonly query: readonly (readonly [string, string])[];
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
  readonly now: Date;
  readonly credentials: SigningCredentials;
  /** true: the SDK reads a preset X-Sdk-Date header; false: it reads the (faked) clock. */
  readonly presetDate: boolean;
}

function genValue(g: Gen): string {
  switch (g.int(6)) {
    case 0:
      return '';
    case 1:
      return g.uuid();
    case 2:
      return new Date(Date.UTC(2024, g.int(12), 1 + g.int(28), g.int(24), g.int(60))).toISOString();
    default: {
      let s = '';
      const n = 1 + g.int(6);
      for (let i = 0; i < n; i++) s += g.pick(VALUE_PIECES);
      return s;
    }
  }
}

function genCase(g: Gen, id: number): Case {
  const project = g.hex(32);
  const cluster = g.uuid();
  const path = g.pick([
    `/v1.0/${project}/clusters/${cluster}/logical-clusters`,
    `/v2/${project}/clusters/${cluster}/logical-clusters/tasks`,
    `/v1.0/${project}/clusters/${cluster}/logical-clusters/${g.uuid()}/`,
    `/v2/${project}/job/${g.uuid()}`,
    `/v1.0/${project}/clusters`,
    '/',
  ]);
  const query: [string, string][] = [];
  const nKeys = g.int(6);
  for (let i = 0; i < nKeys; i++) {
    const key = g.pick(QUERY_KEYS);
    const repeats = g.chance(0.2) ? 2 + g.int(2) : 1;
    for (let r = 0; r < repeats; r++) query.push([key, genValue(g)]);
  }
  const method = g.pick(['GET', 'GET', 'GET', 'POST', 'PUT', 'DELETE']);
  const headers: Record<string, string> = {};
  if (method !== 'GET' || g.chance(0.5)) headers['Content-Type'] = g.pick(['application/json', 'application/json;charset=UTF-8']);
  if (g.chance(0.5)) headers['X-Project-Id'] = project;
  if (g.chance(0.2)) headers['X-Language'] = g.pick(['en-us', 'zh-cn']);
  const body =
    method === 'POST' || method === 'PUT'
      ? { name: genValue(g), count: g.int(100), nested: { tags: [genValue(g), '扩容'] } }
      : undefined;
  const now = new Date(Date.UTC(2020, 0, 1) + g.int(10 * 365 * 86400) * 1000);
  const credentials: SigningCredentials = {
    accessKey: `AK${g.hex(18).toUpperCase()}`,
    secretKey: g.hex(40),
    securityToken: g.chance(0.35) ? `gQpjbi1${g.hex(60)}==` : undefined,
  };
  return { id, method, host: g.pick(HOSTS), path, query, headers, body, now, credentials, presetDate: g.chance(0.5) };
}

const CASES: readonly Case[] = (() => {
  const g = new Gen(0x5eed_d5);
  return Array.from({ length: 400 }, (_, i) => genCase(g, i));
})();

// ---------------------------------------------------------------------------
// Mapping one case to both signers.

function ours(c: Case): Record<string, string> {
  const url = new URL(`https://${c.host}${c.path}`);
  for (const [k, v] of c.query) url.searchParams.append(k, v);
  return signRequest(
    {
      method: c.method,
      url,
      headers: c.headers,
      ...(c.body === undefined ? {} : { body: JSON.stringify(c.body) }),
    },
    c.credentials,
    c.now,
  );
}

function sdkQueryParams(c: Case): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of c.query) {
    const existing = out[k];
    if (existing === undefined) out[k] = v;
    else if (Array.isArray(existing)) existing.push(v);
    else out[k] = [existing, v];
  }
  return out;
}

function sdk(c: Case): Record<string, string> {
  const headers: Record<string, string> = { ...c.headers };
  // What BaseCredentials.processAuthRequest does before calling sign().
  if (c.credentials.securityToken) headers['X-Security-Token'] = c.credentials.securityToken;
  if (c.presetDate) headers['X-Sdk-Date'] = formatSdkDate(c.now);
  const request: SdkRequest = {
    method: c.method,
    endpoint: `https://${c.host}${c.path}`,
    queryParams: sdkQueryParams(c),
    headers,
    ...(c.body === undefined ? {} : { data: c.body }),
  };
  const credential: SdkCredential = { getAk: () => c.credentials.accessKey, getSk: () => c.credentials.secretKey };
  if (c.presetDate) return AKSKSigner.sign(request, credential);
  vi.useFakeTimers({ now: c.now, toFake: ['Date'] });
  try {
    return AKSKSigner.sign(request, credential);
  } finally {
    vi.useRealTimers();
  }
}

// ---------------------------------------------------------------------------
// Query ordering. The documented algorithm (API signing guide, and the notes:
// "pairs sorted by key (then value), RFC 3986 encoding") URI-encodes names and
// values and then sorts by character code; the Java SDK, whose output is the
// official vector, also sorts the encoded names (it keeps the values of a
// repeated key in the order given). The Node SDK (like the Go SDK) sorts the
// raw, unencoded keys and values and encodes afterwards. The two
// orders differ only when percent-encoding changes the relative order of two
// strings, e.g. '扩容' > 'z' raw but '%E6…' < 'z' encoded, or '.' < '/' raw but
// '%2F' < '.' encoded. For query keys that happens only with non-unreserved
// characters in a key (never the case for DWS APIs); for values only between
// values of a repeated key.

type Pairs = readonly (readonly [string, string])[];
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Documented order: encode, then sort by encoded key, then encoded value. */
function documentedQuery(pairs: Pairs): string {
  return pairs
    .map(([k, v]) => [encodeRfc3986(k), encodeRfc3986(v)] as const)
    .sort(([ak, av], [bk, bv]) => cmp(ak, bk) || cmp(av, bv))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/** The Node SDK's order: sort raw keys, raw values per key, then encode. */
function sdkOrderQuery(pairs: Pairs): string {
  return [...pairs]
    .sort(([ak, av], [bk, bv]) => cmp(ak, bk) || cmp(av, bv))
    .map(([k, v]) => `${encodeRfc3986(k)}=${encodeRfc3986(v)}`)
    .join('&');
}

const orderSensitive = (c: Case): boolean => documentedQuery(c.query) !== sdkOrderQuery(c.query);

function signedHeaderList(authorization: string | undefined): string {
  return /SignedHeaders=([^,]+),/.exec(authorization ?? '')?.[1] ?? '';
}

// ---------------------------------------------------------------------------

afterEach(() => {
  vi.useRealTimers();
});

describe('differential: our signer vs the official Node SDK AKSKSigner', () => {
  const comparable = CASES.filter((c) => !orderSensitive(c));
  const sensitive = CASES.filter(orderSensitive);

  it('the generated corpus is big and covers the edge characters, repeated keys, empty values, tokens and both date sources', () => {
    expect(comparable.length).toBeGreaterThanOrEqual(300);
    const values = comparable.flatMap((c) => c.query.map(([, v]) => v));
    for (const special of SPECIALS) {
      expect(values.filter((v) => v.includes(special)).length, `values containing ${special}`).toBeGreaterThanOrEqual(5);
    }
    expect(values.filter((v) => v === '').length).toBeGreaterThanOrEqual(20);
    const repeated = comparable.filter((c) => new Set(c.query.map(([k]) => k)).size < c.query.length);
    expect(repeated.length).toBeGreaterThanOrEqual(30);
    expect(comparable.filter((c) => c.credentials.securityToken).length).toBeGreaterThanOrEqual(50);
    expect(comparable.filter((c) => c.presetDate).length).toBeGreaterThanOrEqual(50);
    expect(comparable.filter((c) => !c.presetDate).length).toBeGreaterThanOrEqual(50);
    expect(comparable.filter((c) => c.body !== undefined).length).toBeGreaterThanOrEqual(50);
    expect(sensitive.length).toBeGreaterThan(0);
  });

  it('produces the identical Authorization header (and date, host, token) for every generated request', () => {
    const mismatches: string[] = [];
    for (const c of comparable) {
      const a = ours(c);
      const b = sdk(c);
      if (a.authorization !== b.Authorization) {
        mismatches.push(`#${c.id} ${c.method} ${c.path} ${JSON.stringify(c.query)}\n  ours ${a.authorization}\n  sdk  ${b.Authorization}`);
      }
      expect(a['x-sdk-date']).toBe(b['X-Sdk-Date']);
      expect(a.host).toBe(b.host);
      expect(a['x-security-token']).toBe(b['X-Security-Token']);
    }
    expect(mismatches.slice(0, 5).join('\n')).toBe('');
    expect(mismatches).toHaveLength(0);
  });
});

describe('differential: documented divergences of the Node SDK', () => {
  function withQueryLine(c: Case, queryLine: string): string {
    const url = new URL(`https://${c.host}${c.path}`);
    for (const [k, v] of c.query) url.searchParams.append(k, v);
    const a = ours(c);
    const names = signedHeaderList(a.authorization).split(';');
    const lower = Object.fromEntries(Object.entries(a).map(([k, v]) => [k.toLowerCase(), v]));
    const signed = names.map((n): [string, string] => [n, lower[n] ?? '']);
    const lines = canonicalRequest(c.method, url, signed, c.body === undefined ? '' : JSON.stringify(c.body)).split('\n');
    lines[2] = queryLine;
    return lines.join('\n');
  }

  it('query order: where raw and encoded order differ, ours follows the documented encoded order and ordering is the only difference from the SDK', () => {
    const sensitive = CASES.filter(orderSensitive);
    expect(sensitive.length).toBeGreaterThan(0);
    for (const c of sensitive) {
      const a = ours(c);
      const b = sdk(c);
      expect(a.authorization).not.toBe(b.Authorization);
      // Ours signs the documented order ...
      const date = formatSdkDate(c.now);
      const ourSig = createHmac('sha256', c.credentials.secretKey)
        .update(stringToSign(date, withQueryLine(c, documentedQuery(c.query))))
        .digest('hex');
      expect(a.authorization).toContain(`Signature=${ourSig}`);
      // ... and the SDK's signature is ours with the raw-sorted query line.
      const sdkSig = createHmac('sha256', c.credentials.secretKey)
        .update(stringToSign(date, withQueryLine(c, sdkOrderQuery(c.query))))
        .digest('hex');
      expect(b.Authorization).toContain(`Signature=${sdkSig}`);
    }
  });

  it('query order, minimal example: tag=z&tag=扩容 is canonicalised as tag=%E6%89%A9%E5%AE%B9&tag=z (encoded order)', () => {
    const url = new URL('https://h.example.com/v1?tag=z&tag=%E6%89%A9%E5%AE%B9');
    const line = canonicalRequest('GET', url, [['x-sdk-date', '20240101T000000Z']], '').split('\n')[2];
    expect(line).toBe('tag=%E6%89%A9%E5%AE%B9&tag=z');
    expect(sdkOrderQuery([['tag', 'z'], ['tag', '扩容']])).toBe('tag=z&tag=%E6%89%A9%E5%AE%B9');
  });

  it('header values with surrounding whitespace: ours signs the trimmed value, which is what an HTTP server sees; the SDK signs it verbatim', () => {
    const now = new Date('2024-06-01T12:00:00Z');
    const credentials: SigningCredentials = { accessKey: 'AK', secretKey: 'SK' };
    const a = signRequest(
      { method: 'GET', url: new URL('https://h.example.com/v1'), headers: { 'X-Project-Id': '  abc  ' } },
      credentials,
      now,
    );
    const sign = (value: string): string | undefined =>
      AKSKSigner.sign(
        {
          method: 'GET',
          endpoint: 'https://h.example.com/v1',
          queryParams: {},
          headers: { 'X-Project-Id': value, 'X-Sdk-Date': formatSdkDate(now) },
        },
        { getAk: () => 'AK', getSk: () => 'SK' },
      ).Authorization;
    expect(a.authorization).toBe(sign('abc'));
    expect(a.authorization).not.toBe(sign('  abc  '));
  });
});
