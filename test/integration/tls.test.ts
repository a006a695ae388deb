/**
 * A DWS endpoint whose certificate comes from a private CA (as behind a
 * TLS-inspecting proxy): the real CLI in a child process (NODE_EXTRA_CA_CERTS
 * is read when Node starts) against the simulator serving HTTPS with a
 * throwaway CA made by openssl. Refused with a message that names the CA
 * problem and the fix; accepted once the CA is given.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/core/exit-codes.js';
import { SimFleet, startSimulator, type Simulator } from '../../src/simulator/index.js';
import { cliLauncher, describeResult } from '../support/cli.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { fleetTasks, storedTasks, TEST_TOKEN } from '../support/exporter.js';
import { makeCertificates, type TestCertificates } from '../support/tls.js';

const { runCli } = cliLauncher();

const fleet = SimFleet.generate({ seed: 81, projects: 1, clustersPerProject: 3, minTasks: 5, maxTasks: 40 });
let workDir: string;
let certificates: TestCertificates;
let simulator: Simulator;
let configPath: string;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'dws-tls-test-'));
  certificates = await makeCertificates(workDir, ['localhost']);
  simulator = await startSimulator({ fleet, auth: { token: TEST_TOKEN }, tls: certificates.server, pageSizeCap: 10 });
  configPath = join(workDir, 'config.json');
  await writeFile(
    configPath,
    JSON.stringify({
      endpoint: simulator.url,
      projects: fleet.projectIds().map((projectId) => ({ projectId, clusters: fleet.clustersOf(projectId).map((c) => c.id) })),
      http: { retryMinDelayMs: 5, retryMaxDelayMs: 50 },
    }),
  );
});

afterAll(async () => {
  await simulator.close();
  await rm(workDir, { recursive: true, force: true });
});

async function withDatabase<T>(body: (db: TestDatabase) => Promise<T>): Promise<T> {
  const db = await createTestDatabase();
  try {
    return await body(db);
  } finally {
    await db.drop();
  }
}

describe('an endpoint whose certificate a private CA signed', () => {
  it('is refused without NODE_EXTRA_CA_CERTS: every cluster fails with a message naming the unknown CA and the fix, exit 4', async () => {
    await withDatabase(async (db) => {
      simulator.resetStats();
      const result = await runCli(['run', '--config', configPath], { DATABASE_URL: db.url, DWS_AUTH_TOKEN: TEST_TOKEN });
      expect(result.code, describeResult(result)).toBe(ExitCode.FAILED);
      const expected =
        "the server's certificate is signed by an unknown CA (SELF_SIGNED_CERT_IN_CHAIN: self-signed certificate in certificate chain); " +
        'if your network uses a private CA (for example a TLS-inspecting proxy), set NODE_EXTRA_CA_CERTS=/path/to/ca.pem';
      // The endpoint breaker opens on the first certificate failure: said once, with the CA hint.
      expect(result.stdout).toMatch(/Endpoint https:\/\/127\.0\.0\.1:\d+ unreachable \(last error: /);
      expect(result.stdout).toContain(expected);
      const ledger = await db.pool.query<{ error_code: string; error_message: string; api_requests: number; api_retries: number }>(
        'SELECT error_code, error_message, api_requests, api_retries FROM dws.export_cluster_runs',
      );
      expect(ledger.rows).toHaveLength(3);
      for (const row of ledger.rows) {
        expect(['DWS_NETWORK_ERROR', 'DWS_ENDPOINT_UNREACHABLE']).toContain(row.error_code);
        expect(row.error_message).toContain(expected);
      }
      // A certificate problem is not transient: never retried (the endpoint breaker's probe is a request of its own).
      expect(ledger.rows.reduce((sum, row) => sum + row.api_retries, 0)).toBe(0);
      // No request got past the handshake.
      expect(simulator.stats.requests).toBe(0);
    });
  });

  it('is accepted with the CA in NODE_EXTRA_CA_CERTS: the run is exact, exit 0', async () => {
    await withDatabase(async (db) => {
      const result = await runCli(['run', '--config', configPath], {
        DATABASE_URL: db.url,
        DWS_AUTH_TOKEN: TEST_TOKEN,
        NODE_EXTRA_CA_CERTS: certificates.caPath,
      });
      expect(result.code, describeResult(result)).toBe(ExitCode.OK);
      expect(await storedTasks(db.pool)).toEqual(fleetTasks(fleet));
    });
  });
});
