/**
 * Failures to obtain credentials (credential files, the metadata service,
 * IAM). They carry the stable codes of src/errors.ts, so the ledger, the exit
 * code (6 when every cluster failed with DWS_AUTH_FAILED) and automation treat
 * them like the DWS API's own refusals. Messages name where the credential
 * was to come from, never its value.
 */
import { ExporterError, type ErrorCode } from '../../errors.js';

export type CredentialErrorCode = Extract<ErrorCode, 'DWS_AUTH_FAILED' | 'DWS_NETWORK_ERROR' | 'DWS_PAYLOAD_INVALID'>;

export class CredentialError extends ExporterError {
  readonly code: CredentialErrorCode;
  constructor(code: CredentialErrorCode, message: string, options?: { readonly cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
