/**
 * The metadata service's temporary credentials (`GET /openstack/latest/securitykey`)
 * for a node with an agency, registered in the shared SimIdentities. Like the
 * real service it hands out the next one when the current one has less than
 * `overlapMs` left; optionally requires a session token.
 */
import { randomBytes } from 'node:crypto';
import { isoMicros, type SimIdentities } from './identity.js';
import { jsonReply, startSmallServer } from './small-server.js';

export interface MetadataSimulatorOptions {
  readonly identities: SimIdentities;
  /** Lifetime of each temporary credential. Default 24 h. */
  readonly ttlMs?: number;
  /** A new credential is issued when the current one has less than this left. Default 10 min. */
  readonly overlapMs?: number;
  /** Serve the session-token endpoint and require its token. Default false (404 there). */
  readonly sessionTokens?: boolean;
  /** False: no agency attached to the node (every securitykey request fails). Default true. */
  readonly agency?: boolean;
}

export interface MetadataSimulatorStats {
  securityKeyRequests: number;
  sessionTokenRequests: number;
  /** Access keys handed out, in order. */
  readonly issued: string[];
}

export interface MetadataSimulator {
  readonly url: string;
  readonly stats: MetadataSimulatorStats;
  close(): Promise<void>;
}

export async function startMetadataSimulator(options: MetadataSimulatorOptions): Promise<MetadataSimulator> {
  const ttl = options.ttlMs ?? 24 * 60 * 60_000;
  const overlap = options.overlapMs ?? 10 * 60_000;
  const sessions = new Set<string>();
  const stats: MetadataSimulatorStats = { securityKeyRequests: 0, sessionTokenRequests: 0, issued: [] };
  let current: ReturnType<SimIdentities['issueTemporaryKey']> | null = null;

  const server = await startSmallServer((req, url) => {
    if (url.pathname === '/meta-data/latest/api/token') {
      if (!options.sessionTokens) return jsonReply(404, { error: 'not found' });
      if (req.method !== 'PUT') return jsonReply(405, { error: 'method not allowed' });
      stats.sessionTokenRequests += 1;
      const token = randomBytes(24).toString('hex');
      sessions.add(token);
      return { status: 200, body: token, headers: { 'Content-Type': 'text/plain' } };
    }
    if (url.pathname !== '/openstack/latest/securitykey') return jsonReply(404, { error: 'not found' });
    stats.securityKeyRequests += 1;
    if (options.sessionTokens) {
      const token = req.headers['x-metadata-token'];
      if (typeof token !== 'string' || !sessions.has(token)) return jsonReply(401, { error: 'invalid or missing X-Metadata-Token' });
    }
    if (options.agency === false) return jsonReply(401, { error: 'Please configure Cloud Service Agency first' });
    const now = options.identities.clock();
    if (current === null || current.expiresAt - now < overlap) {
      current = options.identities.issueTemporaryKey(ttl);
      stats.issued.push(current.accessKey);
    }
    return jsonReply(200, {
      credential: {
        access: current.accessKey,
        secret: current.secretKey,
        securitytoken: current.securityToken,
        expires_at: isoMicros(current.expiresAt),
      },
    });
  });
  return { url: server.url, stats, close: () => server.close() };
}
