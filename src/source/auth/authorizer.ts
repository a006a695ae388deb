/**
 * The seam where credentials become request headers. The DWS client asks an
 * authorizer for the headers of each request; which scheme (IAM token, AK/SK
 * signature, later: rotating temporary credentials) is decided once, here.
 */
import type { Credentials } from '../../config/env.js';
import { signRequest } from './signer.js';

export interface RequestAuthorizer {
  /** All headers to send for this GET, auth included. */
  headersFor(url: URL, projectId: string): Readonly<Record<string, string>>;
}

export function createAuthorizer(credentials: Credentials, now: () => Date = () => new Date()): RequestAuthorizer {
  switch (credentials.kind) {
    case 'token':
      return {
        headersFor: (_url, projectId) => ({ 'x-auth-token': credentials.token, 'x-project-id': projectId }),
      };
    case 'aksk':
      return {
        headersFor: (url, projectId) =>
          signRequest(
            { method: 'GET', url, headers: { 'content-type': 'application/json', 'x-project-id': projectId } },
            credentials,
            now(),
          ),
      };
  }
}
