/**
 * Deterministic generation of a DWS fleet: projects, clusters and their
 * logical-cluster task history. Everything derives from one seeded PRNG so a
 * demo, a test and a benchmark run see byte-identical data for the same spec.
 * Generation avoids Date objects and string templates per task so that a
 * million tasks take well under a few seconds.
 */
import type { SimCluster, SimTask } from './fleet-model.js';
import { mulberry32 } from './random.js';

export interface FleetSpec {
  readonly seed: number;
  readonly projects: number;
  readonly clustersPerProject: number;
  /** Tasks per cluster, drawn uniformly from [minTasks, maxTasks]. */
  readonly minTasks: number;
  readonly maxTasks: number;
  /** Share of tasks still running (end_time "" and result ""). Default 0.03. */
  readonly runningRatio?: number;
  /** Share of tasks with result "failed". Default 0.1. */
  readonly failedRatio?: number;
  /** `YYYY-MM-DD`, default 2024-01-01; tasks spread over the following ~2 years. */
  readonly startDate?: string;
  /**
   * Share of tasks that repeat the previous task's type, logical cluster and
   * start time (a command retried at once: own end, result and log; one in
   * four a double submit, identical in every field). Default 0.
   */
  readonly repeatedKeyRatio?: number;
  /** Leave out tasks that would start after this instant (epoch ms): they have not happened yet. */
  readonly notAfterMs?: number;
}

const TYPES = [
  'Switch', 'Create', 'Expand', 'Restart', 'Delete', 'Shrink',
  'Grow', 'Start', 'Stop', 'ShrinkElasticGroup', 'elasticExpand',
] as const;
/** Indexes into TYPES; resizing and restarts dominate real histories. */
const TYPE_WEIGHTS = [0, 1, 2, 2, 2, 3, 3, 3, 4, 5, 5, 6, 6, 6, 7, 8, 9, 10, 10, 10] as const;
/** Chinese verb per type: the console writes some logs in the user's locale. */
const TYPE_ZH = [
  '切换', '创建', '扩容', '重启', '删除', '缩容', '扩容', '启动', '停止', '缩容', '扩容',
] as const;
const LOGICAL_NAMES = [
  'elastic_group', 'lc_reporting', 'v3_logical', 'lc_etl', 'lc_adhoc',
  'test_logical', 'lc_batch', 'lc_finance', 'logical_cluster_01',
] as const;
const PURPOSES = [
  'sales', 'finance', 'reporting', 'logistics', 'marketing', 'risk', 'billing', 'iot',
] as const;

const RESULT_SUCCESS = 0;
const RESULT_FAILED = 1;
const RESULT_RUNNING = 2;
const RESULT_TEXT = ['success', 'failed', ''] as const;
/**
 * Log texts per result. `\\n` is the escaped newline the real API returns; one
 * template has a real newline too, and some are Chinese, so consumers meet both.
 */
const TEMPLATES: readonly (readonly string[])[] = [
  [
    '{type} from outside success',
    '{zh}成功',
    'Step 1/3: check cluster status ok\\nStep 2/3: {type} logical cluster "{lc}" ok' +
      '\\nStep 3/3: refresh metadata ok',
    '{type} logical cluster {lc} success',
  ],
  [
    'list index out of range\\nChecking whether the reentry command is consistent with the ' +
      'previous command.',
    '{zh}失败：节点 dn_6001 状态异常',
    'Execute "gs_om -t status --detail" failed: exit code 1\\nPlease check the cluster status.',
    '[GAUSS-50201] : The path "/var/chroot/DWS/data1" does not exist.',
    'Timeout waiting for resource pool "{lc}_pool"\nretry 3/3',
  ],
  ['', '{type} is in progress', '{zh}中，请稍候'],
];
const MAX_TEMPLATES = 5;

const SECONDS_PER_DAY = 86_400;
const SPAN_SECONDS = 2 * 365 * SECONDS_PER_DAY;
const PAD2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));

class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  /** [0, 1). */
  float(): number {
    return this.next() / 4_294_967_296;
  }
  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.float() * (max - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.float() * items.length)] as T;
  }
  hex(chars: number): string {
    let out = '';
    while (out.length < chars) out += this.next().toString(16).padStart(8, '0');
    return out.slice(0, chars);
  }
}

function uuidV4(rng: Rng): string {
  const h = rng.hex(32);
  const variant = '89ab'[Number.parseInt(h[16] ?? '0', 16) & 3];
  return (
    `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-` +
    `${variant}${h.slice(17, 20)}-${h.slice(20)}`
  );
}

/** Days since 1970-01-01 → `YYYY-MM-DD `; called once per day of history, not per task. */
function dayPrefix(days: number): string {
  return `${new Date(days * SECONDS_PER_DAY * 1000).toISOString().slice(0, 10)} `;
}

/** Shared `HH:mm:ss` strings: each timestamp is then one small cons string, not five. */
const TIMES_OF_DAY: (string | undefined)[] = [];

function timeOfDay(s: number): string {
  return (TIMES_OF_DAY[s] ??=
    `${PAD2[Math.floor(s / 3600)]}:${PAD2[Math.floor(s / 60) % 60]}:${PAD2[s % 60]}`);
}

/** Epoch seconds → `YYYY-MM-DD HH:mm:ss`, caching the date part across calls. */
class TimestampFormatter {
  private day = Number.NaN;
  private prefix = '';
  format(epochSeconds: number): string {
    const day = Math.floor(epochSeconds / SECONDS_PER_DAY);
    if (day !== this.day) {
      this.day = day;
      this.prefix = dayPrefix(day);
    }
    return this.prefix + timeOfDay(epochSeconds - day * SECONDS_PER_DAY);
  }
}

/** Log texts are shared strings, rendered once per (type, result, name, template). */
class LogPool {
  private readonly cache: (string | undefined)[] = [];
  get(type: number, result: number, lc: number, template: number): string {
    const key = ((type * 3 + result) * LOGICAL_NAMES.length + lc) * MAX_TEMPLATES + template;
    let text = this.cache[key];
    if (text === undefined) {
      text = (TEMPLATES[result]?.[template] ?? '')
        .replaceAll('{type}', TYPES[type] ?? '')
        .replaceAll('{zh}', TYPE_ZH[type] ?? '')
        .replaceAll('{lc}', LOGICAL_NAMES[lc] ?? '');
      this.cache[key] = text;
    }
    return text;
  }
}

function isoSeconds(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function parseStartDate(value: string): number {
  const ms = Date.parse(`${value}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(ms)) {
    throw new RangeError(`FleetSpec.startDate must be YYYY-MM-DD, got "${value}"`);
  }
  return ms;
}

interface TaskMix {
  readonly startSec: number;
  readonly notAfterSec: number;
  readonly running: number;
  readonly failed: number;
  readonly repeatedKey: number;
  readonly logs: LogPool;
}

/** `count` distinct indexes into `size` items (partial Fisher-Yates). */
function sample(rng: Rng, size: number, count: number): number[] {
  const all = Array.from({ length: size }, (_, i) => i);
  for (let i = 0; i < count; i++) {
    const j = rng.int(i, size - 1);
    const picked = all[j] as number;
    all[j] = all[i] as number;
    all[i] = picked;
  }
  return all.slice(0, count);
}

function generateTasks(rng: Rng, count: number, mix: TaskMix): SimTask[] {
  const { running, failed, logs } = mix;
  const lcs = sample(rng, LOGICAL_NAMES.length, rng.int(2, 4));
  const timestamps = new TimestampFormatter();
  // Gaps average span/count so the history covers ~2 years; a gap >= 1 s keeps
  // start times strictly increasing, hence (name, type, start_time) unique
  // except where repeatedKeyRatio asks for repeats.
  const maxGap = Math.max(1, Math.floor((2 * SPAN_SECONDS) / Math.max(count, 1)) - 1);
  let at = mix.startSec + rng.int(0, maxGap);
  const tasks: SimTask[] = new Array<SimTask>(count);
  let happened = count;
  for (let i = 0; i < count; i++) {
    const previous = tasks[i - 1];
    // Rolled only when asked for, so fleets without repeats stay byte-identical.
    // A repeat starts when its previous task did (cut with it, if that has not happened).
    if (previous && mix.repeatedKey > 0 && rng.float() < mix.repeatedKey) {
      tasks[i] = rng.float() < 0.25 ? { ...previous } : repeatOf(previous, rng, mix, timestamps, at);
      continue;
    }
    // Start times only grow: from the first future one on, none has happened (the rng still advances, for determinism).
    if (at > mix.notAfterSec && happened === count) happened = i;
    const type = rng.pick(TYPE_WEIGHTS);
    const lc = rng.pick(lcs);
    const r = rng.float();
    const result =
      r < running ? RESULT_RUNNING : r < running + failed ? RESULT_FAILED : RESULT_SUCCESS;
    const log = logs.get(type, result, lc, rng.int(0, (TEMPLATES[result]?.length ?? 1) - 1));
    const duration = rng.int(5, 7200);
    tasks[i] = {
      type: TYPES[type],
      logical_cluster_name: LOGICAL_NAMES[lc] ?? null,
      start_time: timestamps.format(at),
      end_time: result === RESULT_RUNNING ? '' : timestamps.format(at + duration),
      result: RESULT_TEXT[result],
      log,
    };
    at += rng.int(1, maxGap);
  }
  tasks.length = happened;
  return tasks;
}

/** Another task with `previous`'s key (started at `at`, as it did), with its own outcome. */
function repeatOf(previous: SimTask, rng: Rng, mix: TaskMix, timestamps: TimestampFormatter, at: number): SimTask {
  const failed = rng.float() < 0.5;
  return {
    ...previous,
    end_time: timestamps.format(at + rng.int(1, 600)),
    result: failed ? 'failed' : 'success',
    log: mix.logs.get(0, failed ? RESULT_FAILED : RESULT_SUCCESS, 0, rng.int(0, 2)) + ` (attempt ${rng.int(2, 9)})`,
  };
}

/** The clusters, in generation order; the order is part of the determinism. */
export function generateClusters(spec: FleetSpec): SimCluster[] {
  if (spec.minTasks < 0 || spec.maxTasks < spec.minTasks) {
    throw new RangeError('FleetSpec needs 0 <= minTasks <= maxTasks');
  }
  const rng = new Rng(spec.seed);
  const startMs = parseStartDate(spec.startDate ?? '2024-01-01');
  const mix: TaskMix = {
    startSec: startMs / 1000,
    notAfterSec: spec.notAfterMs === undefined ? Infinity : spec.notAfterMs / 1000,
    running: spec.runningRatio ?? 0.03,
    failed: spec.failedRatio ?? 0.1,
    repeatedKey: spec.repeatedKeyRatio ?? 0,
    logs: new LogPool(),
  };
  const dayMs = SECONDS_PER_DAY * 1000;
  const clusters: SimCluster[] = [];
  for (let p = 0; p < spec.projects; p++) {
    const projectId = rng.hex(32);
    for (let c = 0; c < spec.clustersPerProject; c++) {
      const createdMs = startMs - rng.int(1, 400) * dayMs - rng.int(0, dayMs - 1);
      clusters.push({
        projectId,
        id: uuidV4(rng),
        name: `dws-${rng.pick(PURPOSES)}-${PAD2[c + 1] ?? String(c + 1)}`,
        status: rng.float() < 0.125 ? 'AVAILABLE' : 'ACTIVE',
        created: isoSeconds(createdMs),
        updated: isoSeconds(createdMs + rng.int(0, 30) * dayMs),
        tasks: generateTasks(rng, rng.int(spec.minTasks, spec.maxTasks), mix),
      });
    }
  }
  return clusters;
}
