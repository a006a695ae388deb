/**
 * IAM tokens from user/password (`POST /v3/auth/tokens`), one per project (a
 * token is scoped to one), fetched again before they expire. IAM locks a user
 * after repeated wrong passwords, so a refused password is never sent twice:
 * later leases fail at once until the password itself changes.
 */
import { z } from 'zod';
import { CredentialError } from '../../core/errors.js';
import { errorSummary, type RefreshOptions } from './auth-http.js';
import type { CredentialLease, CredentialProvider } from './credential-provider.js';
import type { SecretReader } from './file-credentials.js';

export const IAM_TOKENS_PATH = '/v3/auth/tokens';

/** refreshMarginMs defaults to 1 h. */
export interface IamTokenOptions extends RefreshOptions {
  readonly domainName: string;
  readonly userName: string;
  readonly password: SecretReader;
  /** IAM endpoint per project id. */
  readonly iamEndpoints: Readonly<Record<string, string>>;
}

const tokenBodySchema = z.object({
  token: z.object({ expires_at: z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'not a timestamp') }),
});

interface ProjectToken {
  readonly token: string;
  readonly expiresAt: number;
  nextFetchAt: number;
}

export function iamTokenProvider(options: IamTokenOptions): CredentialProvider {
  const margin = options.refreshMarginMs ?? 60 * 60_000;
  const retryInterval = options.retryIntervalMs ?? 30_000;
  const who = `user "${options.userName}" of account "${options.domainName}"`;
  const label = `IAM tokens of ${who}`;
  const advice =
    `check the password (${options.password.origin}), the user and account names in auth.iam, ` +
    'that the user is not locked (IAM locks a user after repeated wrong passwords), ' +
    'and that the user is allowed dws:cluster:listLogicalClusterTask (and dws:cluster:list for cluster discovery) in the project';
  const tokens = new Map<string, ProjectToken>();
  const inFlight = new Map<string, Promise<ProjectToken>>();
  /** Refusals for the current password: '*' for the whole user (401), else per project (403). */
  const refusals = new Map<string, CredentialError>();
  let password: string | null = null;
  let generation = 0;

  const fetchToken = async (projectId: string, secret: string, signal?: AbortSignal): Promise<ProjectToken> => {
    const endpoint = options.iamEndpoints[projectId];
    if (endpoint === undefined) {
      throw new CredentialError('DWS_AUTH_FAILED', `no IAM endpoint for project ${projectId}: set auth.iam.endpoint or the project's region`);
    }
    const body = JSON.stringify({
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { domain: { name: options.domainName }, name: options.userName, password: secret } },
        },
        scope: { project: { id: projectId } },
      },
    });
    const response = await options.http.send({
      method: 'POST',
      url: new URL(`${endpoint}${IAM_TOKENS_PATH}`),
      headers: { 'content-type': 'application/json;charset=utf8' },
      body,
      what: 'IAM',
      signal,
    });
    if (response.status === 401 || response.status === 403) {
      const error = new CredentialError(
        'DWS_AUTH_FAILED',
        `IAM at ${new URL(endpoint).origin} refused a token for ${who}` +
          `${response.status === 403 ? ` in project ${projectId}` : ''} (${errorSummary(response)}); ` +
          'the password is not sent again during this run',
      );
      refusals.set(response.status === 401 ? '*' : projectId, error);
      throw error;
    }
    const subject = response.headers['x-subject-token'];
    const token = Array.isArray(subject) ? subject[0] : subject;
    const parsed = tokenBodySchema.safeParse(safeJson(response.body));
    if ((response.status !== 201 && response.status !== 200) || !token || !parsed.success) {
      throw new CredentialError(
        response.status >= 500 ? 'DWS_NETWORK_ERROR' : 'DWS_PAYLOAD_INVALID',
        `IAM at ${new URL(endpoint).origin} did not issue a token for project ${projectId} (${errorSummary(response)})`,
      );
    }
    const expiresAt = Date.parse(parsed.data.token.expires_at);
    return { token, expiresAt, nextFetchAt: Math.max(options.clock(), expiresAt - margin) };
  };

  const leaseOf = (entry: ProjectToken): CredentialLease => ({
    credential: { kind: 'token', token: entry.token },
    // Per user and password, not per token: refusals of fresh tokens still add up.
    key: `iam#${generation}`,
    label,
    advice,
  });

  return {
    async lease(projectId, signal) {
      const secret = await options.password.read();
      if (secret !== password) {
        password = secret;
        generation += 1;
        tokens.clear();
        refusals.clear();
      }
      const refused = refusals.get('*') ?? refusals.get(projectId);
      if (refused) throw refused;
      const now = options.clock();
      const current = tokens.get(projectId);
      if (current && now < current.nextFetchAt) return leaseOf(current);
      let pending = inFlight.get(projectId);
      if (!pending) {
        pending = fetchToken(projectId, secret, signal).finally(() => inFlight.delete(projectId));
        inFlight.set(projectId, pending);
      }
      try {
        const fresh = await pending;
        tokens.set(projectId, fresh);
        return leaseOf(fresh);
      } catch (error) {
        if (current && now < current.expiresAt && !refusals.has('*') && !refusals.has(projectId)) {
          current.nextFetchAt = now + retryInterval;
          options.onWarning?.(`${(error as Error).message}; still using the current token until it expires`);
          return leaseOf(current);
        }
        throw error;
      }
    },
    refused(lease, projectId) {
      // Revoked before its expiry, perhaps: get a new token on the next lease.
      if (lease.key === `iam#${generation}`) tokens.delete(projectId);
    },
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
