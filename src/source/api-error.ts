/** Turning the DWS API's error answers (and its gateway's) into the errors of src/core/errors.ts. */
import { DwsApiError, DwsAuthError, type ApiCallContext } from '../core/errors.js';
import type { HttpResponse } from './http-client.js';

/** Gateway wording for a signature outside the accepted time window. */
const CLOCK_SKEW = /clock|skew|x-sdk-date|expired|too far|time window/i;
const CLOCK_HINT =
  " [hint: this machine's clock may be off: AK/SK signatures (X-Sdk-Date) are accepted within 15 minutes of the gateway's time; sync the clock (NTP)]";

/** The API's error answer as an error: DwsAuthError for 401/403 (with a clock hint for signed requests), else DwsApiError. */
export function apiError(call: ApiCallContext, response: HttpResponse, signed: boolean): DwsApiError {
  const headerRequestId = headerValue(response.headers['x-request-id']);
  let errorCode: string | null = null;
  let errorMsg: string | null = null;
  let bodyRequestId: string | null = null;
  try {
    const body: unknown = JSON.parse(response.body);
    if (body && typeof body === 'object') {
      const fields = body as Record<string, unknown>;
      errorCode = typeof fields.error_code === 'string' ? fields.error_code : null;
      errorMsg = typeof fields.error_msg === 'string' ? fields.error_msg : null;
      bodyRequestId = typeof fields.request_id === 'string' ? fields.request_id : null;
    }
  } catch {
    errorMsg = response.body.slice(0, 200).replace(/\s+/g, ' ').trim() || null;
  }
  if (signed && response.status === 401 && errorMsg !== null && CLOCK_SKEW.test(errorMsg)) errorMsg += CLOCK_HINT;
  const details = { status: response.status, errorCode, errorMsg, requestId: headerRequestId ?? bodyRequestId };
  return response.status === 401 || response.status === 403
    ? new DwsAuthError(call, details)
    : new DwsApiError(call, details);
}

export function headerValue(value: string | string[] | undefined): string | null {
  return (Array.isArray(value) ? value[0] : value) ?? null;
}

/** " APIG.0xxx: message" from a gateway's error body, when it has one (for the endpoint breaker's reason). */
export function gatewayDetail(response: HttpResponse): string {
  const { errorCode, errorMsg } = apiError({ projectId: '', clusterId: '', path: '' }, response, false).details;
  return `${errorCode ? ` ${errorCode}` : ''}${errorMsg ? `: ${errorMsg}` : ''}`;
}
