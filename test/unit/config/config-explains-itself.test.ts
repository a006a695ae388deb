/**
 * A config file that explains itself: ids are refused unless the API could
 * accept them, a misspelt key gets a suggestion, a syntax error names its
 * line and column, and the JSON Schema shipped for editors is the zod schema.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configJsonSchema, CONFIG_SCHEMA_FILE } from '../../../src/config/json-schema.js';
import { loadConfigFile, parseConfig } from '../../../src/config/load-config.js';
import { ConfigError } from '../../../src/core/errors.js';

const PROJECT = '0123456789abcdef0123456789abcdef';
const CLUSTER = '9b7ff56b-47b3-4d00-a1fd-4c023d34404b';

function config(overrides: Record<string, unknown> = {}, clusters: unknown = [CLUSTER]): Record<string, unknown> {
  return { region: 'cn-north-4', projects: [{ projectId: PROJECT, clusters }], ...overrides };
}

function messageOf(json: unknown): string {
  try {
    parseConfig(json, 'exporter.json');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  throw new Error('expected a ConfigError');
}

describe('cluster and project ids are what the API accepts', () => {
  it.each([
    ['a name instead of an id', 'my-cluster-01'],
    ['a truncated UUID', '9b7ff56b-47b3-4d00-a1fd-4c023d34404'],
    ['a UUID with a stray character', '9b7ff56b-47b3-4d00-a1fd-4c023d34404bx'],
    ['a UUID without dashes', '9b7ff56b47b34d00a1fd4c023d34404b'],
  ])('refuses %s at projects[i].clusters[j], pointing to names in "include"', (_label, id) => {
    const message = messageOf(config({}, [CLUSTER.replace('9b', '0b'), id]));
    expect(message).toMatch(/^exporter\.json: projects\[0\]\.clusters\[1\]: .*UUID/);
    expect(message).toContain('"include"');
  });

  it('names a message once for many paths: 200 bad ids make one readable line', () => {
    const message = messageOf(config({}, Array.from({ length: 200 }, (_, i) => `cluster-${i}`)));
    expect(message).toMatch(/^exporter\.json: projects\[0\]\.clusters\[0\], projects\[0\]\.clusters\[1\], projects\[0\]\.clusters\[2\] and 197 more: not a DWS cluster id/);
    expect(message.match(/not a DWS cluster id/g)).toHaveLength(1);
  });

  it('accepts UUIDs in either case', () => {
    expect(parseConfig(config({}, [CLUSTER.toUpperCase()]), 'x').projects[0]?.clusters).toEqual({
      mode: 'ids',
      ids: [CLUSTER.toUpperCase()],
    });
  });

  it('refuses a project id that is not 32 hexadecimal characters, at projects[i].projectId', () => {
    for (const projectId of ['my-project', PROJECT.slice(1), `${PROJECT}0`]) {
      expect(messageOf({ region: 'cn-north-4', projects: [{ projectId, clusters: 'all' }] })).toMatch(
        /projects\[0\]\.projectId: .*32 hexadecimal/,
      );
    }
  });
});

describe('a misspelt key gets a suggestion', () => {
  it.each([
    [{ concurrancy: 4 }, /^exporter\.json: \(top level\): unknown key "concurrancy" \(did you mean "concurrency"\?\)/],
    [{ http: { timeoutMS: 1 } }, /http: unknown key "timeoutMS" \(did you mean "timeoutMs"\?\)/],
    [{ filters: { tipe: 'x' } }, /filters: unknown key "tipe" \(did you mean "type"\?\)/],
    [{ pagesize: 10 }, /unknown key "pagesize" \(did you mean "pageSize"\?\)/],
  ])('%j', (overrides, expected) => {
    expect(messageOf(config(overrides))).toMatch(expected);
  });

  it('inside a project, too', () => {
    const message = messageOf({ region: 'cn-north-4', projects: [{ projectId: PROJECT, clusters: 'all', endPoint: 'x' }] });
    expect(message).toMatch(/projects\[0\]: unknown key "endPoint" \(did you mean "endpoint"\?\)/);
  });

  it('and no suggestion when nothing is close', () => {
    expect(messageOf(config({ zzzzzz: 1 }))).toMatch(/unknown key "zzzzzz"(?! \(did you mean)/);
  });
});

describe('the config file', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dws-exporter-config-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('names the line and column of a JSON syntax error, not a character position', async () => {
    const path = join(dir, 'broken.json');
    await writeFile(path, '{\n  "region": "cn-north-4",\n  "projects": [\n    { "projectId": "x" "clusters": "all" }\n  ]\n}\n');
    const error = await loadConfigFile(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(new RegExp(`^${path}: not valid JSON at line 4, column 24: `));
    expect((error as ConfigError).message).not.toMatch(/position/);
  });

  it('may start with a byte order mark, as Windows editors write it', async () => {
    const path = join(dir, 'bom.json');
    await writeFile(path, `\uFEFF${JSON.stringify({ region: 'cn-north-4', projects: [{ projectId: PROJECT, clusters: 'all' }] })}`);
    expect((await loadConfigFile(path)).projects).toHaveLength(1);
  });

  it('may carry "$schema" and // comments, so editors can complete and check it', async () => {
    const path = join(dir, 'commented.json');
    await writeFile(
      path,
      `{\n  // where the clusters are\n  "$schema": "./${CONFIG_SCHEMA_FILE}",\n  "region": "cn-north-4", /* all of them */\n` +
        `  "projects": [{ "projectId": "${PROJECT}", "clusters": "all" }]\n}\n`,
    );
    const loaded = await loadConfigFile(path);
    expect(loaded.projects[0]?.endpoint).toBe('https://dws.cn-north-4.myhuaweicloud.com');
  });
});

describe('the JSON Schema for editors', () => {
  it('is generated from the zod schema, and the shipped file is exactly that', () => {
    const shipped: unknown = JSON.parse(readFileSync(new URL(`../../../${CONFIG_SCHEMA_FILE}`, import.meta.url), 'utf8'));
    expect(shipped).toEqual(configJsonSchema());
  });

  it('describes every key and refuses unknown ones', () => {
    const schema = configJsonSchema() as { properties: Record<string, { description?: string }>; additionalProperties: boolean };
    expect(schema.additionalProperties).toBe(false);
    for (const [key, property] of Object.entries(schema.properties)) {
      expect(property.description, key).toMatch(/\S/);
    }
  });
});
