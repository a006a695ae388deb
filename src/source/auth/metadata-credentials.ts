/**
 * Temporary AK/SK + security token from the ECS/CCE metadata service
 * (`GET /openstack/latest/securitykey`), for nodes with an agency attached:
 * cached, fetched again before it expires, and kept in use while the
 * service is unreachable. Never through a proxy.
 */
import { z } from 'zod';
import { CredentialError } from '../../core/errors.js';
import { errorSummary, type AuthHttpResponse, type RefreshOptions } from './auth-http.js';
import { akskAdvice, maskAccessKey, type CredentialLease, type CredentialProvider } from './credential-provider.js';

export const SECURITY_KEY_PATH = '/openstack/latest/securitykey';
export const METADATA_TOKEN_PATH = '/meta-data/latest/api/token';
const TOKEN_TTL_SECONDS = String(6 * 60 * 60);
const NO_AGENCY = 'Please configure Cloud Service Agency first';

/** refreshMarginMs defaults to 5 min. */
export interface MetadataOptions extends RefreshOptions {
  readonly url: string;
}

const securityKeySchema = z.object({
  credential: z.object({
    access: z.string().min(1),
    secret: z.string().min(1),
    securitytoken: z.string().min(1),
    expires_at: z.string().refine((value) => !Number.isNaN(Date.parse(value)), 'not a timestamp'),
  }),
});

interface Cached {
  readonly lease: CredentialLease;
  readonly expiresAt: number;
  /** Earliest time of the next fetch. */
  nextFetchAt: number;
}

const WHERE = 'the agency of this ECS/CCE node, via the metadata service';

export function metadataProvider(options: MetadataOptions): CredentialProvider {
  const base = new URL(options.url);
  const margin = options.refreshMarginMs ?? 5 * 60_000;
  const retryInterval = options.retryIntervalMs ?? 30_000;
  let cached: Cached | null = null;
  let inFlight: Promise<Cached> | null = null;
  let session: string | null | undefined; // undefined: not asked yet; null: service has none
  let generation = 0;

  const send = (method: 'GET' | 'PUT', path: string, headers: Record<string, string>, signal?: AbortSignal) =>
    // Link-local, on the node itself: a proxy could not reach it, and must never see its credentials.
    options.http.send({ method, url: new URL(path, base), headers, what: 'the metadata service', signal, direct: true });

  const refreshSession = async (signal?: AbortSignal): Promise<void> => {
    const response = await send('PUT', METADATA_TOKEN_PATH, { 'x-metadata-token-ttl-seconds': TOKEN_TTL_SECONDS }, signal);
    if (response.status === 200) session = response.body.trim();
    else if (response.status === 404 || response.status === 405) session = null;
    else throw refusal(response);
  };

  const fetchCredential = async (signal?: AbortSignal): Promise<Cached> => {
    if (session === undefined) await refreshSession(signal);
    const get = () => send('GET', SECURITY_KEY_PATH, session ? { 'x-metadata-token': session } : {}, signal);
    let response = await get();
    if (response.status === 401 && !response.body.includes(NO_AGENCY)) {
      // The session token expired (6 h): ask for a new one once.
      await refreshSession(signal);
      response = await get();
    }
    if (response.status !== 200) throw refusal(response);
    let parsed: z.output<typeof securityKeySchema>;
    try {
      parsed = securityKeySchema.parse(JSON.parse(response.body));
    } catch {
      throw new CredentialError(
        'DWS_PAYLOAD_INVALID',
        `the metadata service at ${base.origin} answered ${SECURITY_KEY_PATH} with something other than {"credential": {access, secret, securitytoken, expires_at}}`,
      );
    }
    const c = parsed.credential;
    const expiresAt = Date.parse(c.expires_at);
    const now = options.clock();
    const sameKey = cached?.lease.credential.kind === 'aksk' && cached.lease.credential.accessKey === c.access;
    if (cached && sameKey && expiresAt <= cached.expiresAt) {
      // Not rotated yet: keep it, ask again a little later.
      cached.nextFetchAt = now + retryInterval;
      return cached;
    }
    if (expiresAt <= now) {
      throw new CredentialError('DWS_AUTH_FAILED', `the metadata service at ${base.origin} handed out a credential that expired at ${c.expires_at}`);
    }
    // The same key with a later expiry is the same credential for the auth breaker.
    if (!sameKey) generation += 1;
    return {
      lease: {
        credential: { kind: 'aksk', accessKey: c.access, secretKey: c.secret, securityToken: c.securitytoken },
        key: `metadata#${generation}`,
        label: `temporary AK/SK from the metadata service (access key ${maskAccessKey(c.access)}, expires ${c.expires_at})`,
        advice: akskAdvice(WHERE),
      },
      expiresAt,
      nextFetchAt: Math.max(now, expiresAt - margin),
    };
  };

  const refresh = (signal?: AbortSignal): Promise<Cached> => {
    inFlight ??= fetchCredential(signal).finally(() => {
      inFlight = null;
    });
    return inFlight;
  };

  const refusal = (response: AuthHttpResponse): CredentialError =>
    new CredentialError(
      response.status === 401 || response.status === 403 || response.status === 404 ? 'DWS_AUTH_FAILED' : 'DWS_NETWORK_ERROR',
      `the metadata service at ${base.origin} refused temporary credentials (${errorSummary(response)})` +
        (response.body.includes(NO_AGENCY) || response.status === 404
          ? ': attach an agency (Cloud Service Agency) with DWS permissions to this ECS/CCE node'
          : ''),
    );

  return {
    async lease(_projectId, signal) {
      const now = options.clock();
      if (cached && now < cached.nextFetchAt) return cached.lease;
      try {
        cached = await refresh(signal);
      } catch (error) {
        // Keep a credential that is still valid through a metadata hiccup.
        if (cached && now < cached.expiresAt) {
          cached.nextFetchAt = now + retryInterval;
          options.onWarning?.(`${(error as Error).message}; still using the current temporary credential until it expires`);
          return cached.lease;
        }
        throw error;
      }
      return cached.lease;
    },
    refused(lease) {
      // Rotated or revoked early: fetch again on the next lease.
      if (cached && lease.key === cached.lease.key) cached.nextFetchAt = 0;
    },
  };
}
