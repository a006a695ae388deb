/**
 * The simulated cloud's identity state, shared by the DWS API simulator (the
 * gateway checks requests against it), the IAM simulator (issues tokens into
 * it) and the metadata-service simulator (issues temporary AK/SK into it).
 * One clock decides expiry and the accepted signature time window, so tests
 * can move time forward without sleeping.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { verifySignature } from '../source/auth/signer.js';

export interface SimKey {
  readonly accessKey: string;
  readonly secretKey: string;
  /** Temporary keys must be sent with this X-Security-Token. */
  readonly securityToken?: string;
  /** Epoch ms; absent for permanent keys. */
  readonly expiresAt?: number;
}

interface SimToken {
  readonly projectId: string;
  readonly expiresAt: number;
}

export interface IdentityStats {
  /** Requests refused, by reason. */
  readonly refusals: Record<string, number>;
  /** Accepted requests by access key or `token`. */
  readonly acceptedBy: Record<string, number>;
}

export class SimIdentities {
  private readonly keys = new Map<string, SimKey>();
  private readonly tokens = new Map<string, SimToken>();
  readonly stats: IdentityStats = { refusals: Object.create(null) as Record<string, number>, acceptedBy: Object.create(null) as Record<string, number> };

  constructor(readonly clock: () => number = Date.now) {}

  addKey(key: SimKey): void {
    this.keys.set(key.accessKey, key);
  }

  removeKey(accessKey: string): void {
    this.keys.delete(accessKey);
  }

  /** A new temporary key, as the metadata service hands out. */
  issueTemporaryKey(ttlMs: number): Required<SimKey> {
    const key = {
      accessKey: `TMP${randomBytes(10).toString('hex').toUpperCase()}`,
      secretKey: randomBytes(20).toString('base64url'),
      securityToken: `sts-${randomBytes(48).toString('base64url')}`,
      expiresAt: this.clock() + ttlMs,
    };
    this.addKey(key);
    return key;
  }

  /** A project-scoped token, as IAM issues. */
  issueToken(projectId: string, ttlMs: number): { readonly token: string; readonly expiresAt: number } {
    const token = `MII${randomBytes(96).toString('base64url')}`;
    const expiresAt = this.clock() + ttlMs;
    this.tokens.set(token, { projectId, expiresAt });
    return { token, expiresAt };
  }

  revokeToken(token: string): void {
    this.tokens.delete(token);
  }

  /** Every secret this cloud knows (secret keys, security tokens, IAM tokens): what must never leak. */
  secrets(): string[] {
    const keys = [...this.keys.values()].flatMap((k) => [k.secretKey, ...(k.securityToken ? [k.securityToken] : [])]);
    return [...keys, ...this.tokens.keys()];
  }

  /** The gateway's verdict on a DWS request: undefined to let it through, else the reason for a 401. */
  authenticate(req: IncomingMessage, url: URL, projectId: string): string | undefined {
    const reason = this.check(req, url, projectId);
    if (reason !== undefined) this.stats.refusals[reason] = (this.stats.refusals[reason] ?? 0) + 1;
    return reason;
  }

  private check(req: IncomingMessage, url: URL, projectId: string): string | undefined {
    const now = this.clock();
    const token = single(req.headers['x-auth-token']);
    if (token !== undefined) {
      const known = this.tokens.get(token);
      if (!known || known.expiresAt <= now) return 'the token is invalid or expired';
      if (known.projectId !== projectId) return 'the token is not scoped to this project';
      this.accepted('token');
      return undefined;
    }
    if (req.headers.authorization === undefined) return 'no credentials were provided';
    const verdict = verifySignature(
      { method: req.method ?? 'GET', url, headers: req.headers },
      (ak) => {
        const key = this.keys.get(ak);
        return key && (key.expiresAt === undefined || key.expiresAt > now) ? key.secretKey : undefined;
      },
      new Date(now),
    );
    if (!verdict.ok) return verdict.reason;
    const key = this.keys.get(verdict.accessKey);
    if (key?.securityToken !== undefined && single(req.headers['x-security-token']) !== key.securityToken) {
      return 'the security token is missing or does not match the temporary access key';
    }
    if (single(req.headers['x-project-id']) !== projectId) return 'X-Project-Id does not match the project in the path';
    this.accepted(verdict.accessKey);
    return undefined;
  }

  private accepted(by: string): void {
    this.stats.acceptedBy[by] = (this.stats.acceptedBy[by] ?? 0) + 1;
  }
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** `2024-06-05T01:58:43.000000Z`: ISO 8601 with microseconds, as IAM and the metadata service write it. */
export function isoMicros(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}
