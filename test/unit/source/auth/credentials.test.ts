/**
 * Where credentials come from and how they stay fresh: the environment
 * (values or *_FILE), credential files re-read when they change, the
 * metadata service's temporary keys refreshed before they expire, and IAM
 * tokens from user/password. Real files, real HTTP servers (the project's
 * IAM and metadata simulators), and a clock the test moves by hand.
 */
import { mkdtemp, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readEnv, type Credentials, type SecretSource } from '../../../../src/config/env.js';
import { parseConfig } from '../../../../src/config/load-config.js';
import { ConfigError, CredentialError } from '../../../../src/core/errors.js';
import {
  SimFleet,
  SimIdentities,
  startIamSimulator,
  startMetadataSimulator,
  startSimulator,
  type IamSimulator,
  type MetadataSimulator,
  type SimIamUser,
  type Simulator,
} from '../../../../src/simulator/index.js';
import { createAuthorizer, type RequestAuthorizer } from '../../../../src/source/auth/authorizer.js';
import { resolveCredentials } from '../../../../src/source/auth/resolve-credentials.js';

const P1 = '9b06d044ea4f49f1a58b2bed2b0084bd';
const P2 = '0123456789abcdef0123456789abcdef';
const START = Date.parse('2025-03-01T00:00:00Z');
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dws-credentials-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

function track<T extends { close(): Promise<void> }>(thing: T): T {
  closers.push(() => thing.close());
  return thing;
}

/** A clock the test advances; the simulators and the exporter read the same one. */
function manualClock(): { now: () => number; advance: (ms: number) => void; set: (ms: number) => void } {
  let now = START;
  return { now: () => now, advance: (ms) => (now += ms), set: (ms) => (now = ms) };
}

const URL_P1 = new URL(`http://127.0.0.1/v1.0/${P1}/clusters`);

function config(extra: Record<string, unknown> = {}) {
  return parseConfig({ region: 'cn-north-4', projects: [{ projectId: P1, clusters: 'all' }], ...extra }, 'test config');
}

describe('credentials from the environment and the config', () => {
  const resolve = (vars: Record<string, string>, extra: Record<string, unknown> = {}): Promise<Credentials> =>
    resolveCredentials(readEnv(vars), config(extra));

  it('uses HUAWEICLOUD_SDK_AK/SK (and the security token) as fixed values', async () => {
    expect(await resolve({ HUAWEICLOUD_SDK_AK: ' AK1 ', HUAWEICLOUD_SDK_SK: 'SK1', HUAWEICLOUD_SDK_SECURITY_TOKEN: 'T' })).toEqual({
      kind: 'aksk',
      accessKey: 'AK1',
      secretKey: 'SK1',
      securityToken: 'T',
    });
  });

  it('reads any part from a *_FILE instead, and checks the file at start', async () => {
    const skFile = join(dir, 'sk-env');
    await writeFile(skFile, 'SK-from-file\n');
    expect(await resolve({ HUAWEICLOUD_SDK_AK: 'AK1', HUAWEICLOUD_SDK_SK_FILE: skFile })).toEqual({
      kind: 'aksk-files',
      accessKey: { value: 'AK1' },
      secretKey: { file: skFile, variable: 'HUAWEICLOUD_SDK_SK_FILE' },
      securityToken: undefined,
    });
    const missing = join(dir, 'no-such-file');
    await expect(resolve({ HUAWEICLOUD_SDK_AK: 'AK1', HUAWEICLOUD_SDK_SK_FILE: missing })).rejects.toThrow(
      new RegExp(`env: cannot read HUAWEICLOUD_SDK_SK_FILE \\(${missing}\\)`),
    );
  });

  it('refuses a variable set both as a value and as a file, and AK without SK', () => {
    expect(() => readEnv({ HUAWEICLOUD_SDK_AK: 'a', HUAWEICLOUD_SDK_SK: 'b', HUAWEICLOUD_SDK_SK_FILE: '/x' })).toThrow(
      'env: set HUAWEICLOUD_SDK_SK or HUAWEICLOUD_SDK_SK_FILE, not both',
    );
    expect(() => readEnv({ HUAWEICLOUD_SDK_AK_FILE: '/x' })).toThrow(/must be set together/);
  });

  it('takes AK/SK before a token, and the environment before the config', async () => {
    const vars = { HUAWEICLOUD_SDK_AK: 'AK1', HUAWEICLOUD_SDK_SK: 'SK1', DWS_AUTH_TOKEN: 'tok' };
    expect((await resolve(vars, { auth: { metadata: {} } })).kind).toBe('aksk');
    expect(await resolve({ DWS_AUTH_TOKEN: 'tok' }, { auth: { metadata: {} } })).toEqual({ kind: 'token', token: 'tok' });
  });

  it('uses the metadata service when the config asks and the environment names nothing', async () => {
    expect(await resolve({}, { auth: { metadata: {}, iam: { domainName: 'acme', userName: 'u' } } })).toEqual({
      kind: 'metadata',
      url: 'http://169.254.169.254',
    });
  });

  it('uses IAM user/password with the IAM endpoint of each project region, or the configured one', async () => {
    const twoRegions = {
      projects: [
        { projectId: P1, region: 'cn-north-4', clusters: 'all' },
        { projectId: P2, region: 'eu-west-101', clusters: 'all' },
      ],
      auth: { iam: { domainName: 'acme', userName: 'exporter' } },
    };
    expect(await resolve({ DWS_IAM_PASSWORD: 'pw' }, twoRegions)).toEqual({
      kind: 'iam-password',
      domainName: 'acme',
      userName: 'exporter',
      password: { value: 'pw' },
      iamEndpoints: { [P1]: 'https://iam.cn-north-4.myhuaweicloud.com', [P2]: 'https://iam.eu-west-101.myhuaweicloud.eu' },
    });
    const fixed = { ...twoRegions, auth: { iam: { domainName: 'acme', userName: 'exporter', endpoint: 'https://iam.myhuaweicloud.com' } } };
    expect(await resolve({ DWS_IAM_PASSWORD: 'pw' }, fixed)).toMatchObject({
      iamEndpoints: { [P1]: 'https://iam.myhuaweicloud.com', [P2]: 'https://iam.myhuaweicloud.com' },
    });
    await expect(resolve({}, twoRegions)).rejects.toThrow(/auth\.iam needs the password in DWS_IAM_PASSWORD/);
  });

  it('with nothing configured, names every way to provide credentials', async () => {
    const error = await resolve({}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/no API credentials: .*HUAWEICLOUD_SDK_AK.*_FILE.*DWS_AUTH_TOKEN.*"metadata".*DWS_IAM_PASSWORD/);
  });
});

describe('credential files', () => {
  it('are re-read when rewritten: the new secret is used and counts as a new credential', async () => {
    const akFile = join(dir, 'ak-1');
    const skFile = join(dir, 'sk-1');
    await writeFile(akFile, 'AKFILE0000000001');
    await writeFile(skFile, 'first-secret');
    const auth = track(
      createAuthorizer(
        { kind: 'aksk-files', accessKey: { file: akFile, variable: 'HUAWEICLOUD_SDK_AK_FILE' }, secretKey: { file: skFile, variable: 'HUAWEICLOUD_SDK_SK_FILE' }, securityToken: undefined },
        { fileCheckIntervalMs: 0 },
      ),
    );
    const first = await auth.authorize(URL_P1, P1);
    expect(first.lease.credential).toMatchObject({ accessKey: 'AKFILE0000000001', secretKey: 'first-secret' });
    expect((await auth.authorize(URL_P1, P1)).lease.key).toBe(first.lease.key);
    await writeFile(skFile, 'second-secret-longer');
    const second = await auth.authorize(URL_P1, P1);
    expect(second.lease.credential).toMatchObject({ secretKey: 'second-secret-longer' });
    expect(second.lease.key).not.toBe(first.lease.key);
    expect(second.lease.label).toBe('AK/SK read from HUAWEICLOUD_SDK_AK_FILE (' + akFile + '), HUAWEICLOUD_SDK_SK_FILE (' + skFile + ') (access key AKFI…)');
  });

  it('follow a Kubernetes-style atomic swap of the ..data symlink', async () => {
    const mount = await mkdtemp(join(dir, 'secret-'));
    await writeFile(join(mount, 'v1'), 'token-one');
    await writeFile(join(mount, 'v2'), 'token-two');
    await symlink('v1', join(mount, '..data'));
    const tokenFile = join(mount, 'token');
    await symlink('..data', tokenFile);
    const auth = track(createAuthorizer({ kind: 'token-file', token: { file: tokenFile, variable: 'DWS_AUTH_TOKEN_FILE' } }, { fileCheckIntervalMs: 0 }));
    expect((await auth.authorize(URL_P1, P1)).headers['x-auth-token']).toBe('token-one');
    await symlink('v2', join(mount, '..data_tmp'));
    await rename(join(mount, '..data_tmp'), join(mount, '..data'));
    expect((await auth.authorize(URL_P1, P1)).headers['x-auth-token']).toBe('token-two');
  });

  it('are checked at most once per interval, and at once after the API refused the credential', async () => {
    const clock = manualClock();
    const tokenFile = join(dir, 'token-interval');
    await writeFile(tokenFile, 'old-token');
    const auth = track(
      createAuthorizer({ kind: 'token-file', token: { file: tokenFile, variable: 'DWS_AUTH_TOKEN_FILE' } }, { clock: clock.now, fileCheckIntervalMs: 1000 }),
    );
    const old = await auth.authorize(URL_P1, P1);
    await writeFile(tokenFile, 'new-token-x');
    expect((await auth.authorize(URL_P1, P1)).headers['x-auth-token']).toBe('old-token');
    auth.refused(old.lease, P1);
    expect((await auth.authorize(URL_P1, P1)).headers['x-auth-token']).toBe('new-token-x');
    await writeFile(tokenFile, 'newest-token');
    clock.advance(1000);
    expect((await auth.authorize(URL_P1, P1)).headers['x-auth-token']).toBe('newest-token');
  });

  it('keep the last good value (with a warning) while a file is briefly missing', async () => {
    const tokenFile = join(dir, 'token-vanishing');
    await writeFile(tokenFile, 'kept-token');
    const warnings: string[] = [];
    const auth = track(
      createAuthorizer(
        { kind: 'token-file', token: { file: tokenFile, variable: 'DWS_AUTH_TOKEN_FILE' } },
        { fileCheckIntervalMs: 0, onWarning: (m) => warnings.push(m) },
      ),
    );
    await auth.authorize(URL_P1, P1);
    await unlink(tokenFile);
    expect((await auth.authorize(URL_P1, P1)).headers['x-auth-token']).toBe('kept-token');
    expect(warnings.join('\n')).toMatch(/cannot read DWS_AUTH_TOKEN_FILE .*still using the value read before/);
    expect(warnings.join('\n')).not.toContain('kept-token');
  });
});

describe('temporary credentials from the metadata service', () => {
  async function setup(options: { overlapMs?: number; sessionTokens?: boolean; agency?: boolean } = {}) {
    const clock = manualClock();
    const identities = new SimIdentities(clock.now);
    const metadata: MetadataSimulator = track(await startMetadataSimulator({ identities, ttlMs: 24 * HOUR, ...options }));
    const fleet = SimFleet.generate({ seed: 1, projects: 1, clustersPerProject: 1, minTasks: 0, maxTasks: 0 });
    const dws: Simulator = track(await startSimulator({ fleet, auth: { identities } }));
    const warnings: string[] = [];
    const auth: RequestAuthorizer = track(
      createAuthorizer(
        { kind: 'metadata', url: metadata.url },
        { clock: clock.now, now: () => new Date(clock.now()), onWarning: (m) => warnings.push(m) },
      ),
    );
    const projectId = fleet.projectIds()[0] ?? '';
    /** One real, signed request to the DWS simulator: its status. */
    const call = async (): Promise<number> => {
      const url = new URL(`${dws.url}/v1.0/${projectId}/clusters`);
      const { headers } = await auth.authorize(url, projectId);
      const response = await fetch(url, { headers });
      await response.body?.cancel();
      return response.status;
    };
    return { clock, identities, metadata, auth, call, warnings, projectId };
  }

  it('signs with the temporary key and its security token, fetched once while valid', async () => {
    const { metadata, auth, call, projectId } = await setup();
    expect(await call()).toBe(200);
    expect(await call()).toBe(200);
    expect(metadata.stats.securityKeyRequests).toBe(1);
    const { headers, lease } = await auth.authorize(new URL(`http://127.0.0.1/v1.0/${projectId}/clusters`), projectId);
    expect(headers['x-security-token']).toMatch(/^sts-/);
    expect(headers.authorization).toMatch(/SignedHeaders=[^,]*x-security-token/);
    expect(lease.label).toMatch(/^temporary AK\/SK from the metadata service \(access key TMP.…, expires 2025-03-02T00:00:00\.000000Z\)$/);
  });

  it('fetches the next credential before expires_at and keeps working across many rotations', async () => {
    const { clock, metadata, call } = await setup();
    for (let day = 0; day < 5; day++) {
      expect(await call()).toBe(200);
      clock.advance(24 * HOUR - 4 * MINUTE); // within 5 min of expiry: time to refresh
      expect(await call()).toBe(200);
      clock.advance(4 * MINUTE);
    }
    // Each day's credential was replaced before it expired; no request was ever refused.
    expect(metadata.stats.issued.length).toBeGreaterThanOrEqual(5);
    expect(new Set(metadata.stats.issued).size).toBe(metadata.stats.issued.length);
  });

  it('keeps the current credential until the service rotates it, asking again every 30 s', async () => {
    const { clock, metadata, call } = await setup({ overlapMs: 2 * MINUTE });
    expect(await call()).toBe(200);
    clock.advance(24 * HOUR - 4 * MINUTE);
    expect(await call()).toBe(200); // asked, got the same one back (not rotated yet)
    expect(metadata.stats.securityKeyRequests).toBe(2);
    expect(await call()).toBe(200); // within the 30 s back-off: not asked
    expect(metadata.stats.securityKeyRequests).toBe(2);
    clock.advance(2 * MINUTE + 1);
    expect(await call()).toBe(200);
    expect(metadata.stats.issued).toHaveLength(2);
  });

  it('uses a session token when the service requires one', async () => {
    const { metadata, call } = await setup({ sessionTokens: true });
    expect(await call()).toBe(200);
    expect(metadata.stats.sessionTokenRequests).toBe(1);
  });

  it('explains a node without an agency as an auth failure', async () => {
    const { auth, projectId } = await setup({ agency: false });
    const error = await auth.authorize(URL_P1, projectId).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CredentialError);
    expect(error).toMatchObject({ code: 'DWS_AUTH_FAILED' });
    expect((error as Error).message).toMatch(/attach an agency/);
  });

  it('rides out an unreachable service with the still-valid credential, and fails once it has expired', async () => {
    const { clock, metadata, call, warnings } = await setup();
    expect(await call()).toBe(200);
    await metadata.close();
    clock.advance(24 * HOUR - 4 * MINUTE);
    expect(await call()).toBe(200);
    expect(warnings.join('\n')).toMatch(/cannot reach the metadata service .*still using the current temporary credential/);
    clock.advance(5 * MINUTE);
    await expect(call()).rejects.toMatchObject({ code: 'DWS_NETWORK_ERROR' });
  });
});

describe('IAM tokens from user/password', () => {
  const PASSWORD = 'iam-Passw0rd-never-in-messages';

  async function setup(
    users: readonly SimIamUser[] = [{ domainName: 'acme', userName: 'exporter', password: PASSWORD }],
    password: SecretSource = { value: PASSWORD },
  ) {
    const clock = manualClock();
    const identities = new SimIdentities(clock.now);
    const iam: IamSimulator = track(await startIamSimulator({ identities, users }));
    const auth = track(
      createAuthorizer(
        { kind: 'iam-password', domainName: 'acme', userName: 'exporter', password, iamEndpoints: { [P1]: iam.url, [P2]: iam.url } },
        { clock: clock.now },
      ),
    );
    return { clock, identities, iam, auth };
  }

  it('obtains one project-scoped token per project and sends it as X-Auth-Token', async () => {
    const { iam, auth } = await setup();
    const a = await auth.authorize(URL_P1, P1);
    const b = await auth.authorize(URL_P1, P2);
    await auth.authorize(URL_P1, P1);
    expect(a.headers['x-auth-token']).toMatch(/^MII/);
    expect(b.headers['x-auth-token']).not.toBe(a.headers['x-auth-token']);
    expect(a.headers['x-project-id']).toBe(P1);
    expect(iam.stats.issued).toEqual({ [P1]: 1, [P2]: 1 });
    expect(a.lease.key).toBe(b.lease.key); // one principal for the auth breaker
  });

  it('replaces a token within an hour of its 24 h expiry, not before', async () => {
    const { clock, iam, auth } = await setup();
    const first = (await auth.authorize(URL_P1, P1)).headers['x-auth-token'];
    clock.advance(22 * HOUR);
    expect((await auth.authorize(URL_P1, P1)).headers['x-auth-token']).toBe(first);
    clock.advance(90 * MINUTE);
    expect((await auth.authorize(URL_P1, P1)).headers['x-auth-token']).not.toBe(first);
    expect(iam.stats.issued[P1]).toBe(2);
  });

  it('sends a refused password once, never again, and never quotes it', async () => {
    const { iam, auth } = await setup([{ domainName: 'acme', userName: 'exporter', password: 'the-right-one' }]);
    const errors: unknown[] = [];
    for (let i = 0; i < 5; i++) errors.push(await auth.authorize(URL_P1, i % 2 ? P1 : P2).catch((e: unknown) => e));
    expect(iam.stats.requests).toBe(1);
    for (const error of errors) {
      expect(error).toBeInstanceOf(CredentialError);
      expect(error).toMatchObject({ code: 'DWS_AUTH_FAILED' });
      expect((error as Error).message).toMatch(/IAM at http:\/\/127\.0\.0\.1:\d+ refused a token for user "exporter" of account "acme" \(401 IAM\.0004: The username or password is wrong\.\)/);
      expect((error as Error).message).not.toContain(PASSWORD);
    }
  });

  it('tries again once the password file was rewritten, and not before', async () => {
    const file = join(dir, 'iam-password');
    await writeFile(file, 'wrong-password');
    const { clock, iam, auth } = await setup(undefined, { file, variable: 'DWS_IAM_PASSWORD_FILE' });
    await expect(auth.authorize(URL_P1, P1)).rejects.toMatchObject({ code: 'DWS_AUTH_FAILED' });
    await expect(auth.authorize(URL_P1, P1)).rejects.toMatchObject({ code: 'DWS_AUTH_FAILED' });
    expect(iam.stats.requests).toBe(1);
    await writeFile(file, PASSWORD);
    clock.advance(1000); // the file is looked at again at most once a second
    await expect(auth.authorize(URL_P1, P1)).resolves.toMatchObject({ lease: { credential: { kind: 'token' } } });
    expect(iam.stats.requests).toBe(2);
  });

  it('refuses a project the user may not access without locking out the others', async () => {
    const { iam, auth } = await setup([{ domainName: 'acme', userName: 'exporter', password: PASSWORD, projects: [P1] }]);
    await expect(auth.authorize(URL_P1, P2)).rejects.toThrow(/in project 0123456789abcdef0123456789abcdef \(403 IAM\.0003/);
    await expect(auth.authorize(URL_P1, P1)).resolves.toMatchObject({ lease: { credential: { kind: 'token' } } });
    await expect(auth.authorize(URL_P1, P2)).rejects.toMatchObject({ code: 'DWS_AUTH_FAILED' });
    expect(iam.stats.requests).toBe(2);
  });
});
