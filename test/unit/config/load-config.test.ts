/**
 * The config file: defaults filled, unknown keys refused, and every error a
 * ConfigError naming the file (or source) and the key path, e.g.
 * `projects[0].clusters[1]`.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfigFile, parseConfig } from '../../../src/config/load-config.js';
import { ConfigError } from '../../../src/core/errors.js';

const SOURCE = 'exporter.json';
const ENDPOINT = 'https://dws.cn-north-4.myhuaweicloud.com';
const P1 = '0123456789abcdef0123456789abcdef';
const P2 = 'fedcba9876543210fedcba9876543210';
const C1 = '9b7ff56b-47b3-4d00-a1fd-4c023d34404b';
const C2 = '0f3c2a1e-5b6d-4e7f-8a9b-0c1d2e3f4a5b';
const C3 = 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d';

function minimal(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { endpoint: ENDPOINT, projects: [{ projectId: P1, clusters: [C1] }], ...overrides };
}

/** The ConfigError thrown by parseConfig; fails the test when nothing is thrown. */
function configError(json: unknown, source = SOURCE): ConfigError {
  try {
    parseConfig(json, source);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError, got a valid config');
}

describe('a minimal valid config', () => {
  it('gets every documented default', () => {
    const config = parseConfig(minimal(), SOURCE);
    expect(config).toMatchObject({
      concurrency: 8,
      pageSize: 100,
      sourceTimeZone: 'UTC',
      offsetMode: 'auto',
      orderBy: 'startTime',
      filters: { logicalClusterName: null, type: null },
      batchSize: 5000,
      batchMaxDelayMs: 200,
      loader: 'auto',
      writers: 2,
      pageConcurrency: 4,
      http: {
        timeoutMs: 30_000,
        maxRetries: 4,
        retryMinDelayMs: 500,
        retryMaxDelayMs: 20_000,
        maxRequestsPerSecond: 100,
        maxInFlight: 64,
      },
      database: { reconnectAttempts: 5, reconnectDelayMs: 2000 },
      shutdownGraceMs: 20_000,
    });
  });

  it('resolves the top-level endpoint onto each project and keeps the cluster ids in order', () => {
    const config = parseConfig(
      minimal({ projects: [{ projectId: P1, clusters: [C2, C1] }, { projectId: P2, clusters: [C3] }] }),
      SOURCE,
    );
    expect(config.projects.map((p) => [p.projectId, p.endpoint])).toEqual([
      [P1, ENDPOINT],
      [P2, ENDPOINT],
    ]);
    expect(config.projects[0]?.clusters).toEqual({ mode: 'ids', ids: [C2, C1] });
  });

  it('keeps explicit values over defaults, including a nested one next to defaulted siblings', () => {
    const config = parseConfig(minimal({ concurrency: 2, orderBy: null, http: { maxRetries: 0 } }), SOURCE);
    expect(config.concurrency).toBe(2);
    expect(config.orderBy).toBeNull();
    expect(config.http.maxRetries).toBe(0);
    expect(config.http.timeoutMs).toBe(30_000);
  });

  it('accepts a valid IANA zone', () => {
    expect(parseConfig(minimal({ sourceTimeZone: 'Asia/Shanghai' }), SOURCE).sourceTimeZone).toBe('Asia/Shanghai');
  });
});

describe('endpoints', () => {
  it('a per-project endpoint wins over the top-level one', () => {
    const config = parseConfig(
      minimal({
        projects: [
          { projectId: P1, clusters: [C1], endpoint: 'https://proxy.example.com' },
          { projectId: P2, clusters: [C2] },
        ],
      }),
      SOURCE,
    );
    expect(config.projects.map((p) => p.endpoint)).toEqual(['https://proxy.example.com', ENDPOINT]);
  });

  it('a project may have its own endpoint when there is no top-level one', () => {
    const config = parseConfig(
      { projects: [{ projectId: P1, clusters: [C1], endpoint: 'http://127.0.0.1:8080' }] },
      SOURCE,
    );
    expect(config.projects[0]?.endpoint).toBe('http://127.0.0.1:8080');
  });

  it('trailing slashes and surrounding spaces are trimmed; a path prefix is kept', () => {
    const config = parseConfig(
      minimal({
        endpoint: `  ${ENDPOINT}///  `,
        projects: [
          { projectId: P1, clusters: [C1] },
          { projectId: P2, clusters: [C2], endpoint: 'https://proxy.example.com/dws/' },
        ],
      }),
      SOURCE,
    );
    expect(config.projects.map((p) => p.endpoint)).toEqual([ENDPOINT, 'https://proxy.example.com/dws']);
  });

  it('a project without an endpoint (none at the top level either) is refused at projects[i].endpoint', () => {
    const error = configError({
      projects: [
        { projectId: P1, clusters: [C1], endpoint: ENDPOINT },
        { projectId: P2, clusters: [C2] },
      ],
    });
    expect(error.message).toContain(SOURCE);
    expect(error.message).toContain('projects[1].endpoint');
    expect(error.message).not.toContain('projects[0]');
  });

  it.each([
    ['not a URL', 'dws.cn-north-4.myhuaweicloud.com'],
    ['another scheme', 'ftp://dws.example.com'],
    ['a query string', 'https://dws.example.com?region=x'],
  ])('%s is refused with the key path', (_label, endpoint) => {
    const error = configError(minimal({ endpoint }));
    expect(error.message).toMatch(/^exporter\.json: endpoint: must be an http\(s\) URL/);
  });

  it('a per-project endpoint error names the project', () => {
    const error = configError(minimal({ projects: [{ projectId: P1, clusters: [C1], endpoint: 'nope' }] }));
    expect(error.message).toContain('projects[0].endpoint:');
  });

  it('an endpoint with an empty query "?" or a fragment "#…" is refused (the API path would land in it)', () => {
    for (const endpoint of ['https://dws.example.com?', 'https://dws.example.com#', 'https://dws.example.com#dws']) {
      expect(() => parseConfig(minimal({ endpoint }), SOURCE), endpoint).toThrow(/exporter\.json: endpoint: /);
    }
  });
});

describe('errors name the source and the key path', () => {
  it('is a ConfigError with code CONFIG_INVALID and the source kept apart', () => {
    const error = configError(minimal({ concurrency: 0 }), 'some/dir/cfg.json');
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.source).toBe('some/dir/cfg.json');
    expect(error.message.startsWith('some/dir/cfg.json: ')).toBe(true);
  });

  it('an unknown top-level key (typo "concurrancy") is refused, naming the key', () => {
    const error = configError(minimal({ concurrancy: 4 }));
    expect(error.message).toContain(SOURCE);
    expect(error.message).toContain('concurrancy');
  });

  it('an unknown nested key is refused with its parent path', () => {
    expect(configError(minimal({ http: { timeoutMS: 1000 } })).message).toMatch(/http: .*timeoutMS/);
    expect(configError(minimal({ filters: { tipe: 'Create' } })).message).toMatch(/filters: .*tipe/);
    expect(
      configError(minimal({ projects: [{ projectId: P1, clusters: [C1], endPoint: ENDPOINT }] })).message,
    ).toMatch(/projects\[0\]: .*endPoint/);
  });

  it('a duplicate cluster id names both places: projects[1].clusters[1] and the first one', () => {
    const error = configError(
      minimal({
        projects: [
          { projectId: P1, clusters: [C1, C2] },
          { projectId: P2, clusters: [C3, C1] },
        ],
      }),
    );
    expect(error.message).toContain('projects[1].clusters[1]');
    expect(error.message).toContain(`${C1} is listed twice`);
    expect(error.message).toContain('projects[0].clusters[0]');
  });

  it('a duplicate cluster id within one project is refused too', () => {
    const error = configError(minimal({ projects: [{ projectId: P1, clusters: [C1, C1] }] }));
    expect(error.message).toContain('projects[0].clusters[1]');
  });

  it('a cluster id that could change the URL path is refused at its index', () => {
    for (const bad of ['../c', 'c/1', 'c 1', 'c?x', '']) {
      const error = configError(minimal({ projects: [{ projectId: P1, clusters: [C1, bad] }] }));
      expect(error.message, bad).toContain('projects[0].clusters');
    }
  });

  it('an invalid projectId is refused at projects[i].projectId', () => {
    const error = configError(minimal({ projects: [{ projectId: 'a/b', clusters: [C1] }] }));
    expect(error.message).toContain('projects[0].projectId');
  });

  it('an invalid time zone is refused at sourceTimeZone', () => {
    const error = configError(minimal({ sourceTimeZone: 'Mars/Olympus_Mons' }));
    expect(error.message).toContain('sourceTimeZone');
    expect(error.message).toContain('IANA');
  });

  it('out-of-range and wrongly typed numbers name their key', () => {
    expect(configError(minimal({ pageSize: 0 })).message).toContain('pageSize');
    expect(configError(minimal({ concurrency: 1.5 })).message).toContain('concurrency');
    expect(configError(minimal({ http: { maxRetries: '3' } })).message).toContain('http.maxRetries');
  });

  it('no projects, and a non-object, are refused', () => {
    expect(configError(minimal({ projects: [] })).message).toContain('projects');
    expect(configError([]).message).toContain('(top level)');
    expect(configError(null).message).toContain(SOURCE);
  });

  it('several problems are all reported, separated by "; "', () => {
    const error = configError(minimal({ pageSize: 0, sourceTimeZone: 'Mars/Olympus_Mons' }));
    expect(error.message).toContain('pageSize');
    expect(error.message).toContain('sourceTimeZone');
    expect(error.message).toContain('; ');
  });

  it('one message for several keys names them together', () => {
    const error = configError(minimal({ pageSize: 0, concurrency: 0 }));
    expect(error.message).toMatch(/concurrency, pageSize: |pageSize, concurrency: /);
  });
});

describe('loadConfigFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dws-exporter-config-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a valid file', async () => {
    const path = join(dir, 'valid.json');
    await writeFile(path, JSON.stringify(minimal({ pageSize: 50 })));
    const config = await loadConfigFile(path);
    expect(config.pageSize).toBe(50);
    expect(config.projects[0]?.endpoint).toBe(ENDPOINT);
  });

  it('names the file in schema errors', async () => {
    const path = join(dir, 'typo.json');
    await writeFile(path, JSON.stringify(minimal({ concurrancy: 4 })));
    await expect(loadConfigFile(path)).rejects.toThrow(`${path}: `);
    await expect(loadConfigFile(path)).rejects.toThrow('concurrancy');
  });

  it('refuses invalid JSON, naming the file', async () => {
    const path = join(dir, 'broken.json');
    await writeFile(path, '{"projects": [');
    const error = await loadConfigFile(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).source).toBe(path);
    expect((error as ConfigError).message).toContain('not valid JSON');
  });

  it('refuses a missing file with "file not found", naming the file', async () => {
    const path = join(dir, 'does-not-exist.json');
    const error = await loadConfigFile(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toBe(`${path}: cannot read the config file (file not found)`);
  });

  it('refuses a directory given as the file, naming it', async () => {
    const error = await loadConfigFile(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).source).toBe(dir);
    expect((error as ConfigError).message).toContain('cannot read the config file');
  });
});
