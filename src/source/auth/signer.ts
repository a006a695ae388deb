/**
 * Request signing, algorithm SDK-HMAC-SHA256. Hand-written: the official SDK
 * brings axios, lodash, moment and log4js for ~60 lines of HMAC; checked
 * against the published vectors and differentially against its AKSKSigner.
 * `verifySignature` is the gateway's side, for the simulator.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNING_ALGORITHM = 'SDK-HMAC-SHA256';
const EMPTY_BODY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export interface SigningCredentials {
  readonly accessKey: string;
  readonly secretKey: string;
  /** Present with temporary credentials (metadata service, STS). */
  readonly securityToken?: string | undefined;
}

export interface RequestToSign {
  readonly method: string;
  readonly url: URL;
  /** Headers that will be sent and signed (host is added from the URL). */
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

/** RFC 3986 encoding as the gateway expects: unreserved kept, upper-case hex. */
export function encodeRfc3986(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** `20191115T033655Z`. */
export function formatSdkDate(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

function canonicalUri(pathname: string): string {
  const segments = pathname.split('/').map((s) => encodeRfc3986(safeDecode(s)));
  const joined = segments.join('/');
  return joined.endsWith('/') ? joined : `${joined}/`;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function canonicalQuery(params: URLSearchParams): string {
  const pairs: [string, string][] = [];
  for (const [key, value] of params) pairs.push([encodeRfc3986(key), encodeRfc3986(value)]);
  pairs.sort(([ak, av], [bk, bv]) => (ak === bk ? compare(av, bv) : compare(ak, bk)));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sha256Hex(data: string): string {
  return createHash('sha256').update(data, 'utf8').digest('hex');
}

/** Lower-cased, trimmed headers, sorted by name. */
function normaliseHeaders(headers: Readonly<Record<string, string>>): [string, string][] {
  return Object.entries(headers)
    .map(([k, v]): [string, string] => [k.toLowerCase(), v.trim()])
    .sort(([a], [b]) => compare(a, b));
}

export function canonicalRequest(
  method: string,
  url: URL,
  signedHeaders: readonly [string, string][],
  body: string,
): string {
  return [
    method.toUpperCase(),
    canonicalUri(url.pathname),
    canonicalQuery(url.searchParams),
    signedHeaders.map(([k, v]) => `${k}:${v}\n`).join(''),
    signedHeaders.map(([k]) => k).join(';'),
    body === '' ? EMPTY_BODY_SHA256 : sha256Hex(body),
  ].join('\n');
}

export function stringToSign(sdkDate: string, canonical: string): string {
  return `${SIGNING_ALGORITHM}\n${sdkDate}\n${sha256Hex(canonical)}`;
}

function hmacHex(key: string, data: string): string {
  return createHmac('sha256', key).update(data, 'utf8').digest('hex');
}

/**
 * Returns the headers to send: everything in `req.headers`, plus `Host`,
 * `X-Sdk-Date`, `Authorization` and, with temporary credentials,
 * `X-Security-Token`. Every header sent is signed, as the Node SDK does.
 */
export function signRequest(
  req: RequestToSign,
  credentials: SigningCredentials,
  now: Date,
): Record<string, string> {
  const sdkDate = formatSdkDate(now);
  const headers: Record<string, string> = {
    ...req.headers,
    host: req.url.host,
    'x-sdk-date': sdkDate,
  };
  if (credentials.securityToken) headers['x-security-token'] = credentials.securityToken;
  const signed = normaliseHeaders(headers);
  const canonical = canonicalRequest(req.method, req.url, signed, req.body ?? '');
  const signature = hmacHex(credentials.secretKey, stringToSign(sdkDate, canonical));
  headers.authorization =
    `${SIGNING_ALGORITHM} Access=${credentials.accessKey}, ` +
    `SignedHeaders=${signed.map(([k]) => k).join(';')}, Signature=${signature}`;
  return headers;
}

const AUTHORIZATION_PATTERN =
  /^SDK-HMAC-SHA256\s+Access=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]+)$/;

export type VerifyResult =
  | { readonly ok: true; readonly accessKey: string }
  | { readonly ok: false; readonly reason: string };

/**
 * The gateway's check, for the simulator: recompute the signature over the
 * headers the client says it signed and compare in constant time.
 */
export function verifySignature(
  req: {
    readonly method: string;
    readonly url: URL;
    readonly headers: Readonly<Record<string, string | string[] | undefined>>;
    readonly body?: string;
  },
  secretFor: (accessKey: string) => string | undefined,
  now: Date,
  maxSkewMs = 15 * 60 * 1000,
): VerifyResult {
  const header = single(req.headers.authorization);
  const match = header ? AUTHORIZATION_PATTERN.exec(header) : null;
  if (!match) return { ok: false, reason: 'missing or malformed Authorization header' };
  const [, accessKey = '', signedList = '', signature = ''] = match;
  const secret = secretFor(accessKey);
  if (secret === undefined) return { ok: false, reason: 'unknown access key' };
  const sdkDate = single(req.headers['x-sdk-date']);
  if (!sdkDate) return { ok: false, reason: 'missing X-Sdk-Date' };
  const signedAt = Date.parse(
    sdkDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'),
  );
  if (Number.isNaN(signedAt) || Math.abs(now.getTime() - signedAt) > maxSkewMs) {
    return { ok: false, reason: 'X-Sdk-Date is invalid or too far from server time (clock skew?)' };
  }
  const names = signedList.split(';');
  if (!names.includes('x-sdk-date')) return { ok: false, reason: 'x-sdk-date is not signed' };
  const signed: [string, string][] = [];
  for (const name of names) {
    const value = single(req.headers[name]);
    if (value === undefined) return { ok: false, reason: `signed header ${name} is missing` };
    signed.push([name, value.trim()]);
  }
  const canonical = canonicalRequest(req.method, req.url, signed, req.body ?? '');
  const expected = Buffer.from(hmacHex(secret, stringToSign(sdkDate, canonical)));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) {
    return { ok: false, reason: 'signature mismatch' };
  }
  return { ok: true, accessKey };
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
