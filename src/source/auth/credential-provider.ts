/**
 * What every credential source hands the authorizer: the credential to use
 * now, plus what the run may say about it. Providers for fixed values live
 * here; files, the metadata service and IAM tokens have modules of their own.
 */

/** A credential ready to authorise one request. */
export type ResolvedCredential =
  | {
      readonly kind: 'aksk';
      readonly accessKey: string;
      readonly secretKey: string;
      readonly securityToken: string | undefined;
    }
  | { readonly kind: 'token'; readonly token: string };

export interface CredentialLease {
  readonly credential: ResolvedCredential;
  /**
   * Equal for every request made with the same credential, different once it
   * changes (a rewritten file, a rotated temporary key, a new password). The
   * auth breaker counts refusals per key. Never contains a secret.
   */
  readonly key: string;
  /** Which credential, for messages: its source and at most a masked access key. */
  readonly label: string;
  /** What an operator should check when the API refuses it. */
  readonly advice: string;
}

export interface CredentialProvider {
  /** The credential to use now for `projectId`, refreshed or re-read when due. */
  lease(projectId: string, signal?: AbortSignal): Promise<CredentialLease>;
  /** The API refused `lease`: forget cached state so the next lease re-reads or re-obtains. */
  refused(lease: CredentialLease, projectId: string): void;
}

/** Enough of an access key to tell two apart in a message, never all of it. */
export function maskAccessKey(accessKey: string): string {
  return accessKey.length >= 12 ? `${accessKey.slice(0, 4)}…` : '…';
}

export const LOCKOUT_ADVICE =
  'Do not rerun in a loop: the API gateway locks an access key for 5 minutes after more than 5 consecutive failures.';

export function akskAdvice(where: string): string {
  return (
    `check that the access key is valid and enabled and that the secret key belongs to it (${where}), ` +
    'that the IAM user is allowed dws:cluster:listLogicalClusterTask (and dws:cluster:list for cluster discovery) ' +
    "in the project, and that this machine's clock is right (signatures are accepted within 15 minutes of server time). " +
    LOCKOUT_ADVICE
  );
}

export const TOKEN_ADVICE =
  'check that the IAM token has not expired (tokens last 24 h) or been revoked, that it is scoped to the project, ' +
  'and that its user is allowed dws:cluster:listLogicalClusterTask (and dws:cluster:list for cluster discovery)';

/** A credential that never changes: environment values, or the demo's. */
export function fixedProvider(credential: ResolvedCredential, where: string): CredentialProvider {
  const lease: CredentialLease =
    credential.kind === 'aksk'
      ? {
          credential,
          key: 'fixed',
          label: `AK/SK (access key ${maskAccessKey(credential.accessKey)}${credential.securityToken ? ', with security token' : ''})`,
          advice: akskAdvice(where),
        }
      : { credential, key: 'fixed', label: 'the IAM token', advice: `${TOKEN_ADVICE} (${where})` };
  return {
    lease: async () => lease,
    refused: () => undefined,
  };
}
