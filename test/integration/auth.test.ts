/**
 * Authentication end to end: the real exporter against the DWS API simulator
 * (which verifies every signature and token against the simulated cloud's
 * identities), the IAM and metadata-service simulators, and a real
 * PostgreSQL. Refused credentials must cost a couple of requests, not one per
 * cluster; rotating credentials must keep a run going; and no secret may
 * appear in any output or table.
 */
import { once, setMaxListeners } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Credentials, ExporterEnv } from '../../src/config/env.js';
import { parseConfig } from '../../src/config/load-config.js';
import { runExportSession } from '../../src/commands/export-session.js';
import type { RunReport } from '../../src/export/run-export.js';
import { ExitCode, exitCodeForError } from '../../src/core/exit-codes.js';
import { createLogger } from '../../src/core/logger.js';
import { formatRunSummary } from '../../src/report/summary.js';
import {
  SimFleet,
  SimIdentities,
  startIamSimulator,
  startMetadataSimulator,
  startSimulator,
  type Simulator,
} from '../../src/simulator/index.js';
import { createAuthorizer } from '../../src/source/auth/authorizer.js';
import { createDwsClient } from '../../src/source/dws-client.js';
import { createHttpClient } from '../../src/source/http-client.js';
import { cliLauncher, waitFor } from '../support/cli.js';
import { createTestDatabase, dumpDwsSchema, type TestDatabase } from '../support/database.js';
import { TEST_TOKEN, fleetTasks, storedTasks } from '../support/exporter.js';
import { clusterId } from '../support/ids.js';


/** Like the run's own shutdown signal (src/commands/shutdown.ts): every request in flight listens on it. */
function shutdownSignal(): AbortSignal {
  const { signal } = new AbortController();
  setMaxListeners(0, signal);
  return signal;
}

const AK = 'AUTHTESTACCESSKEY001';
const SK = 'sk-9f1c-auth-test-secret-never-print';
const WRONG_SK = 'sk-wrong-0c77-also-never-print';
const FAST_RETRIES = { retryMinDelayMs: 5, retryMaxDelayMs: 50, maxRequestsPerSecond: 5000 };

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});
function track<T extends { close(): Promise<void> } | { drop(): Promise<void> }>(thing: T): T {
  closers.push(() => ('close' in thing ? thing.close() : thing.drop()));
  return thing;
}

let workDir: string;
beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'dws-auth-test-'));
});
afterAll(async () => {
  await rm(workDir, { recursive: true, force: true });
});

function idsConfig(simulator: Simulator, fleet: SimFleet, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    endpoint: simulator.url,
    projects: fleet.projectIds().map((projectId) => ({ projectId, clusters: fleet.clustersOf(projectId).map((c) => c.id) })),
    http: FAST_RETRIES,
    ...extra,
  };
}

interface SessionResult {
  readonly report: RunReport | null;
  readonly error: Error | null;
  /** Every byte the run logged (trace level) plus its summary or error line. */
  readonly output: string;
}

/** The real run in-process, logging at trace level into a buffer. */
async function runSession(databaseUrl: string, config: unknown, credentials: Credentials): Promise<SessionResult> {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  const env: ExporterEnv = { databaseUrl, configPath: undefined, dataDir: '.dws-exporter', logLevel: 'trace', credentials };
  try {
    const report = await runExportSession({
      env,
      config: parseConfig(config, 'auth test config'),
      credentials,
      migrate: true,
      logger: createLogger('trace', sink),
      announce: (line) => chunks.push(line),
      signal: shutdownSignal(),
    });
    return { report, error: null, output: `${chunks.join('')}\n${formatRunSummary(report)}` };
  } catch (error) {
    return { report: null, error: error as Error, output: `${chunks.join('')}\n${(error as Error).message}` };
  }
}

describe('refused AK/SK', () => {
  const fleet = SimFleet.generate({ seed: 31, projects: 2, clustersPerProject: 100, minTasks: 0, maxTasks: 3 });

  it('a wrong SK on 200 clusters sends 2 requests, fails every cluster as DWS_AUTH_FAILED and exits 6', async () => {
    const db = track(await createTestDatabase());
    const simulator = track(await startSimulator({ fleet, auth: { credentials: { accessKey: AK, secretKey: SK } } }));
    const { report, output } = await runSession(db.url, idsConfig(simulator, fleet, { concurrency: 16 }), {
      kind: 'aksk',
      accessKey: AK,
      secretKey: WRONG_SK,
      securityToken: undefined,
    });
    expect(simulator.stats.requests).toBe(2);
    expect(simulator.stats.byStatus).toEqual({ 401: 2 });
    expect(report?.status).toBe('failed');
    expect(report?.exitCode).toBe(ExitCode.AUTH);
    const ledger = await db.pool.query<{ n: number; requests: number; codes: string[]; skipped: number }>(
      `SELECT count(*)::int AS n, sum(api_requests)::int AS requests, array_agg(DISTINCT error_code) AS codes,
              count(*) FILTER (WHERE error_message LIKE 'not sent: %')::int AS skipped
         FROM dws.export_cluster_runs WHERE run_id = $1`,
      [report?.runId],
    );
    expect(ledger.rows[0]).toEqual({ n: 200, requests: 2, codes: ['DWS_AUTH_FAILED'], skipped: 198 });
    const message = await db.pool.query<{ error_message: string }>(
      `SELECT error_message FROM dws.export_cluster_runs WHERE run_id = $1 AND api_requests = 0 LIMIT 1`,
      [report?.runId],
    );
    // Tells the operator which credential, where it was refused, and what to check.
    expect(message.rows[0]?.error_message).toMatch(
      /^not sent: the API already refused AK\/SK \(access key AUTH…\) for cluster \S+ \(project \w+\) and cluster \S+ \(project \w+\) \(401 APIG\.0301: Incorrect IAM authentication information: signature mismatch\); .*Check that the access key .*HUAWEICLOUD_SDK_AK \/ HUAWEICLOUD_SDK_SK.*dws:cluster:listLogicalClusterTask.*clock.*locks an access key for 5 minutes/,
    );
    const sent = await db.pool.query<{ error_message: string }>(
      `SELECT error_message FROM dws.export_cluster_runs WHERE run_id = $1 AND api_requests = 1`,
      [report?.runId],
    );
    expect(sent.rows).toHaveLength(2);
    for (const row of sent.rows) {
      expect(row.error_message).toMatch(/^DWS API 401 APIG\.0301: .*\. Refused: AK\/SK \(access key AUTH…\)\. Check that the access key is valid/);
    }
    expect(output).not.toContain(WRONG_SK);
    expect(output).not.toContain(AK);
  });

  it('with "clusters": "all", the refused cluster lists stop the run before any cluster, exiting 6', async () => {
    const db = track(await createTestDatabase());
    const simulator = track(await startSimulator({ fleet, auth: { credentials: { accessKey: AK, secretKey: SK } } }));
    const config = {
      endpoint: simulator.url,
      projects: [...fleet.projectIds(), 'ffffffffffffffffffffffffffffffff'].map((projectId) => ({ projectId, clusters: 'all' })),
      http: FAST_RETRIES,
    };
    const { error } = await runSession(db.url, config, { kind: 'aksk', accessKey: AK, secretKey: WRONG_SK, securityToken: undefined });
    expect(simulator.stats.requests).toBe(2);
    expect(error).toMatchObject({ code: 'DWS_AUTH_FAILED' });
    expect(exitCodeForError(error)).toBe(ExitCode.AUTH);
    expect(error?.message).toMatch(
      /^cannot list the clusters of project \w+ .*401 APIG\.0301.*Check that the access key.*; the cluster lists of project \w+, project f{32} failed too/,
    );
  });

  it('says when the refusal looks like clock skew', async () => {
    const db = track(await createTestDatabase());
    // The gateway's clock is 20 minutes ahead of ours: every signature is outside its 15-minute window.
    const identities = new SimIdentities(() => Date.now() + 20 * 60_000);
    identities.addKey({ accessKey: AK, secretKey: SK });
    const small = SimFleet.generate({ seed: 3, projects: 1, clustersPerProject: 5, minTasks: 0, maxTasks: 2 });
    const simulator = track(await startSimulator({ fleet: small, auth: { identities } }));
    const { report } = await runSession(db.url, idsConfig(simulator, small), { kind: 'aksk', accessKey: AK, secretKey: SK, securityToken: undefined });
    expect(report?.exitCode).toBe(ExitCode.AUTH);
    expect(simulator.stats.requests).toBe(2);
    const messages = await db.pool.query<{ error_message: string }>('SELECT DISTINCT error_message FROM dws.export_cluster_runs');
    for (const { error_message } of messages.rows) {
      expect(error_message).toContain("hint: this machine's clock may be off");
    }
  });
});

describe('credentials that change during a run', () => {
  it('metadata-service credentials: every rotated temporary key is picked up, the run succeeds', async () => {
    const db = track(await createTestDatabase());
    const identities = new SimIdentities();
    // 4-minute keys are always inside the exporter's 5-minute refresh margin, and inside the
    // service's 10-minute overlap: a new key is issued, and used, for every request.
    const metadata = track(await startMetadataSimulator({ identities, ttlMs: 4 * 60_000, sessionTokens: true }));
    const fleet = SimFleet.generate({ seed: 37, projects: 2, clustersPerProject: 6, minTasks: 0, maxTasks: 120 });
    const simulator = track(await startSimulator({ fleet, pageSizeCap: 25, auth: { identities } }));
    const { report, output } = await runSession(db.url, idsConfig(simulator, fleet), { kind: 'metadata', url: metadata.url });
    expect(report?.status).toBe('succeeded');
    expect(await storedTasks(db.pool)).toEqual(fleetTasks(fleet));
    expect(identities.stats.refusals).toEqual({});
    // Rotated mid-run, more than once, without a single refusal.
    expect(metadata.stats.issued.length).toBeGreaterThan(2);
    expect(Object.keys(identities.stats.acceptedBy).length).toBeGreaterThan(2);
    expect(Object.keys(identities.stats.acceptedBy).every((ak) => ak.startsWith('TMP'))).toBe(true);
    for (const secret of identities.secrets()) expect(output).not.toContain(secret);
  });

  it('IAM user/password: one token per project, renewed when due, the run succeeds', async () => {
    const db = track(await createTestDatabase());
    const identities = new SimIdentities();
    const PASSWORD = 'iam-pw-7d2e-never-print';
    // 30-minute tokens are always inside the exporter's 1-hour renewal margin.
    const iam = track(await startIamSimulator({ identities, users: [{ domainName: 'acme', userName: 'exporter', password: PASSWORD }], tokenTtlMs: 30 * 60_000 }));
    const fleet = SimFleet.generate({ seed: 41, projects: 2, clustersPerProject: 4, minTasks: 0, maxTasks: 90 });
    const simulator = track(await startSimulator({ fleet, pageSizeCap: 30, auth: { identities } }));
    const [p1 = '', p2 = ''] = fleet.projectIds();
    const { report, output } = await runSession(db.url, idsConfig(simulator, fleet), {
      kind: 'iam-password',
      domainName: 'acme',
      userName: 'exporter',
      password: { value: PASSWORD },
      iamEndpoints: { [p1]: iam.url, [p2]: iam.url },
    });
    expect(report?.status).toBe('succeeded');
    expect(await storedTasks(db.pool)).toEqual(fleetTasks(fleet));
    expect(Object.keys(iam.stats.issued).sort()).toEqual([p1, p2].sort());
    // Renewed during the run: more than one token per project.
    expect(iam.stats.issued[p1]).toBeGreaterThan(1);
    expect(identities.stats.refusals).toEqual({});
    for (const secret of [PASSWORD, ...identities.secrets()]) expect(output).not.toContain(secret);
  });

  it('a wrong IAM password is sent once; no DWS request is made; every cluster fails as DWS_AUTH_FAILED', async () => {
    const db = track(await createTestDatabase());
    const identities = new SimIdentities();
    const iam = track(await startIamSimulator({ identities, users: [{ domainName: 'acme', userName: 'exporter', password: 'right' }] }));
    const fleet = SimFleet.generate({ seed: 43, projects: 2, clustersPerProject: 10, minTasks: 0, maxTasks: 5 });
    const simulator = track(await startSimulator({ fleet, auth: { identities } }));
    const endpoints = Object.fromEntries(fleet.projectIds().map((p) => [p, iam.url]));
    const { report } = await runSession(db.url, idsConfig(simulator, fleet), {
      kind: 'iam-password',
      domainName: 'acme',
      userName: 'exporter',
      password: { value: 'wrong-pw-never-print' },
      iamEndpoints: endpoints,
    });
    expect(iam.stats.requests).toBe(1);
    expect(simulator.stats.requests).toBe(0);
    expect(report?.exitCode).toBe(ExitCode.AUTH);
    expect(report?.clusters.every((c) => c.error?.code === 'DWS_AUTH_FAILED')).toBe(true);
    expect(report?.clusters[0]?.error?.message).toMatch(/IAM at .* refused a token for user "exporter" of account "acme" \(401 IAM\.0004/);
  });
});

// ---------------------------------------------------------------------------
// No secret in any output or table: the real CLI in a child process, at trace level.

// The real CLI at trace level: every log line a secret could slip into.
const { runCli } = cliLauncher({ logLevel: 'trace' });

let fileCounter = 0;
async function writeTemp(content: string): Promise<string> {
  const path = join(workDir, `file-${++fileCounter}`);
  await writeFile(path, content);
  return path;
}

describe('no secret appears in stdout, stderr (trace logs) or any dws table', () => {
  const fleet = SimFleet.generate({ seed: 47, projects: 2, clustersPerProject: 3, minTasks: 0, maxTasks: 40 });

  async function check(
    vars: Record<string, string>,
    auth: Record<string, unknown> | undefined,
    identities: SimIdentities,
    known: readonly string[],
    expectOutcome: RegExp,
  ): Promise<void> {
    const db = track(await createTestDatabase());
    const simulator = track(await startSimulator({ fleet, auth: { identities } }));
    const config = await writeTemp(JSON.stringify(idsConfig(simulator, fleet, auth ? { auth } : {})));
    const result = await runCli(['run', '--config', config], { DATABASE_URL: db.url, ...vars });
    expect(result.stdout, result.stderr).toMatch(expectOutcome);
    const everything = `${result.stdout}\n${result.stderr}\n${await dumpDwsSchema(db.pool)}`;
    const secrets = [...known, ...identities.secrets()];
    expect(secrets.length).toBeGreaterThan(0);
    for (const secret of secrets) expect(everything).not.toContain(secret);
  }

  it('AK/SK from the environment, refused', async () => {
    const identities = new SimIdentities();
    identities.addKey({ accessKey: AK, secretKey: SK });
    await check({ HUAWEICLOUD_SDK_AK: AK, HUAWEICLOUD_SDK_SK: WRONG_SK }, undefined, identities, [AK, WRONG_SK], /Exit code 6\./);
  });

  it('AK/SK and security token from files, accepted', async () => {
    const identities = new SimIdentities();
    const TOKEN = 'sts-file-token-3b9e-never-print';
    identities.addKey({ accessKey: AK, secretKey: SK, securityToken: TOKEN });
    await check(
      {
        HUAWEICLOUD_SDK_AK_FILE: await writeTemp(`${AK}\n`),
        HUAWEICLOUD_SDK_SK_FILE: await writeTemp(`${SK}\n`),
        HUAWEICLOUD_SDK_SECURITY_TOKEN_FILE: await writeTemp(TOKEN),
      },
      undefined,
      identities,
      [AK, SK, TOKEN],
      /Exit code 0\./,
    );
  });

  it('temporary credentials from the metadata service, accepted', async () => {
    const identities = new SimIdentities();
    const metadata = track(await startMetadataSimulator({ identities }));
    await check({}, { metadata: { url: metadata.url } }, identities, [], /Exit code 0\./);
  });

  it('IAM user/password, refused and accepted', async () => {
    const PASSWORD = 'iam-cli-pw-51a0-never-print';
    const identities = new SimIdentities();
    const iam = track(await startIamSimulator({ identities, users: [{ domainName: 'acme', userName: 'exporter', password: PASSWORD }] }));
    const auth = { iam: { domainName: 'acme', userName: 'exporter', endpoint: iam.url } };
    await check({ DWS_IAM_PASSWORD: 'wrong-cli-pw-never-print' }, auth, identities, ['wrong-cli-pw-never-print'], /Exit code 6\./);
    await check({ DWS_IAM_PASSWORD_FILE: await writeTemp(PASSWORD) }, auth, identities, [PASSWORD], /Exit code 0\./);
  });
});

describe('the credential probe and a black-holed endpoint', () => {
  it('a first request whose attempts get no answer gives up the probe at once: another endpoint goes on before its retries are spent', async () => {
    // Accepts TCP and never answers the TLS handshake: every attempt ends in a connect timeout.
    const sockets = new Set<Socket>();
    const silent = createNetServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    closers.push(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    });
    const fleet = SimFleet.generate({ seed: 37, projects: 1, clustersPerProject: 1, minTasks: 3, maxTasks: 9 });
    const simulator = track(await startSimulator({ fleet, auth: { token: TEST_TOKEN } }));
    const maxRetries = 4;
    const http = createHttpClient({ connections: 2, timeoutMs: 500, maxRequestsPerSecond: 1000, maxInFlight: 8, retry: { maxRetries, minDelayMs: 5, maxDelayMs: 20 } });
    const authorizer = createAuthorizer({ kind: 'token', token: TEST_TOKEN });
    closers.push(() => http.close(), () => authorizer.close());
    const client = createDwsClient(http, authorizer);
    const query = { offset: 0, limit: 100, orderBy: null, logicalClusterName: null, type: null };
    const [healthy] = fleet.clusters;
    if (!healthy) throw new Error('fixture too small');

    // The black-holed endpoint's request goes first: it takes the credential's probe.
    const dead = { endpoint: `https://127.0.0.1:${(silent.address() as AddressInfo).port}`, projectId: healthy.projectId, clusterId: clusterId('black-holed') };
    const stopDead = new AbortController();
    const deadRequest = client.listTasksPage(dead, query, { requests: 0, retries: 0 }, stopDead.signal).catch((error: unknown) => error);
    await waitFor('the black-holed endpoint to be called', async () => sockets.size > 0);
    const page = await client.listTasksPage({ endpoint: simulator.url, projectId: healthy.projectId, clusterId: healthy.id }, query, { requests: 0, retries: 0 });
    expect(page.tasks).toHaveLength(healthy.tasks.length);
    // Before the fix the healthy request waited for all maxRetries + 1 attempts.
    expect(sockets.size).toBeLessThan(maxRetries + 1);
    stopDead.abort('done');
    expect(await deadRequest).toBeDefined();
  });
});
