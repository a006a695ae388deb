/**
 * A proxy whose CONNECT fails: a real HTTP server answering CONNECT with a
 * chosen status (as squid does when the host behind it is down: 502, 503,
 * 504; or when its rules forbid the host: 403), reached through the
 * exporter's real HTTP client (undici's proxy agent), DWS client and
 * endpoint breaker. Counts the CONNECTs the proxy received.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DwsNetworkError, EndpointUnreachableError } from '../../src/core/errors.js';
import { createAuthorizer } from '../../src/source/auth/authorizer.js';
import { createDwsClient } from '../../src/source/dws-client.js';
import { EndpointBreaker, PROBES_BEFORE_REFUSING } from '../../src/source/endpoint-breaker.js';
import { createHttpClient, type HttpClient } from '../../src/source/http-client.js';
import { TEST_TOKEN } from '../support/exporter.js';
import { clusterId, projectId } from '../support/ids.js';

/** The host behind the proxy: never reached, the proxy answers every CONNECT itself. */
const ENDPOINT = 'https://dws.behind-proxy.test';
const MAX_RETRIES = 2;

class TunnelRefusingProxy {
  connects = 0;
  private readonly server: Server = createServer((_req, res) => res.writeHead(405).end());

  constructor(private readonly status: number) {
    this.server.on('connect', (_req, socket) => {
      this.connects += 1;
      socket.on('error', () => undefined);
      socket.end(`HTTP/1.1 ${status} Proxy Says No\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    });
  }

  async start(): Promise<string> {
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function throughProxy(status: number): Promise<{ readonly proxy: TunnelRefusingProxy; readonly http: HttpClient }> {
  const proxy = new TunnelRefusingProxy(status);
  const url = await proxy.start();
  const http = createHttpClient({
    connections: 2,
    timeoutMs: 5000,
    maxRequestsPerSecond: 1000,
    maxInFlight: 4,
    retry: { maxRetries: MAX_RETRIES, minDelayMs: 1, maxDelayMs: 5 },
    proxy: { httpsProxy: url, httpProxy: undefined, noProxy: undefined },
  });
  closers.push(() => proxy.stop(), () => http.close());
  return { proxy, http };
}

describe('a CONNECT the proxy answers with an error', () => {
  it.each([[502], [503], [504]])(
    'answered %i: retried like a connection failure, and the error does not say the host is not allowed',
    async (status) => {
      const { proxy, http } = await throughProxy(status);
      const retries: number[] = [];
      const failure = await http.get(new URL(`${ENDPOINT}/v1.0/p/clusters`), {}, (event) => retries.push(event.attempt)).catch((error: unknown) => error);
      expect(retries).toEqual([1, 2]);
      expect(proxy.connects).toBe(MAX_RETRIES + 1);
      expect((failure as Error).message).toContain(`HTTP ${status} to CONNECT`);
      expect((failure as Error).message).not.toMatch(/allowed/);
    },
  );

  it('answered 403: not retried, and the error says to ask for the host to be allowed or to list it in NO_PROXY', async () => {
    const { proxy, http } = await throughProxy(403);
    const failure = await http.get(new URL(`${ENDPOINT}/v1.0/p/clusters`), {}, () => undefined).catch((error: unknown) => error);
    expect(proxy.connects).toBe(1);
    expect((failure as Error).message).toMatch(/^the proxy refused to open a tunnel to the host \(HTTP 403\): ask for the host to be allowed, or list it in NO_PROXY/);
  });

  it('answered 502: counts against the endpoint, whose requests are held for probes and then given up as DWS_ENDPOINT_UNREACHABLE', async () => {
    const { proxy, http } = await throughProxy(502);
    const authorizer = createAuthorizer({ kind: 'token', token: TEST_TOKEN });
    closers.push(() => authorizer.close());
    const breaker = new EndpointBreaker({ firstPauseMs: 10, maxPauseMs: 40 });
    const client = createDwsClient(http, authorizer, { endpoints: breaker });
    const cluster = { endpoint: ENDPOINT, projectId: projectId('tunnel'), clusterId: clusterId('tunnel') };
    const query = { offset: 0, limit: 100, orderBy: null, logicalClusterName: null, type: null };
    const failure = await client.listTasksPage(cluster, query, { requests: 0, retries: 0 }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(EndpointUnreachableError);
    expect(failure).not.toBeInstanceOf(DwsNetworkError);
    expect(breaker.lastError(ENDPOINT)).toContain('HTTP 502 to CONNECT');
    // Its own attempts (out of retries: the endpoint opens), then two attempts per probe.
    expect(proxy.connects).toBe(MAX_RETRIES + 1 + 2 * PROBES_BEFORE_REFUSING);
  });
});
