/**
 * Transport failures an operator can fix get a message naming the cause and
 * the fix, keeping the original code (retry and breaker decisions match on
 * it) and the original error as the cause.
 */
import { describe, expect, it } from 'vitest';
import { NetworkFailure, withNetworkHint } from '../../../src/source/network-hint.js';

function coded(message: string, code?: string, cause?: unknown): Error {
  const error = new Error(message, { cause });
  return code === undefined ? error : Object.assign(error, { code });
}

describe('withNetworkHint', () => {
  it.each([
    ['SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain'],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'unable to verify the first certificate'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate'],
    ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'unable to get local issuer certificate'],
  ])('%s: names the unknown CA and NODE_EXTRA_CA_CERTS, keeps the code and the cause', (code, message) => {
    const original = coded(message, code);
    const hinted = withNetworkHint(original, false);
    expect(hinted).toBeInstanceOf(NetworkFailure);
    expect(hinted).toMatchObject({ code, cause: original });
    expect((hinted as Error).message).toBe(
      `the server's certificate is signed by an unknown CA (${code}: ${message}); ` +
        'if your network uses a private CA (for example a TLS-inspecting proxy), set NODE_EXTRA_CA_CERTS=/path/to/ca.pem',
    );
  });

  it('finds a TLS error wrapped by undici (SecureProxyConnectionError keeps it as the cause)', () => {
    const tls = coded("Hostname/IP does not match certificate's altnames", 'ERR_TLS_CERT_ALTNAME_INVALID');
    const hinted = withNetworkHint(coded('Secure Proxy Connection failed', 'UND_ERR_PRX_TLS', tls), true);
    expect((hinted as Error).message).toMatch(/^the server's certificate does not name this host \(ERR_TLS_CERT_ALTNAME_INVALID/);
  });

  it('an expired certificate says so', () => {
    expect((withNetworkHint(coded('certificate has expired', 'CERT_HAS_EXPIRED'), false) as Error).message).toMatch(
      /^the server's certificate has expired \(CERT_HAS_EXPIRED\)/,
    );
  });

  it('a proxy that wants credentials, through a tunnel or not, says where to put them', () => {
    for (const error of [
      coded('Proxy response (407) !== 200 when HTTP Tunneling', 'UND_ERR_ABORTED'),
      coded('Proxy Authentication Required (407)', 'UND_ERR_INVALID_ARG'),
    ]) {
      const hinted = withNetworkHint(error, true) as NetworkFailure;
      expect(hinted.message).toMatch(/^the proxy requires authentication \(407\): put the credentials in the proxy URL/);
      expect(hinted.code).toBe((error as NetworkFailure).code);
    }
  });

  it('a tunnel refused with 403 says the host is not allowed, and names NO_PROXY', () => {
    const hinted = withNetworkHint(coded('Proxy response (403) !== 200 when HTTP Tunneling', 'UND_ERR_ABORTED'), true);
    expect((hinted as Error).message).toMatch(/^the proxy refused to open a tunnel to the host \(HTTP 403\).*NO_PROXY/);
  });

  it.each([[502], [504]])('a tunnel answered %i says the proxy could not reach the host, not that the host is not allowed', (status) => {
    const hinted = withNetworkHint(coded(`Proxy response (${status}) !== 200 when HTTP Tunneling`, 'UND_ERR_ABORTED'), true) as NetworkFailure;
    expect(hinted.message).toMatch(new RegExp(`^the proxy could not reach the host \\(HTTP ${status} to CONNECT\\)`));
    expect(hinted.message).not.toMatch(/allowed|refused/);
    expect(hinted.code).toBe('UND_ERR_ABORTED');
  });

  it('a tunnel answered 503 says the proxy is unavailable; any other status only that no tunnel was opened', () => {
    const unavailable = withNetworkHint(coded('Proxy response (503) !== 200 when HTTP Tunneling', 'UND_ERR_ABORTED'), true) as Error;
    expect(unavailable.message).toMatch(/^the proxy is unavailable \(HTTP 503 to CONNECT\)/);
    const other = withNetworkHint(coded('Proxy response (404) !== 200 when HTTP Tunneling', 'UND_ERR_ABORTED'), true) as Error;
    expect(other.message).toMatch(/^the proxy did not open a tunnel to the host \(HTTP 404 to CONNECT\)/);
    for (const hinted of [unavailable, other]) expect(hinted.message).not.toMatch(/allowed/);
  });

  it('a name that does not resolve suggests HTTPS_PROXY only when no proxy is configured', () => {
    const error = coded('getaddrinfo ENOTFOUND dws.example.test', 'ENOTFOUND');
    expect((withNetworkHint(error, false) as Error).message).toBe(
      'getaddrinfo ENOTFOUND dws.example.test; if this network reaches Huawei Cloud only through a proxy, set HTTPS_PROXY (and NO_PROXY for hosts reached directly)',
    );
    expect(withNetworkHint(error, true)).toBe(error);
  });

  it('a Huawei Cloud name that does not resolve also suggests checking the region, proxy or not', () => {
    const error = coded('getaddrinfo ENOTFOUND dws.cn-north-44.myhuaweicloud.com', 'ENOTFOUND');
    expect((withNetworkHint(error, true) as Error).message).toBe(
      'getaddrinfo ENOTFOUND dws.cn-north-44.myhuaweicloud.com; check that the region "cn-north-44" exists and offers DWS (config "region")',
    );
    expect((withNetworkHint(error, false) as Error).message).toMatch(/region "cn-north-44" exists .*; if this network reaches Huawei Cloud only through a proxy/);
  });

  it('leaves every other failure as it was', () => {
    const refused = coded('connect ECONNREFUSED 127.0.0.1:443', 'ECONNREFUSED');
    expect(withNetworkHint(refused, false)).toBe(refused);
    expect(withNetworkHint('not an error', false)).toBe('not an error');
  });
});
