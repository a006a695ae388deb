/**
 * IAM token issuance (`POST /v3/auth/tokens`, password method, project
 * scope), enough for the exporter's IAM user/password credentials: the token
 * comes back in X-Subject-Token with `token.expires_at` in the body, and is
 * registered in the shared SimIdentities so the DWS simulator accepts it.
 * Like IAM, a user is locked after repeated wrong passwords.
 */
import { randomBytes } from 'node:crypto';
import { isoMicros, type SimIdentities } from './identity.js';
import { jsonReply, startSmallServer, type SmallReply } from './small-server.js';

export interface SimIamUser {
  readonly domainName: string;
  readonly userName: string;
  readonly password: string;
  /** Projects the user may get tokens for; absent: any. */
  readonly projects?: readonly string[];
}

export interface IamSimulatorOptions {
  readonly identities: SimIdentities;
  readonly users: readonly SimIamUser[];
  /** Default 24 h, as IAM. */
  readonly tokenTtlMs?: number;
  /** Consecutive wrong passwords after which the user is locked. Default 5. */
  readonly lockAfter?: number;
}

export interface IamSimulatorStats {
  requests: number;
  /** Tokens issued, by project id. */
  readonly issued: Record<string, number>;
  wrongPasswords: number;
}

export interface IamSimulator {
  readonly url: string;
  readonly stats: IamSimulatorStats;
  close(): Promise<void>;
}

const TOKENS_PATH = '/v3/auth/tokens';

interface PasswordAuth {
  readonly domain: string | undefined;
  readonly user: string | undefined;
  readonly password: string | undefined;
  readonly projectId: string | undefined;
}

function readRequest(body: string): PasswordAuth | undefined {
  try {
    const auth = (JSON.parse(body) as { auth?: Record<string, unknown> }).auth;
    const identity = auth?.identity as { methods?: unknown; password?: { user?: Record<string, unknown> } } | undefined;
    if (!Array.isArray(identity?.methods) || !identity.methods.includes('password')) return undefined;
    const user = identity.password?.user;
    const scope = auth?.scope as { project?: { id?: unknown } } | undefined;
    const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
    return {
      domain: str((user?.domain as { name?: unknown } | undefined)?.name),
      user: str(user?.name),
      password: str(user?.password),
      projectId: str(scope?.project?.id),
    };
  } catch {
    return undefined;
  }
}

function error(status: number, code: string, message: string): SmallReply {
  return jsonReply(status, { error_msg: message, error_code: code, request_id: randomBytes(16).toString('hex') });
}

export async function startIamSimulator(options: IamSimulatorOptions): Promise<IamSimulator> {
  const ttl = options.tokenTtlMs ?? 24 * 60 * 60_000;
  const lockAfter = options.lockAfter ?? 5;
  const failures = new Map<string, number>();
  const stats: IamSimulatorStats = { requests: 0, issued: Object.create(null) as Record<string, number>, wrongPasswords: 0 };

  const server = await startSmallServer((req, url, body) => {
    stats.requests += 1;
    if (url.pathname !== TOKENS_PATH) return error(404, 'APIG.0101', 'The API does not exist or has not been published in the environment.');
    if (req.method !== 'POST') return error(405, 'APIG.0101', `Method ${req.method ?? ''} is not allowed for this API.`);
    const auth = readRequest(body);
    if (!auth?.domain || !auth.user || auth.password === undefined || !auth.projectId) {
      return error(400, 'IAM.0011', 'Request parameter error: password identity and project scope are required.');
    }
    const who = `${auth.domain}/${auth.user}`;
    const user = options.users.find((u) => u.domainName === auth.domain && u.userName === auth.user);
    if ((failures.get(who) ?? 0) >= lockAfter) return error(401, 'IAM.0007', 'The account is locked.');
    if (!user || user.password !== auth.password) {
      stats.wrongPasswords += 1;
      failures.set(who, (failures.get(who) ?? 0) + 1);
      return error(401, 'IAM.0004', 'The username or password is wrong.');
    }
    failures.delete(who);
    if (user.projects && !user.projects.includes(auth.projectId)) {
      return error(403, 'IAM.0003', 'You do not have permission to access the project.');
    }
    const issuedAt = options.identities.clock();
    const { token, expiresAt } = options.identities.issueToken(auth.projectId, ttl);
    stats.issued[auth.projectId] = (stats.issued[auth.projectId] ?? 0) + 1;
    return jsonReply(
      201,
      {
        token: {
          expires_at: isoMicros(expiresAt),
          issued_at: isoMicros(issuedAt),
          methods: ['password'],
          project: { id: auth.projectId },
          user: { name: user.userName, domain: { name: user.domainName } },
        },
      },
      { 'X-Subject-Token': token },
    );
  });
  return { url: server.url, stats, close: () => server.close() };
}
