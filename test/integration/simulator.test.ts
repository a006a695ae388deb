import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { signRequest } from '../../src/source/auth/signer.js';
import { SimFleet, startSimulator } from '../../src/simulator/index.js';
import type {
  SimCluster,
  SimTask,
  Simulator,
  SimulatorOptions,
} from '../../src/simulator/index.js';

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  readonly body: unknown;
}

interface TasksPage {
  readonly logical_cluster_tasks: SimTask[];
  readonly count: number;
}

async function get(
  sim: Simulator,
  path: string,
  headers: Record<string, string> = {},
  method: 'GET' | 'POST' = 'GET',
): Promise<Answer> {
  const res = await request(sim.url + path, { method, headers });
  const text = await res.body.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.statusCode, headers: res.headers, text, body };
}

function tasksPath(c: SimCluster, query = ''): string {
  return `/v2/${c.projectId}/clusters/${c.id}/logical-clusters/tasks${query ? `?${query}` : ''}`;
}

const SPEC = { seed: 7, projects: 2, clustersPerProject: 3, minTasks: 20, maxTasks: 60 } as const;

function task(overrides: Partial<SimTask>): SimTask {
  return {
    type: 'Expand',
    logical_cluster_name: 'lc_a',
    start_time: '2024-01-01 00:00:00',
    end_time: '2024-01-01 00:10:00',
    result: 'success',
    log: 'ok',
    ...overrides,
  };
}

async function withSimulator<T>(
  options: SimulatorOptions,
  fn: (sim: Simulator) => Promise<T>,
): Promise<T> {
  const sim = await startSimulator(options);
  try {
    return await fn(sim);
  } finally {
    await sim.close();
  }
}

describe('SimFleet.generate', () => {
  it('returns identical data for the same spec and different data for another seed', () => {
    const a = SimFleet.generate(SPEC);
    const b = SimFleet.generate(SPEC);
    const c = SimFleet.generate({ ...SPEC, seed: 8 });
    expect(b.clusters).toEqual(a.clusters);
    expect(c.projectIds()).not.toEqual(a.projectIds());
    expect(c.clusters.map((x) => x.tasks)).not.toEqual(a.clusters.map((x) => x.tasks));
  });

  it('produces realistic ids, names and strictly increasing task start times within each cluster', () => {
    const fleet = SimFleet.generate({ ...SPEC, minTasks: 300, maxTasks: 300 });
    expect(fleet.projectIds()).toHaveLength(2);
    expect(fleet.totalTasks()).toBe(6 * 300);
    const stamp = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;
    for (const c of fleet.clusters) {
      expect(c.projectId).toMatch(/^[0-9a-f]{32}$/);
      expect(c.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(c.name).toMatch(/^dws-[a-z]+-\d{2}$/);
      expect(['ACTIVE', 'AVAILABLE']).toContain(c.status);
      expect(new Set(c.tasks.map((t) => t.logical_cluster_name)).size).toBeLessThanOrEqual(4);
      c.tasks.forEach((t, i) => {
        expect(t.start_time).toMatch(stamp);
        if (i > 0) expect((t.start_time ?? '') > (c.tasks[i - 1]?.start_time ?? '')).toBe(true);
        if (t.result === '') {
          expect(t.end_time).toBe('');
        } else {
          const seconds = (Date.parse(`${t.end_time}Z`) - Date.parse(`${t.start_time}Z`)) / 1000;
          expect(seconds).toBeGreaterThanOrEqual(5);
          expect(seconds).toBeLessThanOrEqual(7200);
        }
      });
    }
    const all = fleet.clusters.flatMap((c) => c.tasks);
    expect(all.some((t) => t.result === 'failed')).toBe(true);
    expect(all.some((t) => t.result === '')).toBe(true);
    expect(all.some((t) => t.log?.includes('\\n'))).toBe(true);
    expect(all.some((t) => /[^\x00-\x7f]/.test(t.log ?? ''))).toBe(true);
  });

  // The per-test timeout is the guard (it runs in ~1 s); no flaky timing assertion.
  it('generates a million tasks within seconds', { timeout: 15_000 }, () => {
    const fleet = SimFleet.generate({
      seed: 1,
      projects: 4,
      clustersPerProject: 5,
      minTasks: 50_000,
      maxTasks: 50_000,
    });
    expect(fleet.totalTasks()).toBe(1_000_000);
  });
});

describe('tasks endpoint', () => {
  const fleet = SimFleet.generate({ ...SPEC, minTasks: 25, maxTasks: 25 });
  const c = fleet.clusters[0] as SimCluster;
  let pages: Simulator;
  let rows: Simulator;
  beforeAll(async () => {
    pages = await startSimulator({ fleet });
    rows = await startSimulator({ fleet, offsetMode: 'rows' });
  });
  afterAll(async () => {
    await Promise.all([pages.close(), rows.close()]);
  });

  it('treats offset as a page number by default and as rows to skip in rows mode', async () => {
    const byPage = (await get(pages, tasksPath(c, 'offset=1&limit=10'))).body as TasksPage;
    expect(byPage.logical_cluster_tasks).toEqual(c.tasks.slice(10, 20));
    expect(byPage.count).toBe(25);
    const byRow = (await get(rows, tasksPath(c, 'offset=1&limit=10'))).body as TasksPage;
    expect(byRow.logical_cluster_tasks).toEqual(c.tasks.slice(1, 11));
  });

  it('defaults to offset 0 and limit 10, and answers a page past the end with [] and the real count', async () => {
    const first = await get(pages, tasksPath(c));
    expect(first.status).toBe(200);
    expect(first.headers['content-type']).toBe('application/json');
    expect((first.body as TasksPage).logical_cluster_tasks).toEqual(c.tasks.slice(0, 10));
    const past = await get(pages, tasksPath(c, 'offset=3&limit=10'));
    expect(past.body).toEqual({ logical_cluster_tasks: [], count: 25 });
  });

  it('silently caps limit at pageSizeCap, computing the page start with the capped size', async () => {
    await withSimulator({ fleet, pageSizeCap: 5 }, async (sim) => {
      const page = (await get(sim, tasksPath(c, 'offset=1&limit=10'))).body as TasksPage;
      expect(page.logical_cluster_tasks).toEqual(c.tasks.slice(5, 10));
      expect(page.count).toBe(25);
    });
  });

  it('applies logical_cluster_name and type filters before paging and counts the filtered rows', async () => {
    const sample = c.tasks[3] as SimTask;
    const lc = sample.logical_cluster_name ?? '';
    const expected = c.tasks.filter((t) => t.logical_cluster_name === lc && t.type === sample.type);
    const query = `logical_cluster_name=${encodeURIComponent(lc)}&type=${sample.type}&limit=100`;
    const res = await get(pages, tasksPath(c, query));
    expect(res.body).toEqual({ logical_cluster_tasks: expected, count: expected.length });
    const paged = await get(pages, tasksPath(c, `${query.replace('limit=100', 'limit=1')}&offset=1`));
    expect(paged.body).toEqual({ logical_cluster_tasks: expected.slice(1, 2), count: expected.length });
  });

  it('sorts ASC by start_time, logical_cluster_name, type and DESC in exactly the reverse order', async () => {
    const t0 = '2024-03-01 10:00:00';
    const mixed: SimCluster = {
      projectId: 'a'.repeat(32),
      id: '00000000-0000-4000-8000-000000000001',
      name: 'dws-sales-01',
      status: 'ACTIVE',
      tasks: [
        task({ start_time: '2024-03-02 00:00:00' }),
        task({ start_time: t0, logical_cluster_name: 'lc_b', type: 'Expand' }),
        task({ start_time: t0, logical_cluster_name: 'lc_a', type: 'Shrink' }),
        task({ start_time: t0, logical_cluster_name: 'lc_a', type: 'Create' }),
        task({ start_time: '2024-02-01 00:00:00' }),
      ],
    };
    const ts = mixed.tasks;
    const asc = [ts[4], ts[3], ts[2], ts[1], ts[0]];
    await withSimulator({ fleet: new SimFleet([mixed]) }, async (sim) => {
      const page = async (query: string): Promise<SimTask[]> =>
        ((await get(sim, tasksPath(mixed, query))).body as TasksPage).logical_cluster_tasks;
      expect(await page('order_by=startTime&order=asc&limit=10')).toEqual(asc);
      expect(await page('order_by=startTime&order=DESC&offset=0&limit=2')).toEqual([ts[0], ts[1]]);
      expect(await page('order=DESC&offset=1&limit=2')).toEqual([ts[2], ts[3]]);
      expect(await page('limit=10')).toEqual(ts);
    });
  });

  it('reflects tasks added and running tasks finished after the first request, also in sorted views', async () => {
    const own = SimFleet.generate({ ...SPEC, projects: 1, clustersPerProject: 1, minTasks: 5, maxTasks: 5 });
    const cl = own.clusters[0] as SimCluster;
    await withSimulator({ fleet: own }, async (sim) => {
      const query = 'order_by=startTime&order=ASC&limit=100';
      expect(((await get(sim, tasksPath(cl, query))).body as TasksPage).count).toBe(5);
      const late = task({ start_time: '2030-01-01 00:00:00', end_time: '', result: '' });
      own.addTask(cl.projectId, cl.id, late);
      const grown = (await get(sim, tasksPath(cl, query))).body as TasksPage;
      expect(grown.count).toBe(6);
      expect(grown.logical_cluster_tasks.at(-1)?.result).toBe('');
      own.finishRunningTask(cl.projectId, cl.id, 5, '2030-01-01 00:05:00', 'success');
      const finished = (await get(sim, tasksPath(cl, query))).body as TasksPage;
      expect(finished.logical_cluster_tasks.at(-1)).toMatchObject({
        end_time: '2030-01-01 00:05:00',
        result: 'success',
      });
    });
  });

  it.each(['offset=-1', 'offset=abc', 'limit=0', 'limit=1.5', 'order=UP', 'order_by=endTime'])(
    'rejects %s with 400 DWS.0001',
    async (query) => {
      const res = await get(pages, tasksPath(c, query));
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error_code: 'DWS.0001', error_msg: expect.any(String) });
    },
  );

  it('answers an unknown cluster with 404 DWS.0015 and a unique 32-hex X-Request-Id per request', async () => {
    const missing = '00000000-0000-4000-8000-000000000000';
    const path = `/v2/${c.projectId}/clusters/${missing}/logical-clusters/tasks`;
    const [a, b] = await Promise.all([get(pages, path), get(pages, path)]);
    expect(a.status).toBe(404);
    expect(a.headers['content-type']).toBe('application/json');
    expect(a.body).toEqual({ error_code: 'DWS.0015', error_msg: 'The cluster does not exist.' });
    expect(a.headers['x-request-id']).toMatch(/^[0-9a-f]{32}$/);
    expect(b.headers['x-request-id']).not.toBe(a.headers['x-request-id']);
  });

  it('answers unknown routes with 404 APIG.0101 and other methods with 405, both carrying request_id', async () => {
    const unknown = await get(pages, '/v3/whatever');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({
      error_code: 'APIG.0101',
      request_id: unknown.headers['x-request-id'],
    });
    const post = await get(pages, tasksPath(c), {}, 'POST');
    expect(post.status).toBe(405);
    expect(post.body).toMatchObject({ request_id: post.headers['x-request-id'] });
  });
});

describe('cluster faults', () => {
  it('answers every tasks request of a faulted cluster with the fault status and error body', async () => {
    const fleet = SimFleet.generate(SPEC);
    const c = fleet.clusters[1] as SimCluster;
    const errorMsg = 'Service unavailable.';
    c.fault = { kind: 'status', status: 503, errorCode: 'DWS.0005', errorMsg };
    await withSimulator({ fleet }, async (sim) => {
      const res = await get(sim, tasksPath(c, 'offset=0&limit=10'));
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ error_code: 'DWS.0005', error_msg: 'Service unavailable.' });
      expect((await get(sim, tasksPath(fleet.clusters[0] as SimCluster))).status).toBe(200);
    });
  });

  it('answers a malformed-faulted cluster with 200 and a non-JSON HTML body', async () => {
    const fleet = SimFleet.generate(SPEC);
    const c = fleet.clusters[0] as SimCluster;
    c.fault = { kind: 'malformed' };
    await withSimulator({ fleet }, async (sim) => {
      const res = await get(sim, tasksPath(c));
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('text/html');
      expect(res.body).toBeUndefined();
      expect(res.text).toContain('<html>');
    });
  });
});

describe('authentication', () => {
  const fleet = SimFleet.generate(SPEC);
  const c = fleet.clusters[0] as SimCluster;
  const credentials = { accessKey: 'SIMULATORAK0000000001', secretKey: 'simulator-secret-key' };
  let sim: Simulator;
  beforeAll(async () => {
    sim = await startSimulator({ fleet, auth: { token: 'good-token', credentials } });
  });
  afterAll(() => sim.close());

  function expectAuthFailure(res: Answer): void {
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({
      error_code: 'APIG.0301',
      error_msg: expect.stringMatching(/^Incorrect IAM authentication information: /),
      request_id: res.headers['x-request-id'],
    });
  }

  it('accepts the configured X-Auth-Token and rejects another token or no credentials with 401 APIG.0301', async () => {
    expect((await get(sim, tasksPath(c), { 'x-auth-token': 'good-token' })).status).toBe(200);
    expectAuthFailure(await get(sim, tasksPath(c), { 'x-auth-token': 'stale-token' }));
    expectAuthFailure(await get(sim, tasksPath(c)));
  });

  it('accepts an AK/SK-signed request and rejects a tampered query, a wrong secret and a wrong X-Project-Id', async () => {
    const sign = (
      path: string,
      projectId: string,
      secretKey = credentials.secretKey,
    ): Record<string, string> =>
      signRequest(
        { method: 'GET', url: new URL(sim.url + path), headers: { 'x-project-id': projectId } },
        { ...credentials, secretKey },
        new Date(),
      );
    const path = tasksPath(c, 'offset=0&limit=10');
    const ok = await get(sim, path, sign(path, c.projectId));
    expect(ok.status).toBe(200);
    expect((ok.body as TasksPage).logical_cluster_tasks).toHaveLength(10);
    expectAuthFailure(await get(sim, tasksPath(c, 'offset=0&limit=11'), sign(path, c.projectId)));
    expectAuthFailure(await get(sim, path, sign(path, c.projectId, 'wrong-secret')));
    const other = fleet.projectIds()[1] ?? '';
    expectAuthFailure(await get(sim, path, sign(path, other)));
  });
});

describe('stats and clusters listing', () => {
  it('counts requests by status and cluster, and measures maxInFlight across the latency wait', async () => {
    const fleet = SimFleet.generate(SPEC);
    const c = fleet.clusters[0] as SimCluster;
    await withSimulator({ fleet, latencyMs: 100 }, async (sim) => {
      await Promise.all(Array.from({ length: 8 }, () => get(sim, tasksPath(c))));
      await get(sim, `/v2/${c.projectId}/clusters/nope/logical-clusters/tasks`);
      expect(sim.stats).toMatchObject({ requests: 9, inFlight: 0 });
      expect(sim.stats.maxInFlight).toBe(8);
      expect({ ...sim.stats.byStatus }).toEqual({ '200': 8, '404': 1 });
      expect({ ...sim.stats.byCluster }).toEqual({ [c.id]: 8, nope: 1 });
      sim.resetStats();
      expect(sim.stats).toMatchObject({ requests: 0, inFlight: 0, maxInFlight: 0 });
      expect({ ...sim.stats.byStatus }).toEqual({});
    });
  });

  it('lists a project clusters with id, name, status, version and ISO 8601 Z timestamps', async () => {
    const fleet = SimFleet.generate(SPEC);
    const projectId = fleet.projectIds()[0] ?? '';
    await withSimulator({ fleet }, async (sim) => {
      const res = await get(sim, `/v1.0/${projectId}/clusters`);
      expect(res.status).toBe(200);
      const body = res.body as { clusters: Record<string, unknown>[]; count: number };
      expect(body.count).toBe(3);
      expect(body.clusters.map((x) => x.id)).toEqual(fleet.clustersOf(projectId).map((x) => x.id));
      for (const cluster of body.clusters) {
        expect(cluster).toMatchObject({
          version: '8.1.3.320',
          status: expect.stringMatching(/^(ACTIVE|AVAILABLE)$/),
        });
        expect(cluster.created).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
        expect(cluster.updated).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
      }
    });
  });

  // Node's keep-alive timeout is 5 s and the latency 10 min: if either held close(),
  // the 4 s per-test timeout would fail the test.
  it('closes promptly with idle keep-alive connections and requests waiting on latency', {
    timeout: 4_000,
  }, async () => {
    const fleet = SimFleet.generate(SPEC);
    const cluster = fleet.clusters[0] as SimCluster;
    const idle = await startSimulator({ fleet });
    expect((await get(idle, tasksPath(cluster))).status).toBe(200);
    await idle.close();

    const slow = await startSimulator({ fleet, latencyMs: 600_000 });
    const pending = get(slow, tasksPath(cluster)).catch((error: unknown) => error);
    while (slow.stats.inFlight === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    await slow.close();
    expect(await pending).toBeInstanceOf(Error);
  });
});
