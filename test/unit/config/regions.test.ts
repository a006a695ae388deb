/**
 * Regions → endpoints exactly as documented, and how the config resolves
 * each project's endpoint and region (an explicit endpoint always wins).
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load-config.js';
import { dwsEndpointForRegion, iamEndpointForRegion, isRegionId, regionOfEndpoint } from '../../../src/config/regions.js';
import { ConfigError } from '../../../src/core/errors.js';

const P1 = '9b06d044ea4f49f1a58b2bed2b0084bd';
const C1 = '9b7ff56b-47b3-4d00-a1fd-4c023d34404b';
const C2 = '0f3c2a1e-5b6d-4e7f-8a9b-0c1d2e3f4a5b';
const P2 = '0123456789abcdef0123456789abcdef';

describe('dwsEndpointForRegion', () => {
  it.each([
    ['cn-north-4', 'https://dws.cn-north-4.myhuaweicloud.com'],
    ['ap-southeast-1', 'https://dws.ap-southeast-1.myhuaweicloud.com'],
    ['la-north-2', 'https://dws.la-north-2.myhuaweicloud.com'],
    ['my-kualalumpur-1', 'https://dws.my-kualalumpur-1.myhuaweicloud.com'],
  ])('maps %s to myhuaweicloud.com', (region, endpoint) => {
    expect(dwsEndpointForRegion(region)).toBe(endpoint);
  });

  it.each(['cn-south-4', 'cn-north-12', 'cn-east-4', 'tr-west-1', 'ap-southeast-4'])(
    'maps the documented exception %s to myhuaweicloud.cn',
    (region) => {
      expect(dwsEndpointForRegion(region)).toBe(`https://dws.${region}.myhuaweicloud.cn`);
    },
  );

  it('maps eu-west-101 to myhuaweicloud.eu', () => {
    expect(dwsEndpointForRegion('eu-west-101')).toBe('https://dws.eu-west-101.myhuaweicloud.eu');
  });

  it('refuses anything that is not shaped like a region id', () => {
    for (const bad of ['', 'cn_north_4', 'cn-north', 'CN-NORTH-4', 'cn-north-4.evil.com', 'x/../y-1']) {
      expect(isRegionId(bad)).toBe(false);
      expect(() => dwsEndpointForRegion(bad)).toThrow(RangeError);
    }
  });
});

describe('iamEndpointForRegion', () => {
  it('keeps myhuaweicloud.com for the DWS .cn exceptions and uses .eu for eu-west-101', () => {
    expect(iamEndpointForRegion('cn-north-4')).toBe('https://iam.cn-north-4.myhuaweicloud.com');
    expect(iamEndpointForRegion('cn-east-4')).toBe('https://iam.cn-east-4.myhuaweicloud.com');
    expect(iamEndpointForRegion('eu-west-101')).toBe('https://iam.eu-west-101.myhuaweicloud.eu');
  });
});

describe('regionOfEndpoint', () => {
  it('reads the region back from official DWS endpoints only', () => {
    expect(regionOfEndpoint('https://dws.cn-north-4.myhuaweicloud.com')).toBe('cn-north-4');
    expect(regionOfEndpoint('https://dws.eu-west-101.myhuaweicloud.eu/')).toBe('eu-west-101');
    expect(regionOfEndpoint('https://dws.tr-west-1.myhuaweicloud.cn')).toBe('tr-west-1');
    expect(regionOfEndpoint('http://127.0.0.1:8080')).toBeNull();
    expect(regionOfEndpoint('https://dws.cn-north-4.example.com')).toBeNull();
    expect(regionOfEndpoint('not a url')).toBeNull();
  });
});

describe('config: endpoint and region of each project', () => {
  it('a top-level region gives every project its documented endpoint and region', () => {
    const config = parseConfig({ region: 'eu-west-101', projects: [{ projectId: P1, clusters: 'all' }] }, 'test');
    expect(config.projects[0]).toMatchObject({ endpoint: 'https://dws.eu-west-101.myhuaweicloud.eu', region: 'eu-west-101' });
  });

  it('a project region wins over the top-level endpoint and region', () => {
    const config = parseConfig(
      {
        endpoint: 'https://dws.cn-north-4.myhuaweicloud.com',
        region: 'cn-north-4',
        projects: [{ projectId: P1, region: 'cn-south-4', clusters: 'all' }],
      },
      'test',
    );
    expect(config.projects[0]).toMatchObject({ endpoint: 'https://dws.cn-south-4.myhuaweicloud.cn', region: 'cn-south-4' });
  });

  it('a project endpoint wins over its region, which is still recorded', () => {
    const config = parseConfig(
      { projects: [{ projectId: P1, region: 'cn-north-4', endpoint: 'http://127.0.0.1:9000/', clusters: 'all' }] },
      'test',
    );
    expect(config.projects[0]).toMatchObject({ endpoint: 'http://127.0.0.1:9000', region: 'cn-north-4' });
  });

  it('an official endpoint without a region yields its region; another endpoint yields none', () => {
    const config = parseConfig(
      {
        endpoint: 'https://dws.ap-southeast-1.myhuaweicloud.com',
        projects: [
          { projectId: P1, clusters: ['9b7ff56b-47b3-4d00-a1fd-4c023d34404b'] },
          { projectId: P2, endpoint: 'https://proxy.internal', clusters: ['5f0c3c3e-8d4b-4f0e-9a57-2b8f6f0e1a11'] },
        ],
      },
      'test',
    );
    expect(config.projects.map((p) => p.region)).toEqual(['ap-southeast-1', null]);
  });

  it('a project endpoint with the top-level region set keeps that region', () => {
    const config = parseConfig(
      { region: 'cn-north-4', projects: [{ projectId: P1, endpoint: 'http://127.0.0.1:9000', clusters: 'all' }] },
      'test',
    );
    // The endpoint is the project's own (a proxy, the simulator): only a region on the project itself applies.
    expect(config.projects[0]).toMatchObject({ endpoint: 'http://127.0.0.1:9000', region: null });
  });

  it('refuses a malformed region, naming the key', () => {
    expect(() => parseConfig({ projects: [{ projectId: P1, region: 'cn_north_4', clusters: 'all' }] }, 'cfg.json')).toThrow(
      /cfg\.json: projects\[0\]\.region: must be a Huawei Cloud region id/,
    );
  });

  it('refuses a project with neither endpoint nor region anywhere', () => {
    expect(() => parseConfig({ projects: [{ projectId: P1, clusters: 'all' }] }, 'cfg.json')).toThrow(
      /projects\[0\]\.endpoint: no endpoint: set "endpoint" or "region"/,
    );
  });

  it('keeps existing configs (endpoint + cluster ids) meaning exactly what they meant', () => {
    const config = parseConfig(
      { endpoint: 'https://dws.cn-north-4.myhuaweicloud.com/', projects: [{ projectId: P1, clusters: [C1, C2] }] },
      'test',
    );
    expect(config.projects).toEqual([
      {
        projectId: P1,
        endpoint: 'https://dws.cn-north-4.myhuaweicloud.com',
        region: 'cn-north-4',
        clusters: { mode: 'ids', ids: [C1, C2] },
      },
    ]);
    expect(config.auth).toEqual({ metadata: null, iam: null });
  });
});

describe('config: cluster selection', () => {
  const parse = (clusters: unknown) =>
    parseConfig({ region: 'cn-north-4', projects: [{ projectId: P1, clusters }] }, 'cfg.json').projects[0]?.clusters;

  it('reads "all", a list of ids, and include/exclude', () => {
    expect(parse('all')).toEqual({ mode: 'discover', include: null, exclude: [] });
    expect(parse([C1])).toEqual({ mode: 'ids', ids: [C1] });
    expect(parse({ exclude: ['test-*'] })).toEqual({ mode: 'discover', include: null, exclude: ['test-*'] });
    expect(parse({ include: ['dws-sales-*', 'x-1'] })).toEqual({ mode: 'discover', include: ['dws-sales-*', 'x-1'], exclude: [] });
  });

  it('refuses other values with a message listing the three forms', () => {
    for (const bad of ['some', 5, null]) {
      expect(() => parse(bad)).toThrow(/projects\[0\]\.clusters: must be "all", a list of cluster ids, or \{"include"/);
    }
    expect(() => parse([])).toThrow(/list at least one cluster id/);
    expect(() => parse(['../x'])).toThrow(/projects\[0\]\.clusters\[0\]: not a DWS cluster id/);
    expect(() => parse({ include: [] })).toThrow(/include: list at least one/);
    expect(() => parse({ only: ['x'] })).toThrow(ConfigError);
  });

  it('refuses a discovering project configured twice (its clusters would be exported twice)', () => {
    expect(() =>
      parseConfig({ region: 'cn-north-4', projects: [{ projectId: P1, clusters: 'all' }, { projectId: P1, clusters: [C1] }] }, 'c'),
    ).toThrow(/projects\[1\]\.projectId: project .* is configured twice \(first at projects\[0\]\)/);
  });
});

describe('config: auth', () => {
  it('reads auth.metadata (default URL) and auth.iam', () => {
    const config = parseConfig(
      {
        region: 'cn-north-4',
        projects: [{ projectId: P1, clusters: 'all' }],
        auth: { metadata: {}, iam: { domainName: 'acme', userName: 'exporter' } },
      },
      'test',
    );
    expect(config.auth).toEqual({
      metadata: { url: 'http://169.254.169.254' },
      iam: { domainName: 'acme', userName: 'exporter', endpoint: null },
    });
  });

  it('refuses unknown auth keys (a password never belongs in the config file)', () => {
    expect(() =>
      parseConfig(
        { region: 'cn-north-4', projects: [{ projectId: P1, clusters: 'all' }], auth: { iam: { domainName: 'a', userName: 'b', password: 'x' } } },
        'test',
      ),
    ).toThrow(/auth\.iam: unknown key "password"/);
  });
});
