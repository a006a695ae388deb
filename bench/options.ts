/**
 * The benchmark's options: one table (flag, help, default, environment variable, parser) from which
 * `--help` is generated and the readonly `Options` value is parsed once, then passed in a Context.
 */
import { parseArgs } from 'node:util';
import { wrap } from './format.js';

/** What defaults may depend on: `--quick` and the size factor. */
interface Sizing {
  readonly quick: boolean;
  readonly scale: number;
  /** Scenario names `--only` accepts (the registry's). */
  readonly scenarios: readonly string[];
}

type Group = 'Sizes' | 'Run shape' | 'Environment';

interface OptionSpec<T> {
  /** As the usage shows it: `--flag`, `--flag ARG` or `--flag="ARG"`; a switch has no ARG. */
  readonly usage: string;
  readonly flag: string;
  readonly takesValue: boolean;
  readonly group: Group;
  readonly help: string;
  readonly env: string | undefined;
  /** The default as the usage shows it. */
  readonly shown: string;
  /** Throws OptionError with a message the parser prefixes with the flag. */
  readonly value: (raw: string | undefined, sizing: Sizing) => T;
}

type Kind<T> = Pick<OptionSpec<T>, 'shown' | 'value'>;

export class OptionError extends Error {}

function spec<T>(usage: string, group: Group, help: string, kind: Kind<T>, env?: string): OptionSpec<T> {
  const flag = /^--([a-z-]+)/.exec(usage)?.[1] ?? usage;
  return { usage, flag, takesValue: usage.length > flag.length + 2, group, help, env, ...kind };
}

function number(raw: string, min: number): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) throw new OptionError(`must be a number >= ${min}, not ${JSON.stringify(raw)}`);
  return value;
}

/** A number; `quick` replaces the default under --quick, `times` converts the unit (seconds to ms). */
function decimal(fallback: number, min: number, more: { quick?: number; times?: number } = {}): Kind<number> {
  const { quick, times = 1 } = more;
  return {
    shown: quick === undefined ? String(fallback) : `${fallback}; ${quick} with --quick`,
    value: (raw, s) => (raw === undefined ? (s.quick && quick !== undefined ? quick : fallback) : number(raw, min)) * times,
  };
}

/** A whole number (at least `min`, 1 by default); `scaled` defaults are multiplied by --scale (at least 1). */
function whole(fallback: number, more: { min?: number; scaled?: boolean; quick?: number; times?: number } = {}): Kind<number> {
  const { min = 1, scaled = false, quick, times = 1 } = more;
  return {
    shown: `${fallback}${scaled ? ' × --scale' : ''}${quick === undefined ? '' : `; ${quick} with --quick`}`,
    value: (raw, s) => {
      if (raw !== undefined) return Math.round(number(raw, min)) * times;
      if (s.quick && quick !== undefined) return quick * times;
      return (scaled ? Math.max(1, Math.round(fallback * s.scale)) : fallback) * times;
    },
  };
}

function wholeList(fallback: string): Kind<readonly number[]> {
  return { shown: fallback, value: (raw) => (raw ?? fallback).split(',').map((s) => Math.round(number(s.trim(), 1))) };
}

function text(fallback: string): Kind<string> {
  return { shown: fallback, value: (raw) => raw ?? fallback };
}

function words(): Kind<readonly string[]> {
  return { shown: 'none', value: (raw) => (raw ?? '').split(' ').filter(Boolean) };
}

/** A switch; `inverted`: true unless given (--no-build). */
function switched(inverted = false): Kind<boolean> {
  return { shown: '', value: (raw) => (raw === undefined) === inverted };
}

function scenarioSet(): Kind<ReadonlySet<string>> {
  return {
    shown: 'all',
    value: (raw, s) => {
      if (raw === undefined) return new Set(s.scenarios);
      const names = raw.split(',').map((name) => name.trim());
      const unknown = names.filter((name) => !s.scenarios.includes(name));
      if (unknown.length > 0) throw new OptionError(`unknown scenario ${unknown.join(', ')} (known: ${s.scenarios.join(', ')})`);
      return new Set(names);
    },
  };
}

const S: Group = 'Sizes';
const R: Group = 'Run shape';
const E: Group = 'Environment';

/** In the order of the usage. */
const TABLE = {
  scale: spec('--scale X', S, 'size factor', decimal(1, 0.0001, { quick: 0.1 }), 'BENCH_SCALE'),
  quick: spec('--quick', S, 'everything at 1/10 size: --scale 0.1, --repeat 1, shorter throughput probe', switched()),
  fleetClusters: spec('--fleet-clusters N', S, 'fleet (1): clusters', whole(1000, { scaled: true })),
  fleetTasks: spec('--fleet-tasks N', S, 'fleet (1): tasks per cluster, also of the memory and sweep fleets', whole(1000)),
  skewClusters: spec('--skew-clusters N', S, 'skewed (2): small clusters', whole(50)),
  skewTasks: spec('--skew-tasks N', S, 'skewed (2): tasks per small cluster', whole(100, { min: 0 })),
  skewBigTasks: spec('--skew-big-tasks N', S, 'skewed (2): tasks of the one big cluster', whole(200_000, { scaled: true })),
  tinyClusters: spec('--tiny-clusters N', S, 'many tiny (3): clusters', whole(5000, { scaled: true })),
  tinyTasks: spec('--tiny-tasks N', S, 'many tiny (3): tasks per cluster', whole(5, { min: 0 })),
  memorySmallRows: spec('--memory-small-rows N', S, 'memory (5a): rows, as clusters of --fleet-tasks', whole(100_000, { scaled: true })),
  sweep: spec('--sweep LIST', S, 'concurrencies of the sweep (the plot), on the 5a fleet', wholeList('1,4,16,64')),
  latencyMs: spec('--latency-ms N', R, 'simulated latency', whole(20, { min: 0 })),
  concurrency: spec('--concurrency N', R, 'exporter concurrency = http.maxInFlight = pageConcurrency', whole(32)),
  pageSize: spec('--page-size N', R, 'exporter pageSize', whole(100)),
  repeat: spec('--repeat N', R, 'runs of the smaller scenarios, medians reported', whole(3, { quick: 1 }), 'BENCH_REPEAT'),
  repeatBig: spec('--repeat-big N', R, 'runs of the 1M fleet, its rerun and (6), each after a DB bound sample; medians reported', whole(3, { quick: 1 })),
  only: spec('--only LIST', R, 'comma-separated names from Scenarios below', scenarioSet()),
  profileScale: spec(
    '--profile-scale X',
    R,
    "size of the profiled fleet run (and its rerun) relative to the fleet scenario; 1 profiles on the fleet scenario's own simulator",
    decimal(0.3, 0.0001),
  ),
  probeSeconds: spec('--probe-seconds N', R, 'trivial-client throughput probe per scenario', decimal(3, 0.1, { quick: 1.5 })),
  databaseUrl: spec(
    '--database-url URL',
    E,
    'admin URL (a role that may CREATE DATABASE)',
    text('postgres://postgres@127.0.0.1:5432/postgres'),
    'BENCH_DATABASE_URL',
  ),
  build: spec('--no-build', E, 'reuse bench/.build from an earlier run', switched(true)),
  keep: spec('--keep', E, 'keep databases, logs and profiles (prints where)', switched()),
  timeoutMs: spec('--timeout-s N', E, 'per exporter run', whole(900, { times: 1000 })),
  quietWaitMs: spec(
    '--quiet-wait-s N',
    E,
    'before each timed measurement, wait up to N s for the shared machine to be idle',
    decimal(10, 0, { times: 1000 }),
  ),
  maxNoise: spec('--max-noise X', E, 'a measurement during which other processes used more than X of the machine', decimal(0.2, 0)),
  noiseRetries: spec('--noise-retries N', E, 'is repeated up to N times; the least disturbed attempt is reported', whole(2, { min: 0 })),
  logLevel: spec('--log-level L', E, 'exporter LOG_LEVEL (as in production; its stderr goes to a file)', text('info')),
  nodeFlags: spec(
    '--node-flags="F …"',
    E,
    'extra node flags for every exporter run, e.g. --node-flags=--max-old-space-size=128 (experiments)',
    words(),
  ),
} satisfies Record<string, OptionSpec<unknown>>;

export type Options = { readonly [K in keyof typeof TABLE]: ReturnType<(typeof TABLE)[K]['value']> };

/** What the command line asks for. */
export type Command =
  | { readonly kind: 'help' }
  | { readonly kind: 'replot'; readonly file: string }
  | { readonly kind: 'run'; readonly options: Options };

const SPECS: readonly OptionSpec<unknown>[] = Object.values(TABLE);

/** `scenarios`: name → one line of help, in registry order. */
export function usage(scenarios: ReadonlyMap<string, string>): string {
  const line = (left: string, help: string): string => `  ${left.padEnd(22)} ${wrap(help, 86).join(`\n${' '.repeat(25)}`)}`;
  const groups = new Map<Group, string[]>([
    ['Sizes', ['Sizes (defaults are the spec\'s; "× --scale" ones are multiplied by --scale, at least 1):']],
    ['Run shape', ['Run shape:']],
    ['Environment', ['Environment:']],
  ]);
  for (const spec of SPECS) {
    const extra = [spec.shown && `default ${spec.shown}`, spec.env && `also ${spec.env}`].filter(Boolean).join('; ');
    groups.get(spec.group)?.push(line(spec.usage, extra ? `${spec.help} (${extra})` : spec.help));
  }
  return [
    'Usage: npm run bench -- [options]',
    '',
    ...[...groups.values()].flat(),
    'Scenarios (--only; all by default):',
    ...[...scenarios].map(([name, help]) => line(name, help)),
    'Other:',
    line('--replot FILE.json', 'only redraw bench/wall-vs-concurrency.svg from a saved bench/results/last-run.json'),
    line('-h, --help', 'this text'),
  ].join('\n');
}

/** Parses argv (and the BENCH_* environment) once; throws OptionError on bad input. */
export function parseCommand(argv: readonly string[], env: NodeJS.ProcessEnv, scenarios: readonly string[]): Command {
  let values: Record<string, string | boolean | undefined>;
  try {
    const options = Object.fromEntries(SPECS.map((spec) => [spec.flag, { type: spec.takesValue ? ('string' as const) : ('boolean' as const) }]));
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      options: { ...options, help: { type: 'boolean', short: 'h' }, replot: { type: 'string' } },
    }));
  } catch (error) {
    throw new OptionError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return { kind: 'help' };
  if (typeof values.replot === 'string') return { kind: 'replot', file: values.replot };
  const raw = (spec: OptionSpec<unknown>): string | undefined => {
    const given = values[spec.flag];
    if (typeof given === 'boolean') return given ? '' : undefined;
    return given ?? (spec.env ? env[spec.env] : undefined);
  };
  const quick = parseValue(TABLE.quick, raw(TABLE.quick), { quick: false, scale: 1, scenarios });
  const scale = parseValue(TABLE.scale, raw(TABLE.scale), { quick, scale: 1, scenarios });
  const sizing: Sizing = { quick, scale, scenarios };
  const v = <T>(spec: OptionSpec<T>): T => parseValue(spec, raw(spec), sizing);
  // Spelled out (not mapped over TABLE) so the compiler checks every key without a cast.
  const options: Options = {
    scale,
    quick,
    fleetClusters: v(TABLE.fleetClusters),
    fleetTasks: v(TABLE.fleetTasks),
    skewClusters: v(TABLE.skewClusters),
    skewTasks: v(TABLE.skewTasks),
    skewBigTasks: v(TABLE.skewBigTasks),
    tinyClusters: v(TABLE.tinyClusters),
    tinyTasks: v(TABLE.tinyTasks),
    memorySmallRows: v(TABLE.memorySmallRows),
    sweep: v(TABLE.sweep),
    latencyMs: v(TABLE.latencyMs),
    concurrency: v(TABLE.concurrency),
    pageSize: v(TABLE.pageSize),
    repeat: v(TABLE.repeat),
    repeatBig: v(TABLE.repeatBig),
    only: v(TABLE.only),
    profileScale: v(TABLE.profileScale),
    probeSeconds: v(TABLE.probeSeconds),
    databaseUrl: v(TABLE.databaseUrl),
    build: v(TABLE.build),
    keep: v(TABLE.keep),
    timeoutMs: v(TABLE.timeoutMs),
    quietWaitMs: v(TABLE.quietWaitMs),
    maxNoise: v(TABLE.maxNoise),
    noiseRetries: v(TABLE.noiseRetries),
    logLevel: v(TABLE.logLevel),
    nodeFlags: v(TABLE.nodeFlags),
  };
  return { kind: 'run', options };
}

function parseValue<T>(spec: OptionSpec<T>, raw: string | undefined, sizing: Sizing): T {
  try {
    return spec.value(raw, sizing);
  } catch (error) {
    throw error instanceof OptionError ? new OptionError(`--${spec.flag} ${error.message}`) : error;
  }
}
