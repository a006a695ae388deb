/**
 * What the simulator answers, as values: the DWS and API-gateway error bodies
 * and the injected-fault replies. Built apart from the server so that every
 * endpoint speaks the same error dialect as the real service, and the server
 * alone decides how a reply goes on the wire.
 */
import type { FaultInjector } from './faults.js';

export interface Reply {
  readonly status: number;
  readonly body: string;
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Destroy the connection instead of answering (injected fault). */
  readonly reset?: boolean;
}

/** What a misbehaving proxy in front of the API might return with a 200. */
export const MALFORMED_BODY = '<html><body><h1>502 Bad Gateway</h1></body></html>';

export function json(status: number, value: unknown): Reply {
  return { status, body: JSON.stringify(value) };
}

export function dwsError(status: number, code: string, msg: string): Reply {
  return json(status, { error_code: code, error_msg: msg });
}

export function badRequest(problem: string): Reply {
  return dwsError(400, 'DWS.0001', `Invalid parameter: ${problem}.`);
}

/** API gateway errors carry the request id in the body too. */
export function gatewayError(status: number, code: string, msg: string, requestId: string): Reply {
  return json(status, { error_code: code, error_msg: msg, request_id: requestId });
}

export function injectedReply(injector: FaultInjector, requestId: string): Reply | undefined {
  const fault = injector.requestFault();
  switch (fault.kind) {
    case 'none':
      return undefined;
    case 'reset':
      return { status: 0, body: '', reset: true };
    case 'malformed':
      return { status: 200, contentType: 'text/html', body: MALFORMED_BODY };
    case 'truncated':
      return { status: 200, body: '{"logical_cluster_tasks":[{"type":"Gro' };
    case 'missing_tasks':
      return json(200, {});
    case 'status':
      if (fault.status === 429) {
        return {
          ...gatewayError(429, 'APIG.0308', 'The request is throttled: policy user over ratelimit.', requestId),
          ...(fault.retryAfterSeconds === undefined ? {} : { headers: { 'Retry-After': String(fault.retryAfterSeconds) } }),
        };
      }
      return dwsError(fault.status, 'DWS.0000', 'Internal service error (injected).');
  }
}
