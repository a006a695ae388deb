/**
 * The hand-written SDK-HMAC-SHA256 signer against the published vectors
 * (docs/huawei-cloud-api-notes.md, "AK/SK signing") and the gateway-side
 * check used by the simulator.
 */
import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  canonicalRequest,
  encodeRfc3986,
  formatSdkDate,
  signRequest,
  stringToSign,
  verifySignature,
  type SigningCredentials,
} from '../../../../src/source/auth/signer.js';

const sha256Hex = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');
const hmacHex = (key: string, s: string): string =>
  createHmac('sha256', key).update(s, 'utf8').digest('hex');

/** Node's http server hands the simulator lower-cased header names. */
function onTheWire(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

describe('published vector: official docs / Java SDK', () => {
  const url = new URL(
    'https://service.region.example.com/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs?limit=2&marker=13551d6b-755d-4757-b956-536f674975c0',
  );
  const credentials: SigningCredentials = {
    accessKey: 'QTWAOYTTINDUT2QVKYUC',
    secretKey: 'MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc',
  };
  const now = new Date('2019-11-15T03:36:55Z');

  it('builds the canonical request whose sha256 is the published b25362e6…', () => {
    const canonical = canonicalRequest(
      'GET',
      url,
      [
        ['content-type', 'application/json'],
        ['host', 'service.region.example.com'],
        ['x-sdk-date', '20191115T033655Z'],
      ],
      '',
    );
    expect(canonical).toBe(
      [
        'GET',
        '/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs/',
        'limit=2&marker=13551d6b-755d-4757-b956-536f674975c0',
        'content-type:application/json\nhost:service.region.example.com\nx-sdk-date:20191115T033655Z\n',
        'content-type;host;x-sdk-date',
        'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      ].join('\n'),
    );
    expect(sha256Hex(canonical)).toBe('b25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a');
    expect(stringToSign('20191115T033655Z', canonical)).toBe(
      'SDK-HMAC-SHA256\n20191115T033655Z\nb25362e603ee30f4f25e7858e8a7160fd36e803bb2dfe206278659d71a9bcd7a',
    );
  });

  it('signRequest produces exactly the published Authorization header, signing host from the URL', () => {
    const headers = signRequest(
      { method: 'GET', url, headers: { 'Content-Type': 'application/json' } },
      credentials,
      now,
    );
    expect(headers.authorization).toBe(
      'SDK-HMAC-SHA256 Access=QTWAOYTTINDUT2QVKYUC, SignedHeaders=content-type;host;x-sdk-date, ' +
        'Signature=7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe',
    );
    expect(headers['x-sdk-date']).toBe('20191115T033655Z');
    expect(headers.host).toBe('service.region.example.com');
    expect(headers['Content-Type']).toBe('application/json');
    expect(headers).not.toHaveProperty('x-security-token');
  });

  it('the same signature is produced whatever the method case and header-name case', () => {
    const a = signRequest({ method: 'get', url, headers: { 'CONTENT-TYPE': 'application/json' } }, credentials, now);
    expect(a.authorization).toContain('Signature=7be6668032f70418fcc22abc52071e57aff61b84a1d2381bb430d6870f4f6ebe');
  });
});

describe('published vector: Go SDK, only x-sdk-date signed', () => {
  const url = new URL('https://example.huaweicloud.com/path?limit=1');
  const expected = '5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624';

  it('canonicalRequest + stringToSign + HMAC(SK) reproduce the published signature', () => {
    const canonical = canonicalRequest('GET', url, [['x-sdk-date', '20060102T150405Z']], '');
    expect(canonical.split('\n').slice(0, 3)).toEqual(['GET', '/path/', 'limit=1']);
    expect(hmacHex('SecretKey', stringToSign('20060102T150405Z', canonical))).toBe(expected);
  });

  it('verifySignature accepts a request that signs only x-sdk-date (host not required)', () => {
    const result = verifySignature(
      {
        method: 'GET',
        url,
        headers: {
          authorization: `SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, Signature=${expected}`,
          'x-sdk-date': '20060102T150405Z',
          host: 'example.huaweicloud.com',
        },
      },
      (ak) => (ak === 'AccessKey' ? 'SecretKey' : undefined),
      new Date('2006-01-02T15:04:05Z'),
    );
    expect(result).toEqual({ ok: true, accessKey: 'AccessKey' });
  });
});

describe('encoding and date helpers', () => {
  it('encodeRfc3986 keeps only A-Za-z0-9-_.~ and percent-encodes everything else with upper-case hex', () => {
    expect(encodeRfc3986('AZaz09-_.~')).toBe('AZaz09-_.~');
    expect(encodeRfc3986(" /&=%+*'()!")).toBe('%20%2F%26%3D%25%2B%2A%27%28%29%21');
    expect(encodeRfc3986('扩容')).toBe('%E6%89%A9%E5%AE%B9');
    expect(encodeRfc3986('😀')).toBe('%F0%9F%98%80');
  });

  it('formatSdkDate renders UTC YYYYMMDDTHHMMSSZ and drops milliseconds', () => {
    expect(formatSdkDate(new Date('2019-11-15T03:36:55.999Z'))).toBe('20191115T033655Z');
    expect(formatSdkDate(new Date('2006-01-02T15:04:05+07:00'))).toBe('20060102T080405Z');
  });

  it('the canonical URI always ends in "/" but the path segments are otherwise preserved', () => {
    const c = (u: string): string | undefined =>
      canonicalRequest('GET', new URL(u), [['x-sdk-date', '20200101T000000Z']], '').split('\n')[1];
    expect(c('https://h/v1.0/p/clusters')).toBe('/v1.0/p/clusters/');
    expect(c('https://h/v1.0/p/clusters/')).toBe('/v1.0/p/clusters/');
    expect(c('https://h')).toBe('/');
    expect(c('https://h/a%2Fb/扩容')).toBe('/a%2Fb/%E6%89%A9%E5%AE%B9/');
  });

  it('a non-empty body is hashed into the canonical request', () => {
    const body = '{"name":"扩容"}';
    const canonical = canonicalRequest('POST', new URL('https://h/x'), [['x-sdk-date', '20200101T000000Z']], body);
    expect(canonical.endsWith(`\n${sha256Hex(body)}`)).toBe(true);
  });
});

describe('temporary credentials', () => {
  const url = new URL('https://dws.cn-north-4.myhuaweicloud.com/v2/0123456789abcdef0123456789abcdef/clusters');
  const now = new Date('2024-06-01T12:00:00Z');
  const temporary: SigningCredentials = {
    accessKey: 'TMPAKEXAMPLE',
    secretKey: 'tmp-secret',
    securityToken: 'gQpjbi1ub3J0aC00token==',
  };

  it('X-Security-Token is sent and is one of the signed headers', () => {
    const headers = signRequest({ method: 'GET', url, headers: {} }, temporary, now);
    expect(headers['x-security-token']).toBe('gQpjbi1ub3J0aC00token==');
    expect(headers.authorization).toMatch(/SignedHeaders=host;x-sdk-date;x-security-token,/);
  });

  it('the signature covers the token: replacing it is rejected by the gateway check', () => {
    const headers = onTheWire(signRequest({ method: 'GET', url, headers: {} }, temporary, now));
    const secretFor = (ak: string): string | undefined => (ak === 'TMPAKEXAMPLE' ? 'tmp-secret' : undefined);
    expect(verifySignature({ method: 'GET', url, headers }, secretFor, now).ok).toBe(true);
    const swapped = { ...headers, 'x-security-token': 'another-token' };
    expect(verifySignature({ method: 'GET', url, headers: swapped }, secretFor, now)).toEqual({
      ok: false,
      reason: 'signature mismatch',
    });
  });

  it('permanent credentials send no X-Security-Token and do not sign one', () => {
    const headers = signRequest(
      { method: 'GET', url, headers: {} },
      { accessKey: 'AK', secretKey: 'SK', securityToken: undefined },
      now,
    );
    expect(Object.keys(headers).map((k) => k.toLowerCase())).not.toContain('x-security-token');
    expect(headers.authorization).toMatch(/SignedHeaders=host;x-sdk-date,/);
  });
});

describe('verifySignature (the gateway side used by the simulator)', () => {
  const AK = 'HPUAEXAMPLEAK';
  const SK = 'example-secret-key';
  const secretFor = (ak: string): string | undefined => (ak === AK ? SK : undefined);
  const signedAt = new Date('2024-06-01T12:00:00Z');
  const url = new URL(
    'https://dws.cn-north-4.myhuaweicloud.com/v2/0123456789abcdef0123456789abcdef/clusters/6f1c1d2e-3b4a-4c5d-8e9f-0a1b2c3d4e5f/logical-clusters/tasks?limit=100&offset=0&name=%E6%89%A9%E5%AE%B9%20job',
  );
  const body = '{"action":"扩容"}';

  function signed(): { method: string; url: URL; headers: Record<string, string>; body: string } {
    const headers = signRequest(
      {
        method: 'POST',
        url,
        headers: { 'Content-Type': 'application/json', 'X-Project-Id': '0123456789abcdef0123456789abcdef' },
        body,
      },
      { accessKey: AK, secretKey: SK },
      signedAt,
    );
    return { method: 'POST', url: new URL(url.href), headers: onTheWire(headers), body };
  }

  it('accepts exactly what signRequest produced', () => {
    expect(verifySignature(signed(), secretFor, signedAt)).toEqual({ ok: true, accessKey: AK });
  });

  it('accepts the request up to 15 minutes either side of the signing time', () => {
    const fifteen = 15 * 60 * 1000;
    expect(verifySignature(signed(), secretFor, new Date(signedAt.getTime() + fifteen)).ok).toBe(true);
    expect(verifySignature(signed(), secretFor, new Date(signedAt.getTime() - fifteen)).ok).toBe(true);
  });

  it('rejects a tampered query value', () => {
    const req = signed();
    req.url.searchParams.set('limit', '1000');
    expect(verifySignature(req, secretFor, signedAt)).toEqual({ ok: false, reason: 'signature mismatch' });
  });

  it('rejects an added query parameter', () => {
    const req = signed();
    req.url.searchParams.append('limit', '1');
    expect(verifySignature(req, secretFor, signedAt)).toEqual({ ok: false, reason: 'signature mismatch' });
  });

  it('rejects a tampered path (another cluster id)', () => {
    const req = signed();
    req.url.pathname = req.url.pathname.replace('6f1c1d2e', '7f1c1d2e');
    expect(verifySignature(req, secretFor, signedAt)).toEqual({ ok: false, reason: 'signature mismatch' });
  });

  it('rejects a tampered body', () => {
    const req = { ...signed(), body: '{"action":"缩容"}' };
    expect(verifySignature(req, secretFor, signedAt)).toEqual({ ok: false, reason: 'signature mismatch' });
  });

  it('rejects a tampered method', () => {
    const req = { ...signed(), method: 'PUT' };
    expect(verifySignature(req, secretFor, signedAt)).toEqual({ ok: false, reason: 'signature mismatch' });
  });

  it('rejects a tampered signed header value', () => {
    const req = signed();
    req.headers['x-project-id'] = 'ffffffffffffffffffffffffffffffff';
    expect(verifySignature(req, secretFor, signedAt)).toEqual({ ok: false, reason: 'signature mismatch' });
  });

  it('rejects a signature made with the wrong secret key', () => {
    expect(verifySignature(signed(), () => 'not-the-secret', signedAt)).toEqual({
      ok: false,
      reason: 'signature mismatch',
    });
  });

  it('rejects an unknown access key', () => {
    expect(verifySignature(signed(), () => undefined, signedAt)).toEqual({
      ok: false,
      reason: 'unknown access key',
    });
  });

  it('rejects a clock skew of more than 15 minutes, in either direction', () => {
    const justOver = 15 * 60 * 1000 + 1000;
    for (const now of [new Date(signedAt.getTime() + justOver), new Date(signedAt.getTime() - justOver)]) {
      const result = verifySignature(signed(), secretFor, now);
      expect(result.ok).toBe(false);
      expect(result.ok ? '' : result.reason).toMatch(/clock skew/);
    }
  });

  it('rejects a request missing a header it claims to have signed', () => {
    const req = signed();
    delete req.headers['content-type'];
    expect(verifySignature(req, secretFor, signedAt)).toEqual({
      ok: false,
      reason: 'signed header content-type is missing',
    });
  });

  it('rejects a request without Authorization, without X-Sdk-Date, or not signing x-sdk-date', () => {
    const noAuth = signed();
    delete noAuth.headers.authorization;
    expect(verifySignature(noAuth, secretFor, signedAt)).toEqual({
      ok: false,
      reason: 'missing or malformed Authorization header',
    });

    const noDate = signed();
    delete noDate.headers['x-sdk-date'];
    expect(verifySignature(noDate, secretFor, signedAt)).toEqual({ ok: false, reason: 'missing X-Sdk-Date' });

    const dateUnsigned = signed();
    dateUnsigned.headers.authorization = (dateUnsigned.headers.authorization ?? '').replace(
      /SignedHeaders=[^,]+/,
      'SignedHeaders=content-type;host',
    );
    expect(verifySignature(dateUnsigned, secretFor, signedAt)).toEqual({
      ok: false,
      reason: 'x-sdk-date is not signed',
    });
  });

  it('rejects a header list narrowed after signing (dropping a signed header from SignedHeaders)', () => {
    const req = signed();
    req.headers.authorization = (req.headers.authorization ?? '').replace(
      'SignedHeaders=content-type;host;',
      'SignedHeaders=host;',
    );
    expect(verifySignature(req, secretFor, signedAt)).toEqual({ ok: false, reason: 'signature mismatch' });
  });
});
