/**
 * Transport failures an operator can fix (an unknown CA, a proxy that wants
 * credentials, a name only a proxy can resolve) get a message that names the
 * cause and the fix. The error's code stays, so retry and breaker decisions
 * that match on it are unchanged.
 */
import { tunnelStatus } from './connection-failure.js';

/** Node's codes for a certificate chain that ends in no trusted root. */
const UNKNOWN_CA = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
]);

const CA_ADVICE = 'if your network uses a private CA (for example a TLS-inspecting proxy), set NODE_EXTRA_CA_CERTS=/path/to/ca.pem';
// undici's wording for a 407 to an absolute-form request.
const PROXY_AUTH = /^Proxy Authentication Required \(407\)$/;

/** A failure with its hint; `code` and `cause` are the original error's. */
export class NetworkFailure extends Error {
  constructor(
    message: string,
    readonly code: string,
    cause: unknown,
  ) {
    super(message, { cause });
  }

  override get name(): string {
    return 'NetworkFailure';
  }
}

interface CodedError {
  readonly code?: unknown;
  readonly message?: unknown;
  readonly cause?: unknown;
}

/** `error` with a hint when one applies, else `error` itself. */
export function withNetworkHint<E>(error: E, proxied: boolean): E | NetworkFailure {
  // A TLS error may come wrapped (undici's SecureProxyConnectionError keeps it as the cause).
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 3; current = current.cause, depth++) {
    const hinted = hint(current as CodedError, proxied);
    if (hinted !== null) return new NetworkFailure(hinted.message, hinted.code, error);
  }
  return error;
}

function hint(error: CodedError, proxied: boolean): { readonly message: string; readonly code: string } | null {
  const code = typeof error.code === 'string' ? error.code : '';
  const message = typeof error.message === 'string' ? error.message : '';
  if (UNKNOWN_CA.has(code)) {
    return { code, message: `the server's certificate is signed by an unknown CA (${code}: ${message}); ${CA_ADVICE}` };
  }
  if (code === 'CERT_HAS_EXPIRED') {
    return { code, message: `the server's certificate has expired (${code}); if a TLS-inspecting proxy presents it, its certificate must be renewed` };
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return { code, message: `the server's certificate does not name this host (${code}: ${message}); check the endpoint URL` };
  }
  const tunnel = tunnelStatus(error);
  if (tunnel === 407 || PROXY_AUTH.test(message)) {
    return {
      code: code || 'UND_ERR_PROXY_AUTH',
      message: 'the proxy requires authentication (407): put the credentials in the proxy URL, http://user:password@proxy:3128 (percent-encode special characters)',
    };
  }
  if (tunnel !== null) return { code: code || 'UND_ERR_ABORTED', message: tunnelHint(tunnel) };
  if (code === 'ENOTFOUND') {
    // A name under Huawei Cloud's domains that does not resolve is most often a region that does not exist.
    const region = /ENOTFOUND (?:dws|iam)\.([a-z0-9-]+)\.myhuaweicloud\.(?:com|cn|eu)\b/.exec(message)?.[1];
    const hints = [
      ...(region ? [`check that the region "${region}" exists and offers DWS (config "region")`] : []),
      ...(proxied ? [] : ['if this network reaches Huawei Cloud only through a proxy, set HTTPS_PROXY (and NO_PROXY for hosts reached directly)']),
    ];
    if (hints.length > 0) return { code, message: `${message}; ${hints.join('; ')}` };
  }
  return null;
}

/** What a CONNECT answered `status` tells the operator: only a 403 is the proxy's rules. */
function tunnelHint(status: number): string {
  if (status === 403) return 'the proxy refused to open a tunnel to the host (HTTP 403): ask for the host to be allowed, or list it in NO_PROXY';
  if (status === 502 || status === 504) {
    return `the proxy could not reach the host (HTTP ${status} to CONNECT): the endpoint is down or unreachable from the proxy; check the endpoint URL, or ask the proxy's operators`;
  }
  if (status === 503) return 'the proxy is unavailable (HTTP 503 to CONNECT): it is overloaded, in maintenance, or cannot reach the host';
  return `the proxy did not open a tunnel to the host (HTTP ${status} to CONNECT)`;
}
