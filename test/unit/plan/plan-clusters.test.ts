/**
 * planClusters for projects configured with explicit ids (no API call): the
 * clusters in config order, each with its project's endpoint. And
 * insecureEndpoints: plain-HTTP endpoints that are not loopback.
 * Configs are built through parseConfig, as the CLI builds them.
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load-config.js';
import type { ExporterConfig } from '../../../src/config/schema.js';
import { insecureEndpoints, planClusters } from '../../../src/plan/plan-clusters.js';
import { clusterId, projectId } from '../../support/ids.js';

const TOP = 'https://dws.cn-north-4.myhuaweicloud.com';

// Configs name projects and clusters by label ('p-a', 'c-1'); the ids they
// stand for are valid ones, and `label` turns an id back for assertions.
const labels = new Map<string, string>();
function remember(id: string, name: string): string {
  labels.set(id, name);
  return id;
}
const asProject = (name: string): string => remember(projectId(name), name);
const asCluster = (name: string): string => remember(clusterId(name), name);
const label = (id: string): string => labels.get(id) ?? id;

interface ProjectInput {
  readonly projectId: string;
  readonly clusters: readonly string[];
  readonly [key: string]: unknown;
}

function config(json: Record<string, unknown> & { readonly projects: readonly ProjectInput[] }): ExporterConfig {
  const projects = json.projects.map((p) => ({ ...p, projectId: asProject(p.projectId), clusters: p.clusters.map(asCluster) }));
  return parseConfig({ ...json, projects }, 'test-config.json');
}

function withEndpoints(...endpoints: string[]): ExporterConfig {
  return config({ projects: endpoints.map((endpoint, i) => ({ projectId: `p${i}`, clusters: [`c${i}`], endpoint })) });
}

describe('planClusters (explicit cluster ids)', () => {
  const twoProjects = config({
    endpoint: TOP,
    projects: [
      { projectId: 'p-a', clusters: ['c-3', 'c-1', 'c-2'] },
      { projectId: 'p-b', clusters: ['c-9'], endpoint: 'https://proxy.example.com/dws/' },
      { projectId: 'p-c', clusters: ['c-0', 'c-5'] },
    ],
  });

  it('plans every configured cluster in config order: projects in order, ids in order (no sorting)', async () => {
    const plan = await planClusters(twoProjects);
    expect(plan.clusters.map((c) => `${label(c.projectId)}/${label(c.clusterId)}`)).toEqual([
      'p-a/c-3',
      'p-a/c-1',
      'p-a/c-2',
      'p-b/c-9',
      'p-c/c-0',
      'p-c/c-5',
    ]);
  });

  it("gives each cluster its project's resolved endpoint (own endpoint, trailing slash trimmed, else the top-level one)", async () => {
    const plan = await planClusters(twoProjects);
    expect(plan.clusters.map((c) => [label(c.clusterId), c.endpoint])).toEqual([
      ['c-3', TOP],
      ['c-1', TOP],
      ['c-2', TOP],
      ['c-9', 'https://proxy.example.com/dws'],
      ['c-0', TOP],
      ['c-5', TOP],
    ]);
  });

  it('is the same plan on every call (stable order)', async () => {
    const first = await planClusters(twoProjects);
    const second = await planClusters(twoProjects);
    expect(second.clusters).toEqual(first.clusters);
  });

  it('needs no DWS client when every project lists its ids', async () => {
    await expect(planClusters(twoProjects, {})).resolves.toMatchObject({ clusters: expect.any(Array) });
  });

  it('records every planned cluster in the inventory, not listed and not skipped', async () => {
    const plan = await planClusters(config({ endpoint: TOP, projects: [{ projectId: 'p-a', clusters: ['c-1', 'c-2'] }] }));
    expect(plan.inventory.map((entry) => [label(entry.projectId), label(entry.clusterId), entry.listed, entry.skipReason])).toEqual([
      ['p-a', 'c-1', false, null],
      ['p-a', 'c-2', false, null],
    ]);
  });
});

describe('insecureEndpoints', () => {
  it('flags plain-HTTP endpoints on other hosts', () => {
    expect(insecureEndpoints(withEndpoints('http://dws.example.com', 'http://10.0.0.5:8080'))).toEqual([
      'http://dws.example.com',
      'http://10.0.0.5:8080',
    ]);
  });

  it('does not flag HTTPS endpoints', () => {
    expect(insecureEndpoints(withEndpoints(TOP, 'https://10.0.0.5:8443', 'https://localhost'))).toEqual([]);
  });

  it('does not flag plain HTTP on loopback: localhost, 127.0.0.0/8, [::1]', () => {
    expect(
      insecureEndpoints(
        withEndpoints('http://localhost:8080', 'http://LOCALHOST', 'http://127.0.0.1:9000', 'http://127.1.2.3', 'http://[::1]:8080'),
      ),
    ).toEqual([]);
  });

  it('reports each insecure endpoint once even when several projects share it', () => {
    expect(insecureEndpoints(withEndpoints('http://dws.example.com', 'http://dws.example.com/'))).toEqual([
      'http://dws.example.com',
    ]);
  });

  it('flags a top-level plain-HTTP endpoint inherited by projects', () => {
    const inherited = config({
      endpoint: 'http://dws.example.com',
      projects: [
        { projectId: 'p1', clusters: ['c1'] },
        { projectId: 'p2', clusters: ['c2'] },
      ],
    });
    expect(insecureEndpoints(inherited)).toEqual(['http://dws.example.com']);
  });

  it('flags a plain-HTTP IAM endpoint (it receives the password) next to the DWS endpoints', () => {
    const withIam = config({
      endpoint: TOP,
      projects: [{ projectId: 'p1', clusters: ['c1'] }],
      auth: { iam: { domainName: 'acme', userName: 'exporter', endpoint: 'http://iam.example.com' } },
    });
    expect(insecureEndpoints(withIam)).toEqual(['http://iam.example.com']);
  });

  it('flags plain HTTP to a DNS name that merely starts with "127."', () => {
    expect(insecureEndpoints(withEndpoints('http://127.example.com', 'http://127.0.0.1.example.com:8080'))).toEqual([
      'http://127.example.com',
      'http://127.0.0.1.example.com:8080',
    ]);
  });
});
