/**
 * Which errors mean "could not talk to the endpoint at all" (refused, reset,
 * DNS, TLS, connect timeout, a proxy answering CONNECT with 502/503/504):
 * what the endpoint breaker counts. A server that accepted the connection
 * and was slow (headers/body timeouts) is not one.
 */
import { GATEWAY_OUTAGE_STATUS } from './endpoint-breaker.js';

const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME',
  'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET',
  'EPROTO', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID',
]);
const TLS_ERROR_CODE = /^(ERR_TLS_|ERR_SSL_|UNABLE_TO_)/;

// undici's RequestAbortedError (UND_ERR_ABORTED) for a CONNECT not answered 200: the status is only in the message.
const TUNNEL_FAILED = /^Proxy response \((\d{3})\) !== 200 when HTTP Tunneling$/;

/** The status a proxy answered to CONNECT, when `error` is undici's failed tunnel; else null. */
export function tunnelStatus(error: unknown): number | null {
  if (typeof error !== 'object' || error === null) return null;
  const { message } = error as { message?: unknown };
  const match = typeof message === 'string' ? TUNNEL_FAILED.exec(message) : null;
  return match ? Number(match[1]) : null;
}

/** A proxy answering CONNECT with 502/503/504: the host behind it is unreachable, as if connecting had failed. */
export function isTunnelOutage(error: unknown): boolean {
  return GATEWAY_OUTAGE_STATUS.includes(tunnelStatus(error) ?? 0);
}

/** Whether an error (or its cause) is a failure to connect: refused, reset, DNS, TLS, connect timeout, tunnel outage. */
export function isConnectionFailure(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 3) return false;
  const { code, cause } = error as { code?: unknown; cause?: unknown };
  if (typeof code === 'string' && (CONNECTION_ERROR_CODES.has(code) || TLS_ERROR_CODE.test(code))) return true;
  if (isTunnelOutage(error)) return true;
  if (error instanceof AggregateError && error.errors.some((e) => isConnectionFailure(e, depth + 1))) return true;
  return isConnectionFailure(cause, depth + 1);
}
