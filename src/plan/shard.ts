/**
 * Sharding a fleet over the pods of an Indexed Job: shard = first 48 bits of
 * SHA-256(UTF-8 cluster id), unsigned, mod N. The same on every machine and
 * Node version, and in SQL (`SHARD_SQL`), so an operator can check which pod
 * owns a cluster.
 */
import { createHash } from 'node:crypto';
import { UsageError } from '../core/errors.js';

export interface ShardSpec {
  /** 0-based; below `count`. */
  readonly index: number;
  /** Shards in the run group; 1 = no sharding. */
  readonly count: number;
}

export const SINGLE_SHARD: ShardSpec = { index: 0, count: 1 };

/** Upper bound for --shard-count: far above any fleet's need, low enough to catch typos. */
export const MAX_SHARDS = 1000;

/** The same assignment in PostgreSQL, for `$1` = shard count (documented in the README). */
export const SHARD_SQL =
  "(('x' || left(encode(sha256(convert_to(cluster_id, 'UTF8')), 'hex'), 12))::bit(48)::bigint % $1)";

/** The shard (0..count-1) that owns a cluster. */
export function shardOf(clusterId: string, count: number): number {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`shard count must be a positive integer, not ${count}`);
  const digest = createHash('sha256').update(clusterId, 'utf8').digest();
  // 48 bits fit a double exactly; the modulo bias for N <= 1000 is below 1e-11.
  return digest.readUIntBE(0, 6) % count;
}

/** The clusters this shard exports, in their planned order. */
export function selectShard<T extends { readonly clusterId: string }>(clusters: readonly T[], shard: ShardSpec): T[] {
  if (shard.count === 1) return [...clusters];
  return clusters.filter((cluster) => shardOf(cluster.clusterId, shard.count) === shard.index);
}

export interface ShardInputs {
  /** --shard-index as typed, if given. */
  readonly index: string | undefined;
  /** --shard-count as typed, if given. */
  readonly count: string | undefined;
}

/**
 * The shard of this process: --shard-index, else JOB_COMPLETION_INDEX (set by
 * Kubernetes in each pod of an Indexed Job), else 0; --shard-count, else 1.
 * Every error names the flag or variable at fault.
 */
export function resolveShard(flags: ShardInputs, env: Readonly<Record<string, string | undefined>>): ShardSpec {
  const count = flags.count === undefined ? 1 : wholeNumber(flags.count, '--shard-count', 1, MAX_SHARDS);
  const fromEnv = env.JOB_COMPLETION_INDEX;
  const index =
    flags.index !== undefined
      ? wholeNumber(flags.index, '--shard-index', 0, MAX_SHARDS - 1)
      : fromEnv !== undefined && fromEnv.trim() !== ''
        ? wholeNumber(fromEnv, 'JOB_COMPLETION_INDEX', 0, MAX_SHARDS - 1)
        : 0;
  if (index >= count) {
    const source = flags.index !== undefined ? `--shard-index ${index}` : `JOB_COMPLETION_INDEX=${index}`;
    throw new UsageError(
      `${source} needs --shard-count above ${index} (it is ${count}${flags.count === undefined ? ', the default' : ''}); ` +
        'set --shard-count to the number of shards (an Indexed Job\'s "completions")',
    );
  }
  return { index, count };
}

function wholeNumber(raw: string, name: string, min: number, max: number): number {
  const text = raw.trim();
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    throw new UsageError(`${name} must be a whole number from ${min} to ${max}, not ${JSON.stringify(raw)}`);
  }
  return value;
}

/** A run group id as given (--run-group or DWS_EXPORTER_RUN_GROUP): printable, at most 200 characters. */
export function validateRunGroupId(raw: string, source: string): string {
  const value = raw.trim();
  if (value === '' || value.length > 200 || !/^[\x21-\x7e]+$/.test(value)) {
    throw new UsageError(`${source} must be 1 to 200 printable ASCII characters without spaces, not ${JSON.stringify(raw)}`);
  }
  return value;
}

/**
 * The run group: --run-group, else DWS_EXPORTER_RUN_GROUP (the shipped
 * Kubernetes manifests set it to the Job's name, shared by its pods), else a
 * fresh id from `generate` (a run of its own).
 */
export function resolveRunGroupId(
  flag: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  generate: () => string,
): string {
  if (flag !== undefined) return validateRunGroupId(flag, '--run-group');
  const fromEnv = env.DWS_EXPORTER_RUN_GROUP;
  if (fromEnv !== undefined && fromEnv.trim() !== '') return validateRunGroupId(fromEnv, 'DWS_EXPORTER_RUN_GROUP');
  return generate();
}
