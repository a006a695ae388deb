/**
 * Corporate networks: the real CLI in a child process (it reads
 * HTTP_PROXY/HTTPS_PROXY/NO_PROXY at start) behind a real forward proxy
 * (npm `proxy`, CONNECT and absolute-form, in a child process of its own),
 * with endpoints named by host names only that proxy can resolve: a run
 * that succeeds proves its requests went through the proxy, and the proxy's
 * log shows each of them. NO_PROXY bypasses it; the metadata service never
 * uses it; IAM does.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/core/exit-codes.js';
import {
  SimFleet,
  SimIdentities,
  startIamSimulator,
  startMetadataSimulator,
  startSimulator,
  type Simulator,
  type SimulatorOptions,
} from '../../src/simulator/index.js';
import { watchApiResponses } from '../../src/report/api-traffic.js';
import { createHttpClient } from '../../src/source/http-client.js';
import { cliLauncher, describeResult, type CliResult } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { fleetTasks, storedTasks, TEST_TOKEN } from '../support/exporter.js';
import { startForwardProxy, type ForwardProxy, type ProxyEvent } from '../support/forward-proxy.js';
import { makeCertificates, type TestCertificates } from '../support/tls.js';

const DWS_HOST = 'dws.only-via-proxy.test';
const IAM_HOST = 'iam.only-via-proxy.test';
const PROXY_USER = 'exporter';
const PROXY_PASSWORD = 'proxy-pw-4Kq9-never-print';
const FAST = { retryMinDelayMs: 5, retryMaxDelayMs: 50, maxRequestsPerSecond: 5000, maxRetries: 2 };

const { runCli } = cliLauncher({ logLevel: 'info' });

let workDir: string;
let certificates: TestCertificates;
let proxy: ForwardProxy;
/** The proxy's URL with the credentials it requires. */
let proxyUrl: string;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'dws-proxy-test-'));
  certificates = await makeCertificates(workDir, [DWS_HOST]);
  proxy = await startForwardProxy({ hosts: { [DWS_HOST]: '127.0.0.1', [IAM_HOST]: '127.0.0.1' }, auth: `${PROXY_USER}:${PROXY_PASSWORD}` });
  proxyUrl = proxy.url.replace('http://', `http://${PROXY_USER}:${PROXY_PASSWORD}@`);
});

afterAll(async () => {
  await proxy.close();
  await rm(workDir, { recursive: true, force: true });
});

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function database(): Promise<TestDatabase> {
  const db = await createTestDatabase();
  closers.push(() => db.drop());
  return db;
}

async function simulator(options: Partial<SimulatorOptions> & Pick<SimulatorOptions, 'fleet'>): Promise<Simulator> {
  const sim = await startSimulator({ auth: { token: TEST_TOKEN }, pageSizeCap: 20, ...options });
  closers.push(() => sim.close());
  return sim;
}

const fleet = (seed: number): SimFleet => SimFleet.generate({ seed, projects: 2, clustersPerProject: 3, minTasks: 10, maxTasks: 60 });

let configs = 0;
/** A config file exporting every cluster of `sim` at `endpoint`. */
async function configFile(endpoint: string, sim: SimFleet, extra: Record<string, unknown> = {}): Promise<string> {
  const path = join(workDir, `config-${++configs}.json`);
  const projects = sim.projectIds().map((projectId) => ({ projectId, clusters: sim.clustersOf(projectId).map((c) => c.id) }));
  await writeFile(path, JSON.stringify({ endpoint, projects, concurrency: 4, http: FAST, ...extra }));
  return path;
}

/** The proxy's log from now on. */
function proxyLog(): () => readonly ProxyEvent[] {
  const before = proxy.events().length;
  return () => proxy.events().slice(before);
}

function run(config: string, env: Record<string, string>, db: TestDatabase): Promise<CliResult> {
  return runCli(['run', '--config', config], { DATABASE_URL: db.url, DWS_AUTH_TOKEN: TEST_TOKEN, ...env });
}

function portOf(url: string): string {
  return new URL(url).port;
}

describe('an endpoint only the proxy can resolve', () => {
  it('http://: HTTP_PROXY carries every request as an absolute-form request, the run is exact, the proxy logged once, masked', async () => {
    const db = await database();
    const f = fleet(61);
    const sim = await simulator({ fleet: f });
    const endpoint = `http://${DWS_HOST}:${portOf(sim.url)}`;
    const log = proxyLog();
    const result = await run(await configFile(endpoint, f), { HTTP_PROXY: proxyUrl }, db);
    expect(result.code, describeResult(result)).toBe(ExitCode.OK);
    expect(await storedTasks(db.pool)).toEqual(fleetTasks(f));
    const events = log();
    // One proxied request for each request the simulator answered: none reached it another way.
    expect(events).toHaveLength(sim.stats.requests);
    for (const event of events) {
      expect(event).toMatchObject({ kind: 'request', method: 'GET', authorized: true });
      expect(event.url.startsWith(`${endpoint}/v2/`), event.url).toBe(true);
    }
    const lines = result.stderr.split('\n').filter((line) => line.includes('go through an HTTP proxy'));
    expect(lines, result.stderr).toHaveLength(1);
    const entry = JSON.parse(lines[0] ?? '{}') as { level?: string; proxy?: Record<string, string> };
    const masked = `http://***:***@127.0.0.1:${portOf(proxy.url)}`;
    expect(entry).toMatchObject({ level: 'info', proxy: { https: masked, http: masked, noProxy: '' } });
    expect(`${result.stdout}${result.stderr}`).not.toContain(PROXY_PASSWORD);
  });

  it('https://: HTTPS_PROXY opens CONNECT tunnels, the private CA comes from NODE_EXTRA_CA_CERTS, and the run is exact', async () => {
    const db = await database();
    const f = fleet(62);
    const sim = await simulator({ fleet: f, tls: certificates.server });
    const port = portOf(sim.url);
    const log = proxyLog();
    const env = { HTTPS_PROXY: proxyUrl, NODE_EXTRA_CA_CERTS: certificates.caPath };
    const result = await run(await configFile(`https://${DWS_HOST}:${port}`, f), env, db);
    expect(result.code, describeResult(result)).toBe(ExitCode.OK);
    expect(await storedTasks(db.pool)).toEqual(fleetTasks(f));
    const events = log();
    expect(events.length).toBeGreaterThan(0);
    // Tunnels carry many requests each (keep-alive): at most one per pooled connection.
    expect(events.length).toBeLessThanOrEqual(4);
    expect(sim.stats.requests).toBeGreaterThan(events.length);
    for (const event of events) expect(event).toEqual({ kind: 'connect', method: 'CONNECT', url: `${DWS_HOST}:${port}`, authorized: true });
  });

  it('without the proxy the same name does not resolve: the clusters fail with ENOTFOUND and a hint to set HTTPS_PROXY', async () => {
    const db = await database();
    const f = fleet(64);
    const sim = await simulator({ fleet: f });
    const log = proxyLog();
    const result = await run(await configFile(`http://${DWS_HOST}:${portOf(sim.url)}`, f), {}, db);
    expect(result.code, describeResult(result)).toBe(ExitCode.FAILED);
    expect(result.stdout).toMatch(/Endpoint http:\/\/dws\.only-via-proxy\.test:\d+ unreachable \(last error: .*ENOTFOUND dws\.only-via-proxy\.test; if this network reaches Huawei Cloud only through a proxy, set HTTPS_PROXY/);
    expect(sim.stats.requests).toBe(0);
    expect(log()).toEqual([]);
  });
});

describe('NO_PROXY', () => {
  it('a host listed in NO_PROXY is reached directly; the same run without NO_PROXY goes through the proxy', async () => {
    const f = fleet(65);
    const sim = await simulator({ fleet: f });
    const config = await configFile(sim.url, f);

    const direct = proxyLog();
    const db = await database();
    const bypassed = await run(config, { HTTP_PROXY: proxyUrl, NO_PROXY: 'localhost,127.0.0.1' }, db);
    expect(bypassed.code, describeResult(bypassed)).toBe(ExitCode.OK);
    expect(await storedTasks(db.pool)).toEqual(fleetTasks(f));
    expect(direct()).toEqual([]);

    const proxied = proxyLog();
    const again = await run(config, { HTTP_PROXY: proxyUrl }, await database());
    expect(again.code, describeResult(again)).toBe(ExitCode.OK);
    expect(proxied().length).toBeGreaterThan(0);
  });

  it('a domain suffix in no_proxy sends its hosts direct, where a proxy-only name cannot be resolved', async () => {
    const f = fleet(66);
    const sim = await simulator({ fleet: f });
    const log = proxyLog();
    const result = await run(await configFile(`http://${DWS_HOST}:${portOf(sim.url)}`, f), { http_proxy: proxyUrl, no_proxy: '.only-via-proxy.test' }, await database());
    expect(result.code, describeResult(result)).toBe(ExitCode.FAILED);
    expect(result.stdout).toContain('ENOTFOUND dws.only-via-proxy.test');
    expect(log()).toEqual([]);
  });
});

describe('credential sources', () => {
  it('IAM goes through the proxy like the DWS API', async () => {
    const identities = new SimIdentities();
    const password = 'iam-proxy-pw-never-print';
    const iam = await startIamSimulator({ identities, users: [{ domainName: 'acme', userName: 'exporter', password }] });
    closers.push(() => iam.close());
    const f = fleet(67);
    const sim = await simulator({ fleet: f, auth: { identities } });
    const iamEndpoint = `http://${IAM_HOST}:${portOf(iam.url)}`;
    const config = await configFile(`http://${DWS_HOST}:${portOf(sim.url)}`, f, {
      auth: { iam: { domainName: 'acme', userName: 'exporter', endpoint: iamEndpoint } },
    });
    const log = proxyLog();
    const db = await database();
    const result = await runCli(['run', '--config', config], { DATABASE_URL: db.url, DWS_IAM_PASSWORD: password, HTTP_PROXY: proxyUrl });
    expect(result.code, describeResult(result)).toBe(ExitCode.OK);
    expect(await storedTasks(db.pool)).toEqual(fleetTasks(f));
    const tokenRequests = log().filter((e) => e.url === `${iamEndpoint}/v3/auth/tokens`);
    expect(tokenRequests.map((e) => e.method)).toEqual(['POST', 'POST']); // one token per project
  });

  it('the metadata service is never reached through the proxy, even with NO_PROXY empty', async () => {
    const identities = new SimIdentities();
    const metadata = await startMetadataSimulator({ identities, sessionTokens: true });
    closers.push(() => metadata.close());
    const f = fleet(68);
    const sim = await simulator({ fleet: f, auth: { identities } });
    const config = await configFile(`http://${DWS_HOST}:${portOf(sim.url)}`, f, { auth: { metadata: { url: metadata.url } } });
    const log = proxyLog();
    const db = await database();
    const result = await runCli(['run', '--config', config], { DATABASE_URL: db.url, HTTP_PROXY: proxyUrl, HTTPS_PROXY: proxyUrl, NO_PROXY: '' });
    expect(result.code, describeResult(result)).toBe(ExitCode.OK);
    expect(await storedTasks(db.pool)).toEqual(fleetTasks(f));
    expect(metadata.stats.securityKeyRequests).toBeGreaterThan(0);
    const events = log();
    expect(events.length).toBe(sim.stats.requests);
    expect(events.filter((e) => !e.url.startsWith(`http://${DWS_HOST}:`))).toEqual([]);
  });
});

describe('proxy problems are clear', () => {
  it('a malformed HTTPS_PROXY exits 2 with a CONFIG_INVALID message naming it, no stack trace, no password', async () => {
    const f = fleet(69);
    const result = await runCli(['run', '--config', await configFile('https://dws.example.com', f)], {
      DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
      DWS_AUTH_TOKEN: TEST_TOKEN,
      // A SOCKS proxy (undici speaks HTTP to proxies); a bare host:port would be read as http://, as curl does.
      HTTPS_PROXY: `socks5://${PROXY_USER}:${PROXY_PASSWORD}@proxy.corp:1080`,
    });
    expect(result.code, describeResult(result)).toBe(ExitCode.USAGE_OR_CONFIG);
    expect(result.stderr).toMatch(/^dws-task-exporter: CONFIG_INVALID: env HTTPS_PROXY: must be an http:\/\/ or https:\/\/ proxy URL/m);
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(`${result.stdout}${result.stderr}`).not.toContain(PROXY_PASSWORD);
  });

  it('a proxy that wants credentials (407) fails the clusters with a message saying where to put them', async () => {
    const f = fleet(70);
    const sim = await simulator({ fleet: f, tls: certificates.server });
    const plain = await simulator({ fleet: f });
    const env = { NODE_EXTRA_CA_CERTS: certificates.caPath };
    const tunnel = await run(await configFile(`https://${DWS_HOST}:${portOf(sim.url)}`, f), { ...env, HTTPS_PROXY: proxy.url }, await database());
    const absolute = await run(await configFile(`http://${DWS_HOST}:${portOf(plain.url)}`, f), { ...env, HTTP_PROXY: proxy.url }, await database());
    for (const result of [tunnel, absolute]) {
      expect(result.code, describeResult(result)).toBe(ExitCode.FAILED);
      expect(result.stdout).toContain('the proxy requires authentication (407): put the credentials in the proxy URL, http://user:password@proxy:3128');
    }
    expect(sim.stats.requests + plain.stats.requests).toBe(0);
  });
});

describe('the HTTP client through a proxy keeps its options', () => {
  it('timeouts and the retry interceptor work through an absolute-form proxy', async () => {
    const f = fleet(71);
    const sim = await simulator({ fleet: f, latencyMs: 3000 });
    const http = createHttpClient({
      connections: 2,
      timeoutMs: 300,
      maxRequestsPerSecond: 1000,
      maxInFlight: 4,
      retry: { maxRetries: 2, minDelayMs: 1, maxDelayMs: 5 },
      proxy: { httpProxy: proxyUrl, httpsProxy: undefined, noProxy: undefined },
    });
    closers.push(() => http.close());
    const log = proxyLog();
    const retries: number[] = [];
    const url = new URL(`http://${DWS_HOST}:${portOf(sim.url)}/v1.0/${f.projectIds()[0] ?? ''}/clusters`);
    const failure = await http.get(url, { 'x-auth-token': TEST_TOKEN }, (event) => retries.push(event.attempt)).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 'UND_ERR_HEADERS_TIMEOUT' });
    expect(retries).toEqual([1, 2]);
    expect(log().filter((e) => e.kind === 'request')).toHaveLength(3);
  });

  it('the API responses the metrics and the progress line count include those sent absolute-form to the proxy', async () => {
    const f = fleet(72);
    const sim = await simulator({ fleet: f });
    const endpoint = `http://${DWS_HOST}:${portOf(sim.url)}`;
    const counter = watchApiResponses([endpoint]);
    closers.push(async () => counter.stop());
    const http = createHttpClient({
      connections: 2,
      timeoutMs: 5000,
      maxRequestsPerSecond: 1000,
      maxInFlight: 4,
      retry: { maxRetries: 0, minDelayMs: 1, maxDelayMs: 5 },
      proxy: { httpProxy: proxyUrl, httpsProxy: undefined, noProxy: undefined },
    });
    closers.push(() => http.close());
    const url = new URL(`${endpoint}/v1.0/${f.projectIds()[0] ?? ''}/clusters`);
    const statuses: number[] = [];
    for (const token of [TEST_TOKEN, TEST_TOKEN, 'wrong-token']) {
      statuses.push((await http.get(url, { 'x-auth-token': token }, () => undefined)).status);
    }
    expect(statuses).toEqual([200, 200, 401]);
    expect(counter.requests()).toBe(3);
    expect(Object.fromEntries(counter.byStatus())).toEqual({ 200: 2, 401: 1 });
  });
});
