/** Sharding: a stable, documented hash splits a fleet over Indexed Job pods without overlap or gaps. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/core/errors.js';
import {
  MAX_SHARDS,
  SINGLE_SHARD,
  resolveRunGroupId,
  resolveShard,
  selectShard,
  shardOf,
} from '../../../src/plan/shard.js';

/** Deterministic UUID-shaped ids (no randomness in tests). */
function clusterIds(n: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    const h = createHash('md5').update(`cluster-${i}`).digest('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
  });
}

describe('shardOf', () => {
  it('is the first 48 bits of SHA-256 of the cluster id modulo N, as documented (values computed independently)', () => {
    // python3: int.from_bytes(hashlib.sha256(id.encode()).digest()[:6], 'big')
    const a = '9b7ff56b-47b3-4d00-a1fd-4c023d34404b'; // 127865709242380
    const b = '5f0c3c3e-8d4b-4f0e-9a57-2b8f6f0e1a11'; // 137867202642316
    expect([2, 3, 4, 7].map((n) => shardOf(a, n))).toEqual([0, 1, 0, 4]);
    expect([2, 3, 4, 7].map((n) => shardOf(b, n))).toEqual([0, 1, 0, 0]);
  });

  it('puts every cluster on shard 0 when there is one shard', () => {
    expect(clusterIds(50).every((id) => shardOf(id, 1) === 0)).toBe(true);
  });

  it('refuses a shard count that is not a positive integer', () => {
    expect(() => shardOf('x', 0)).toThrow(RangeError);
    expect(() => shardOf('x', 1.5)).toThrow(RangeError);
  });
});

describe('selectShard', () => {
  const ids = clusterIds(600);
  const clusters = ids.map((clusterId, i) => ({ projectId: `p${i % 3}`, clusterId }));

  for (const count of [1, 2, 3, 5, 8]) {
    it(`splits a fleet over ${count} shard(s) with every cluster in exactly one`, () => {
      const shards = Array.from({ length: count }, (_, index) => selectShard(clusters, { index, count }));
      const seen = shards.flat().map((c) => c.clusterId);
      expect(seen).toHaveLength(clusters.length);
      expect(new Set(seen)).toEqual(new Set(ids));
    });
  }

  it('spreads 600 clusters over 4 shards within 20% of an even split', () => {
    const sizes = [0, 1, 2, 3].map((index) => selectShard(clusters, { index, count: 4 }).length);
    for (const size of sizes) {
      expect(size).toBeGreaterThan(120);
      expect(size).toBeLessThan(180);
    }
  });

  it('keeps the planned order within a shard', () => {
    const mine = selectShard(clusters, { index: 1, count: 3 });
    const positions = mine.map((c) => ids.indexOf(c.clusterId));
    expect(positions).toEqual([...positions].sort((x, y) => x - y));
  });

  it('does not depend on the order or the other members of the plan', () => {
    const reversed = [...clusters].reverse();
    const a = new Set(selectShard(clusters, { index: 2, count: 5 }).map((c) => c.clusterId));
    const b = new Set(selectShard(reversed.slice(0, 300), { index: 2, count: 5 }).map((c) => c.clusterId));
    expect([...b].every((id) => a.has(id))).toBe(true);
  });

  it('returns the whole plan for a single shard', () => {
    expect(selectShard(clusters, SINGLE_SHARD)).toEqual(clusters);
  });
});

describe('resolveShard', () => {
  it('defaults to one shard when neither flags nor JOB_COMPLETION_INDEX are set', () => {
    expect(resolveShard({ index: undefined, count: undefined }, {})).toEqual({ index: 0, count: 1 });
  });

  it('takes the index from JOB_COMPLETION_INDEX, as Kubernetes sets it in an Indexed Job', () => {
    expect(resolveShard({ index: undefined, count: '4' }, { JOB_COMPLETION_INDEX: '3' })).toEqual({ index: 3, count: 4 });
  });

  it('prefers --shard-index over JOB_COMPLETION_INDEX', () => {
    expect(resolveShard({ index: '1', count: '4' }, { JOB_COMPLETION_INDEX: '3' })).toEqual({ index: 1, count: 4 });
  });

  it('names --shard-count when the index is not below it', () => {
    expect(() => resolveShard({ index: '4', count: '4' }, {})).toThrow(/--shard-index 4 needs --shard-count above 4/);
    expect(() => resolveShard({ index: undefined, count: undefined }, { JOB_COMPLETION_INDEX: '2' })).toThrow(
      /JOB_COMPLETION_INDEX=2 needs --shard-count above 2 \(it is 1, the default\)/,
    );
  });

  it('names the flag or variable whose value is not a whole number in range', () => {
    expect(() => resolveShard({ index: undefined, count: '0' }, {})).toThrow(/--shard-count must be a whole number from 1/);
    expect(() => resolveShard({ index: undefined, count: String(MAX_SHARDS + 1) }, {})).toThrow(/--shard-count/);
    expect(() => resolveShard({ index: '-1', count: '2' }, {})).toThrow(/--shard-index must be a whole number/);
    expect(() => resolveShard({ index: undefined, count: '2' }, { JOB_COMPLETION_INDEX: 'one' })).toThrow(/JOB_COMPLETION_INDEX must be/);
    expect(() => resolveShard({ index: '1.5', count: '2' }, {})).toThrow(UsageError);
  });
});

describe('resolveRunGroupId', () => {
  const never = (): string => {
    throw new Error('should not generate');
  };

  it('prefers --run-group, then DWS_EXPORTER_RUN_GROUP, then a generated id', () => {
    expect(resolveRunGroupId('flag-group', { DWS_EXPORTER_RUN_GROUP: 'env-group' }, never)).toBe('flag-group');
    expect(resolveRunGroupId(undefined, { DWS_EXPORTER_RUN_GROUP: 'dws-task-exporter-29384756' }, never)).toBe('dws-task-exporter-29384756');
    expect(resolveRunGroupId(undefined, { DWS_EXPORTER_RUN_GROUP: ' ' }, () => 'generated')).toBe('generated');
  });

  it('refuses an id with spaces or control characters, naming where it came from', () => {
    expect(() => resolveRunGroupId('two words', {}, never)).toThrow(/--run-group must be/);
    expect(() => resolveRunGroupId(undefined, { DWS_EXPORTER_RUN_GROUP: 'a\nb' }, never)).toThrow(/DWS_EXPORTER_RUN_GROUP must be/);
    expect(() => resolveRunGroupId('x'.repeat(201), {}, never)).toThrow(UsageError);
  });
});
