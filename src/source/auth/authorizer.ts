/**
 * The seam where credentials become request headers. The DWS client asks the
 * authorizer for each request's headers; which source (fixed values, files,
 * the metadata service, IAM tokens) and which scheme (AK/SK signature or
 * X-Auth-Token) is decided once, here. The lease that comes back with the
 * headers tells the auth breaker which credential was used.
 */
import type { Credentials, ProxyEnv } from '../../config/env.js';
import { createAuthHttp } from './auth-http.js';
import { fixedProvider, type CredentialLease, type CredentialProvider } from './credential-provider.js';
import { fileCredentialsProvider, SecretReader } from './file-credentials.js';
import { iamTokenProvider } from './iam-token.js';
import { metadataProvider } from './metadata-credentials.js';
import { signRequest } from './signer.js';

export interface AuthorizedRequest {
  /** All headers to send for this GET, auth included. */
  readonly headers: Readonly<Record<string, string>>;
  readonly lease: CredentialLease;
}

export interface RequestAuthorizer {
  authorize(url: URL, projectId: string, signal?: AbortSignal): Promise<AuthorizedRequest>;
  /** The API refused the request made with `lease` (401/403). */
  refused(lease: CredentialLease, projectId: string): void;
  /** Closes the connections to the metadata service or IAM, if any were opened. */
  close(): Promise<void>;
}

export interface AuthorizerOptions {
  /** Signing clock (X-Sdk-Date). */
  readonly now?: () => Date;
  /** Expiry clock for temporary credentials and tokens, in ms. */
  readonly clock?: () => number;
  /** Timeout of metadata-service and IAM requests. Default 10 s. */
  readonly timeoutMs?: number;
  /** Credential files are stat'ed at most this often. Default 1 s. */
  readonly fileCheckIntervalMs?: number;
  readonly onWarning?: (message: string) => void;
  /** For IAM; the metadata service is always reached directly. */
  readonly proxy?: ProxyEnv | undefined;
}

export function createAuthorizer(credentials: Credentials, options: AuthorizerOptions = {}): RequestAuthorizer {
  const now = options.now ?? (() => new Date());
  const clock = options.clock ?? Date.now;
  const http = createAuthHttp(options.timeoutMs ?? 10_000, options.proxy);
  const fileOptions = { clock, checkIntervalMs: options.fileCheckIntervalMs ?? 1000, onWarning: options.onWarning };
  const provider = providerFor(credentials);

  function providerFor(c: Credentials): CredentialProvider {
    switch (c.kind) {
      case 'aksk':
        return fixedProvider(c, 'HUAWEICLOUD_SDK_AK / HUAWEICLOUD_SDK_SK');
      case 'token':
        return fixedProvider(c, 'DWS_AUTH_TOKEN');
      case 'aksk-files':
      case 'token-file':
        return fileCredentialsProvider(c, fileOptions);
      case 'metadata':
        return metadataProvider({ url: c.url, http, clock, onWarning: options.onWarning });
      case 'iam-password':
        return iamTokenProvider({
          domainName: c.domainName,
          userName: c.userName,
          password: new SecretReader(c.password, fileOptions),
          iamEndpoints: c.iamEndpoints,
          http,
          clock,
          onWarning: options.onWarning,
        });
    }
  }

  return {
    async authorize(url, projectId, signal) {
      const lease = await provider.lease(projectId, signal);
      const credential = lease.credential;
      const headers =
        credential.kind === 'token'
          ? { 'x-auth-token': credential.token, 'x-project-id': projectId }
          : signRequest(
              { method: 'GET', url, headers: { 'content-type': 'application/json', 'x-project-id': projectId } },
              credential,
              now(),
            );
      return { headers, lease };
    },
    refused(lease, projectId) {
      provider.refused(lease, projectId);
    },
    close: () => http.close(),
  };
}
