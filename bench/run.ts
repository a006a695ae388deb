/**
 * The benchmark (`npm run bench`; never part of `npm test`): the real
 * exporter, as its own process, against the DWS API simulator (another
 * process) and the real PostgreSQL, scenario by scenario, each compared
 * with bounds measured in the same run on the same machine:
 *  - HTTP bound: requests × simulated latency ÷ concurrency, and requests ÷
 *    the simulator's own maximum throughput (a trivial client, no latency);
 *    the larger of the two;
 *  - DB bound: COPY of exactly the same rows from a file into a staging table
 *    plus one INSERT … ON CONFLICT into the empty target (bench/db-bound.ts).
 * Prints one table and writes bench/results/last-run.{md,json},
 * bench/wall-vs-concurrency.svg and a CPU profile summary.
 *
 *   npm run bench                       # spec sizes (1M rows; a few minutes on 2 cores)
 *   npm run bench -- --quick            # everything at 1/10 size, no repeats
 *   BENCH_SCALE=0.5 npm run bench       # or --scale 0.5
 *   npm run bench -- --help             # every option
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, freemem, release, tmpdir, totalmem, availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatSummary, summarizeProfile, type ProfileSummary } from './cpuprofile-summary.js';
import { measureDbBound, type DbBoundResult } from './db-bound.js';
import { hasGnuTime, runExporter, type ExporterRunResult } from './exporter-run.js';
import {
  checkpoint,
  countTasks,
  createBenchDatabase,
  lastRun,
  serverSettings,
  serverVersion,
  settledTupleStats,
  type LedgerRun,
  type TupleStats,
} from './pg-util.js';
import { machineBusySeconds, PostgresCpuTracker, processCpuSeconds, waitForQuiet, type DbActivity } from './proc-cpu.js';
import { probeSimulator, startSimulatorProcess, type ProbeResult, type SimulatorHandle } from './simulator-control.js';
import type { FleetGroup, SimulatorStatsReply } from './simulator-process.js';
import { lineChartSvg } from './svg-plot.js';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(BENCH_DIR, '..');
const BUILD_DIR = join(BENCH_DIR, '.build');
const RESULTS_DIR = join(BENCH_DIR, 'results');
const SVG_FILE = join(BENCH_DIR, 'wall-vs-concurrency.svg');
const TOKEN = 'bench-iam-token';

const USAGE = `Usage: npm run bench -- [options]

Sizes (defaults are the spec's; --scale multiplies cluster counts and the big cluster):
  --scale X              also BENCH_SCALE (default 1)
  --quick                --scale 0.1, --repeat 1, shorter throughput probe
  --fleet-clusters N     (1000)   --fleet-tasks N (1000)
  --skew-clusters N      (50)     --skew-tasks N (100)    --skew-big-tasks N (200000)
  --tiny-clusters N      (5000)   --tiny-tasks N (5)
  --memory-small-rows N  (100000) the smaller memory run, as clusters of --fleet-tasks
  --sweep LIST           concurrencies for the plot (1,4,16,64), on the memory-small fleet
Run shape:
  --latency-ms N         simulated latency (20)
  --concurrency N        (32)   --page-size N (100)
  --repeat N             runs of the smaller scenarios, medians reported (3; BENCH_REPEAT)
  --repeat-big N         runs of the 1M fleet and its rerun (1)
  --only LIST            fleet,skewed,tiny,memory,sweep,profile (default all; rerun goes with fleet)
  --profile-scale X      size of the profiled fleet run (and its rerun) relative to the fleet scenario (0.3;
                         1 profiles on the fleet scenario's own simulator)
  --probe-seconds N      trivial-client throughput probe per scenario (3)
Environment:
  --database-url URL     admin URL (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres)
  --no-build             reuse bench/.build from an earlier run
  --keep                 keep databases, logs and profiles (prints where)
  --timeout-s N          per exporter run (900)
  --quiet-wait-s N       before each timed measurement, wait up to N s for the shared machine to be idle (10)
  --max-noise X          a measurement during which other processes used more than X of the machine (0.2)
  --noise-retries N      is repeated up to N times (2); the least disturbed attempt is reported
  --log-level L          exporter LOG_LEVEL (info, as in production; stderr goes to a file)
  --node-flags="F …"     extra node flags for every exporter run, e.g. --node-flags=--max-old-space-size=128 (experiments)
  --replot FILE.json     only redraw bench/wall-vs-concurrency.svg from a saved bench/results/last-run.json`;

interface Options {
  readonly scale: number;
  readonly quick: boolean;
  readonly fleetClusters: number;
  readonly fleetTasks: number;
  readonly skewClusters: number;
  readonly skewTasks: number;
  readonly skewBigTasks: number;
  readonly tinyClusters: number;
  readonly tinyTasks: number;
  readonly memorySmallRows: number;
  readonly sweep: readonly number[];
  readonly latencyMs: number;
  readonly concurrency: number;
  readonly pageSize: number;
  readonly repeat: number;
  readonly repeatBig: number;
  readonly only: ReadonlySet<string>;
  readonly profileScale: number;
  readonly probeSeconds: number;
  readonly databaseUrl: string;
  readonly build: boolean;
  readonly keep: boolean;
  readonly timeoutMs: number;
  readonly quietWaitMs: number;
  readonly maxNoise: number;
  readonly noiseRetries: number;
  readonly logLevel: string;
  readonly nodeFlags: readonly string[];
}

function parseOptions(argv: readonly string[]): Options | null {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      scale: { type: 'string' },
      quick: { type: 'boolean' },
      'fleet-clusters': { type: 'string' },
      'fleet-tasks': { type: 'string' },
      'skew-clusters': { type: 'string' },
      'skew-tasks': { type: 'string' },
      'skew-big-tasks': { type: 'string' },
      'tiny-clusters': { type: 'string' },
      'tiny-tasks': { type: 'string' },
      'memory-small-rows': { type: 'string' },
      sweep: { type: 'string' },
      'latency-ms': { type: 'string' },
      concurrency: { type: 'string' },
      'page-size': { type: 'string' },
      repeat: { type: 'string' },
      'repeat-big': { type: 'string' },
      only: { type: 'string' },
      'profile-scale': { type: 'string' },
      'probe-seconds': { type: 'string' },
      'database-url': { type: 'string' },
      'no-build': { type: 'boolean' },
      keep: { type: 'boolean' },
      'timeout-s': { type: 'string' },
      'quiet-wait-s': { type: 'string' },
      'max-noise': { type: 'string' },
      'noise-retries': { type: 'string' },
      'log-level': { type: 'string' },
      'node-flags': { type: 'string' },
      replot: { type: 'string' },
    },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return null;
  }
  if (values.replot) {
    replotFile = values.replot;
    return null;
  }
  const num = (name: string, raw: string | undefined, fallback: number, min: number): number => {
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < min) throw new Error(`--${name} must be a number >= ${min}, not ${JSON.stringify(raw)}`);
    return value;
  };
  const quick = values.quick === true;
  const scale = num('scale', values.scale ?? process.env.BENCH_SCALE, quick ? 0.1 : 1, 0.0001);
  const scaled = (n: number): number => Math.max(1, Math.round(n * scale));
  const int = (name: string, raw: string | undefined, fallback: number, min = 1): number =>
    Math.round(num(name, raw, fallback, min));
  const only = values.only ? new Set(values.only.split(',').map((s) => s.trim())) : new Set(['fleet', 'skewed', 'tiny', 'memory', 'sweep', 'profile']);
  return {
    scale,
    quick,
    fleetClusters: int('fleet-clusters', values['fleet-clusters'], scaled(1000)),
    fleetTasks: int('fleet-tasks', values['fleet-tasks'], 1000),
    skewClusters: int('skew-clusters', values['skew-clusters'], 50),
    skewTasks: int('skew-tasks', values['skew-tasks'], 100, 0),
    skewBigTasks: int('skew-big-tasks', values['skew-big-tasks'], scaled(200_000)),
    tinyClusters: int('tiny-clusters', values['tiny-clusters'], scaled(5000)),
    tinyTasks: int('tiny-tasks', values['tiny-tasks'], 5, 0),
    memorySmallRows: int('memory-small-rows', values['memory-small-rows'], scaled(100_000)),
    sweep: (values.sweep ?? '1,4,16,64').split(',').map((s) => int('sweep', s.trim(), 1)),
    latencyMs: int('latency-ms', values['latency-ms'], 20, 0),
    concurrency: int('concurrency', values.concurrency, 32),
    pageSize: int('page-size', values['page-size'], 100),
    repeat: int('repeat', values.repeat ?? process.env.BENCH_REPEAT, quick ? 1 : 3),
    repeatBig: int('repeat-big', values['repeat-big'], 1),
    only,
    profileScale: num('profile-scale', values['profile-scale'], 0.3, 0.0001),
    probeSeconds: num('probe-seconds', values['probe-seconds'], quick ? 1.5 : 3, 0.1),
    databaseUrl: values['database-url'] ?? process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    build: values['no-build'] !== true,
    keep: values.keep === true,
    timeoutMs: int('timeout-s', values['timeout-s'], 900) * 1000,
    quietWaitMs: num('quiet-wait-s', values['quiet-wait-s'], 10, 0) * 1000,
    maxNoise: num('max-noise', values['max-noise'], 0.2, 0),
    noiseRetries: int('noise-retries', values['noise-retries'], 2, 0),
    logLevel: values['log-level'] ?? 'info',
    nodeFlags: (values['node-flags'] ?? '').split(' ').filter(Boolean),
  };
}

// ---------------------------------------------------------------- helpers

function log(line: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

function median(values: readonly number[]): number {
  const sorted = [...values].filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
function f(value: number, digits = 2): string {
  if (!Number.isFinite(value)) return '—';
  return value.toFixed(digits);
}

/** Groups of `projects` × `clustersPerProject` adding up to exactly `clusters`. */
function fleetGroups(seed: number, clusters: number, tasks: number): FleetGroup[] {
  const projects = clusters >= 10 && clusters % 10 === 0 ? 10 : 1;
  return [{ seed, projects, clustersPerProject: clusters / projects, tasks }];
}

function pagesFor(tasks: number, pageSize: number): number {
  return Math.max(1, Math.ceil(tasks / pageSize));
}

// ---------------------------------------------------------------- measurements

interface Bounds {
  readonly minRequests: number;
  readonly latencyBoundS: number;
  readonly throughputBoundS: number;
  readonly httpBoundS: number;
  readonly db: DbBoundResult | null;
  readonly dbRerun: DbBoundResult | null;
  readonly dbBoundS: number;
  readonly dbRerunBoundS: number;
  readonly probe: ProbeResult;
}

interface RunRecord {
  readonly label: string;
  readonly result: ExporterRunResult;
  readonly ledger: LedgerRun | null;
  readonly stored: number | null;
  readonly simulator: SimulatorStatsReply;
  readonly ok: boolean;
  readonly problem: string | null;
  readonly cpu: CpuBreakdown;
  /** Share of the machine (all cores × wall) used by other processes during the run; null without /proc. */
  readonly noise: number | null;
  /** Attempts made (more than 1 when disturbed runs were repeated). */
  readonly attempts: number;
  /** Statistics of the run's database before and after it (settled, see pg-util.ts). */
  readonly tuples: { readonly before: TupleStats; readonly after: TupleStats; readonly waitedMs: number };
}

/** CPU seconds spent by each process during one exporter run (null where /proc cannot tell). */
interface CpuBreakdown {
  readonly exporterS: number;
  readonly simulatorS: number | null;
  readonly postgresS: number | null;
  readonly machineBusyS: number | null;
  /** Busy share of the machine just before the run (after waiting for quiet). */
  readonly busyShareBefore: number | null;
  readonly quietWaitMs: number;
  /** Polls (every 100 ms) by what the run database's backends were doing; see proc-cpu.ts. */
  readonly dbActivity: Record<DbActivity, number> | null;
}

interface Context {
  readonly options: Options;
  readonly cores: number;
  readonly workDir: string;
  readonly cliJs: string;
  readonly simJs: string;
  readonly measureJs: string;
  readonly cleanups: (() => Promise<void>)[];
}

async function startSim(ctx: Context, label: string, groups: readonly FleetGroup[]): Promise<SimulatorHandle> {
  const started = performance.now();
  const sim = await startSimulatorProcess(ctx.simJs, { groups, latencyMs: ctx.options.latencyMs, token: TOKEN });
  ctx.cleanups.push(() => sim.stop());
  log(
    `${label}: simulator up (${int.format(sim.ready.totalTasks)} tasks in ${sim.ready.taskCounts.length} clusters, ` +
      `generated in ${f(sim.ready.generateMs / 1000, 1)} s, ready after ${f((performance.now() - started) / 1000, 1)} s)`,
  );
  return sim;
}

async function measureBounds(
  ctx: Context,
  label: string,
  sim: SimulatorHandle,
  concurrency: number,
  repeats: number,
  withRerun: boolean,
): Promise<Bounds> {
  const { options } = ctx;
  const minRequests = sim.ready.taskCounts.reduce((sum, n) => sum + pagesFor(n, options.pageSize), 0);
  const { value: probe } = await leastNoisy(
    ctx,
    `${label}: simulator throughput`,
    async () => {
      await waitForQuiet(options.quietWaitMs, ctx.cores);
      const machine0 = machineBusySeconds();
      const sim0 = processCpuSeconds(sim.pid);
      const self0 = process.cpuUsage();
      const result = await probeSimulator(sim.ready, TOKEN, {
        seconds: options.probeSeconds,
        warmupSeconds: Math.min(1, options.probeSeconds / 2),
        maxRequests: 500_000,
        connections: concurrency,
        pageSize: options.pageSize,
      });
      const self = process.cpuUsage(self0);
      const machine1 = machineBusySeconds();
      const sim1 = processCpuSeconds(sim.pid);
      // Includes the warm-up: measured around the whole probe, compared with its whole duration.
      const elapsed = result.seconds + Math.min(1, options.probeSeconds / 2);
      const noise =
        machine0 === null || machine1 === null || sim0 === null || sim1 === null
          ? null
          : (machine1 - machine0 - (sim1 - sim0) - (self.user + self.system) / 1e6) / (elapsed * ctx.cores);
      log(
        `${label}: simulator max throughput ${int.format(result.requestsPerSecond)} req/s (trivial client, ${concurrency} connections, ` +
          `${result.errors} errors; others ${f(100 * (noise ?? Number.NaN), 0)}% of the machine)`,
      );
      return { ...result, noise };
    },
    (r) => r.noise,
  );
  const file = join(ctx.workDir, `${label}.copy`);
  const dumped = await sim.dump(file);
  log(`${label}: ${int.format(dumped.rows)} rows written as COPY text (${f(dumped.bytes / 2 ** 20, 0)} MiB) for the DB bound`);
  const firsts: DbBoundResult[] = [];
  const seconds: DbBoundResult[] = [];
  /** One timed COPY + INSERT, with the PostgreSQL CPU it took and how disturbed it was. */
  const timed = async (db: { url: string; name: string }): Promise<{ r: DbBoundResult; pgCpu: number | null; noise: number | null }> => {
    await checkpoint(options.databaseUrl);
    await waitForQuiet(options.quietWaitMs, ctx.cores);
    const tracker = await PostgresCpuTracker.start(options.databaseUrl, db.name);
    const machine0 = machineBusySeconds();
    const self0 = process.cpuUsage();
    const r = await measureDbBound(db.url, file);
    const self = process.cpuUsage(self0);
    const machine1 = machineBusySeconds();
    const pgCpu = tracker ? await tracker.stop() : null;
    const noise =
      machine0 === null || machine1 === null
        ? null
        : (machine1 - machine0 - (pgCpu ?? 0) - (self.user + self.system) / 1e6) / ((r.totalMs / 1000) * ctx.cores);
    return { r, pgCpu, noise };
  };
  for (let i = 0; i < repeats; i++) {
    const { value } = await leastNoisy(
      ctx,
      `${label}: DB bound`,
      async () => {
        const db = await createBenchDatabase(options.databaseUrl, `${label}_dbbound`, false);
        try {
          const first = await timed(db);
          const second = withRerun ? await timed(db) : null;
          let line =
            `${label}: DB bound ${f(first.r.totalMs / 1000)} s (COPY ${f(first.r.copyMs / 1000)} s, INSERT ${f(first.r.insertMs / 1000)} s, ` +
            `COMMIT ${f(first.r.commitMs / 1000)} s; PostgreSQL CPU ${f(first.pgCpu ?? Number.NaN)} s; ` +
            `others ${f(100 * (first.noise ?? Number.NaN), 0)}% of the machine)`;
          if (second) {
            line +=
              `; same rows again into the full table ${f(second.r.totalMs / 1000)} s (${second.r.rows} rows written; ` +
              `PostgreSQL CPU ${f(second.pgCpu ?? Number.NaN)} s; others ${f(100 * (second.noise ?? Number.NaN), 0)}%)`;
          }
          log(line);
          return { first, second };
        } finally {
          await db.drop();
        }
      },
      (v) => Math.max(v.first.noise ?? 0, v.second?.noise ?? 0),
    );
    firsts.push(value.first.r);
    if (value.second) seconds.push(value.second.r);
  }
  await rm(file, { force: true });
  const latencyBoundS = (minRequests * options.latencyMs) / 1000 / concurrency;
  const throughputBoundS = minRequests / probe.requestsPerSecond;
  const pick = (list: readonly DbBoundResult[]): DbBoundResult | null =>
    [...list].sort((a, b) => a.totalMs - b.totalMs)[Math.floor((list.length - 1) / 2)] ?? null;
  return {
    minRequests,
    latencyBoundS,
    throughputBoundS,
    httpBoundS: Math.max(latencyBoundS, throughputBoundS),
    db: pick(firsts),
    dbRerun: pick(seconds),
    dbBoundS: median(firsts.map((r) => r.totalMs / 1000)),
    dbRerunBoundS: median(seconds.map((r) => r.totalMs / 1000)),
    probe,
  };
}

/**
 * The machine is shared with other sessions: a measurement during which other
 * processes took more than `maxNoise` of the machine is repeated (at most
 * `noiseRetries` times) and the least disturbed attempt is kept. `discard`
 * releases what an attempt that is not kept holds (e.g. its database).
 */
async function leastNoisy<T>(
  ctx: Context,
  what: string,
  attempt: (n: number) => Promise<T>,
  noiseOf: (value: T) => number | null,
  discard: (value: T) => Promise<void> = async () => undefined,
): Promise<{ readonly value: T; readonly attempts: number }> {
  const tried: T[] = [];
  for (let n = 1; ; n++) {
    const value = await attempt(n);
    tried.push(value);
    const noise = noiseOf(value);
    if (noise === null || noise <= ctx.options.maxNoise || n > ctx.options.noiseRetries) break;
    log(`${what}: other processes used ${f(100 * noise, 0)}% of the machine during attempt ${n}: measuring again`);
  }
  const score = (v: T): number => noiseOf(v) ?? 0;
  const best = tried.reduce((a, b) => (score(b) < score(a) ? b : a));
  for (const value of tried) if (value !== best) await discard(value);
  return { value: best, attempts: tried.length };
}

/** An exporter run on a fresh database of its own, repeated while disturbed. */
async function freshRun(
  ctx: Context,
  label: string,
  sim: SimulatorHandle,
  concurrency: number,
  expectRows: number,
): Promise<RunRecord> {
  const { value, attempts } = await leastNoisy(
    ctx,
    label,
    async (n) => {
      const db = await createBenchDatabase(ctx.options.databaseUrl, label, ctx.options.keep);
      try {
        return await exporterRun(ctx, n === 1 ? label : `${label}-try${n}`, sim, db.url, concurrency, expectRows, true);
      } finally {
        await db.drop();
      }
    },
    (r) => r.noise,
  );
  return { ...value, label, attempts };
}

async function exporterRun(
  ctx: Context,
  label: string,
  sim: SimulatorHandle,
  databaseUrl: string,
  concurrency: number,
  expectRows: number,
  freshDatabase: boolean,
  nodeFlags: readonly string[] = [],
): Promise<RunRecord> {
  await sim.stats(); // reset the simulator's counters
  const statsBefore = await settledTupleStats(databaseUrl);
  await checkpoint(ctx.options.databaseUrl);
  const quiet = await waitForQuiet(ctx.options.quietWaitMs, ctx.cores);
  const database = new URL(databaseUrl).pathname.slice(1);
  const pgTracker = await PostgresCpuTracker.start(ctx.options.databaseUrl, database);
  const before = { machine: machineBusySeconds(), sim: processCpuSeconds(sim.pid) };
  const result = await runExporter({
    cliJs: ctx.cliJs,
    measureChildJs: ctx.measureJs,
    workDir: ctx.workDir,
    label,
    databaseUrl,
    token: TOKEN,
    config: { endpoint: sim.ready.url, projects: sim.ready.projects, concurrency, pageSize: ctx.options.pageSize },
    timeoutMs: ctx.options.timeoutMs,
    logLevel: ctx.options.logLevel,
    nodeFlags: [...ctx.options.nodeFlags, ...nodeFlags],
  });
  const after = { machine: machineBusySeconds(), sim: processCpuSeconds(sim.pid) };
  const pgCpu = pgTracker ? await pgTracker.stop() : null;
  const dbActivity = pgTracker ? { ...pgTracker.activity } : null;
  const delta = (a: number | null, b: number | null): number | null => (a === null || b === null ? null : b - a);
  const cpu: CpuBreakdown = {
    exporterS: result.cpuS,
    simulatorS: delta(before.sim, after.sim),
    postgresS: pgCpu,
    machineBusyS: delta(before.machine, after.machine),
    busyShareBefore: quiet.busyShare,
    quietWaitMs: quiet.waitedMs,
    dbActivity,
  };
  const simulator = await sim.stats();
  const statsAfter = await settledTupleStats(databaseUrl);
  const tuples = { before: statsBefore, after: statsAfter, waitedMs: statsAfter.waitedMs };
  const ledger = await lastRun(databaseUrl);
  const stored = await countTasks(databaseUrl);
  const problems: string[] = [];
  if (result.exitCode !== 0) problems.push(`exit code ${result.exitCode} (see ${result.stderrFile})`);
  if (ledger?.status !== 'succeeded') problems.push(`ledger status ${ledger?.status ?? 'none'}`);
  if (ledger && ledger.tasksFetched !== expectRows) problems.push(`fetched ${ledger.tasksFetched} of ${expectRows}`);
  if (stored !== expectRows) problems.push(`${stored} rows stored, expected ${expectRows}`);
  if (freshDatabase && ledger && ledger.rowsInserted !== expectRows) problems.push(`${ledger.rowsInserted} inserted`);
  const ok = problems.length === 0;
  log(
    `${label}: ${ok ? 'ok' : `PROBLEM: ${problems.join('; ')}`} — wall ${f(result.wallMs / 1000)} s, ` +
      `CPU ${f(result.cpuS)} s, peak RSS ${f(result.maxRssMb, 0)} MiB, ${int.format(ledger?.apiRequests ?? 0)} requests ` +
      `(simulator saw ${int.format(simulator.requests)}, max ${simulator.maxInFlight} in flight), ` +
      `in-process run ${f((ledger?.ledgerMs ?? Number.NaN) / 1000)} s; CPU of simulator ${f(cpu.simulatorS ?? Number.NaN)} s, ` +
      `PostgreSQL ${f(cpu.postgresS ?? Number.NaN)} s, whole machine ${f(cpu.machineBusyS ?? Number.NaN)} s` +
      ` (machine ${f(100 * (quiet.busyShare ?? Number.NaN), 0)}% busy before, waited ${f(quiet.waitedMs / 1000, 1)} s); ` +
      `${int.format(statsAfter.xactCommit - statsBefore.xactCommit)} transactions committed in its database`,
  );
  const noise =
    cpu.machineBusyS === null
      ? null
      : (cpu.machineBusyS - cpu.exporterS - (cpu.simulatorS ?? 0) - (cpu.postgresS ?? 0)) / ((result.wallMs / 1000) * ctx.cores);
  return { label, result, ledger, stored, simulator, ok, problem: ok ? null : problems.join('; '), cpu, noise, attempts: 1, tuples };
}

// ---------------------------------------------------------------- scenarios

interface ScenarioResult {
  readonly id: string;
  readonly title: string;
  readonly rows: number;
  readonly concurrency: number;
  readonly runs: readonly RunRecord[];
  readonly bounds: Bounds;
  /** Bound used for the ratio (max of HTTP and DB, or as the scenario says). */
  readonly ratioBoundS: number;
  readonly target: string;
  readonly met: boolean | null;
  readonly notes: string[];
}

function medians(runs: readonly RunRecord[]): {
  wallS: number;
  cpuS: number;
  rssMb: number;
  requests: number;
  ledgerS: number;
} {
  return {
    wallS: median(runs.map((r) => r.result.wallMs / 1000)),
    cpuS: median(runs.map((r) => r.result.cpuS)),
    rssMb: median(runs.map((r) => r.result.maxRssMb)),
    requests: median(runs.map((r) => r.ledger?.apiRequests ?? Number.NaN)),
    ledgerS: median(runs.map((r) => (r.ledger?.ledgerMs ?? Number.NaN) / 1000)),
  };
}

interface FleetOutcome {
  readonly fleet: ScenarioResult;
  readonly rerun: ScenarioResult;
  readonly profile: { fleet: ProfileSummary | null; rerun: ProfileSummary | null; files: string[] } | null;
}

async function fleetScenario(ctx: Context): Promise<FleetOutcome> {
  const { options } = ctx;
  const c = options.concurrency;
  const rows = options.fleetClusters * options.fleetTasks;
  const label = 'fleet';
  const sim = await startSim(ctx, label, fleetGroups(1, options.fleetClusters, options.fleetTasks));
  try {
    const bounds = await measureBounds(ctx, label, sim, c, options.repeatBig, true);
    const runs: RunRecord[] = [];
    const reruns: RunRecord[] = [];
    for (let i = 0; i < options.repeatBig; i++) {
      // The rerun needs the fleet run's database: keep each attempt's until one is chosen.
      const first = await leastNoisy(
        ctx,
        `${label}-${i + 1}`,
        async (n) => {
          const db = await createBenchDatabase(options.databaseUrl, label, options.keep);
          const name = n === 1 ? `${label}-${i + 1}` : `${label}-${i + 1}-try${n}`;
          try {
            return { db, run: await exporterRun(ctx, name, sim, db.url, c, rows, true) };
          } catch (error) {
            await db.drop();
            throw error;
          }
        },
        (a) => a.run.noise,
        (a) => a.db.drop(),
      );
      const { db } = first.value;
      try {
        runs.push({ ...first.value.run, label: `${label}-${i + 1}`, attempts: first.attempts });
        const again = await leastNoisy(
          ctx,
          `rerun-${i + 1}`,
          (n) => exporterRun(ctx, n === 1 ? `rerun-${i + 1}` : `rerun-${i + 1}-try${n}`, sim, db.url, c, rows, false),
          (r) => r.noise,
        );
        const rerun: RunRecord = { ...again.value, label: `rerun-${i + 1}`, attempts: again.attempts };
        const { before, after, waitedMs } = rerun.tuples;
        log(
          `rerun-${i + 1}: n_tup_upd ${before.updated} → ${after.updated}, n_tup_ins ${before.inserted} → ${after.inserted} ` +
            `(stats settled after ${f(waitedMs, 0)} ms); ledger: ${rerun.ledger?.rowsUpdated} updated, ${rerun.ledger?.rowsUnchanged} unchanged`,
        );
        reruns.push(rerun);
      } finally {
        await db.drop();
      }
    }
    let profile: FleetOutcome['profile'] = null;
    if (options.only.has('profile') && options.profileScale === 1) profile = await profileRuns(ctx, sim, rows);
    const m = medians(runs);
    const mr = medians(reruns);
    const ratioBound = Math.max(bounds.httpBoundS, bounds.dbBoundS);
    const fleet: ScenarioResult = {
      id: '1',
      title: `fleet ${int.format(options.fleetClusters)}×${int.format(options.fleetTasks)}`,
      rows,
      concurrency: c,
      runs,
      bounds,
      ratioBoundS: ratioBound,
      target: `≤ 1.3 × max(bounds) = ${f(1.3 * ratioBound)} s`,
      met: runs.every((r) => r.ok) && m.wallS <= 1.3 * ratioBound,
      notes: [],
    };
    const updates = reruns.map((r) => r.tuples.after.updated - r.tuples.before.updated);
    const rerunBound = Math.max(bounds.httpBoundS, bounds.dbRerunBoundS);
    const rerun: ScenarioResult = {
      id: '4',
      title: 'rerun of (1), no changes',
      rows,
      concurrency: c,
      runs: reruns,
      bounds: { ...bounds, dbBoundS: bounds.dbRerunBoundS, db: bounds.dbRerun },
      ratioBoundS: rerunBound,
      target: `n_tup_upd +0, ≤ 0.7 × (1) = ${f(0.7 * m.wallS)} s`,
      met: reruns.every((r) => r.ok) && updates.every((u) => u === 0) && mr.wallS <= 0.7 * m.wallS,
      notes: [`n_tup_upd delta per rerun: ${updates.join(', ')}`],
    };
    return { fleet, rerun, profile };
  } finally {
    await sim.stop();
  }
}

async function profileRuns(ctx: Context, sim: SimulatorHandle, rows: number): Promise<FleetOutcome['profile']> {
  const { options } = ctx;
  const dir = join(ctx.workDir, 'profiles');
  const db = await createBenchDatabase(options.databaseUrl, 'profile', options.keep);
  const out: NonNullable<FleetOutcome['profile']> = { fleet: null, rerun: null, files: [] };
  try {
    for (const which of ['fleet', 'rerun'] as const) {
      const profDir = join(dir, which);
      await mkdir(profDir, { recursive: true });
      await exporterRun(ctx, `profile-${which}`, sim, db.url, options.concurrency, rows, which === 'fleet', [
        '--cpu-prof',
        `--cpu-prof-dir=${profDir}`,
      ]);
      const file = (await readdir(profDir)).find((name) => name.endsWith('.cpuprofile'));
      if (!file) continue;
      const path = join(profDir, file);
      out[which] = await summarizeProfile(path, 25);
      const kept = join(BENCH_DIR, '.profiles', `${which}.cpuprofile`);
      await mkdir(dirname(kept), { recursive: true });
      await copyFile(path, kept);
      out.files.push(kept);
      log(`profile-${which}: ${kept}`);
    }
  } finally {
    await db.drop();
  }
  return out;
}

async function profileScaled(ctx: Context): Promise<FleetOutcome['profile']> {
  const { options } = ctx;
  const clusters = Math.max(1, Math.round(options.fleetClusters * options.profileScale));
  const sim = await startSim(ctx, 'profile', fleetGroups(1, clusters, options.fleetTasks));
  try {
    return await profileRuns(ctx, sim, clusters * options.fleetTasks);
  } finally {
    await sim.stop();
  }
}

async function skewedScenario(ctx: Context): Promise<ScenarioResult> {
  const { options } = ctx;
  const c = options.concurrency;
  const rows = options.skewClusters * options.skewTasks + options.skewBigTasks;
  const label = 'skewed';
  // The big cluster comes last in the config: it starts after most small ones.
  const groups: FleetGroup[] = [
    { seed: 2, projects: 1, clustersPerProject: options.skewClusters, tasks: options.skewTasks },
    { seed: 3, projects: 1, clustersPerProject: 1, tasks: options.skewBigTasks },
  ];
  const sim = await startSim(ctx, label, groups);
  try {
    const bounds = await measureBounds(ctx, label, sim, c, options.repeat, false);
    const runs: RunRecord[] = [];
    for (let i = 0; i < options.repeat; i++) runs.push(await freshRun(ctx, `${label}-${i + 1}`, sim, c, rows));
    const m = medians(runs);
    const bigBound = (pagesFor(options.skewBigTasks, options.pageSize) * options.latencyMs) / 1000 / c;
    return {
      id: '2',
      title: `skewed ${options.skewClusters}×${options.skewTasks} + 1×${int.format(options.skewBigTasks)}`,
      rows,
      concurrency: c,
      runs,
      bounds,
      ratioBoundS: Math.max(bounds.httpBoundS, bounds.dbBoundS),
      target: `≤ 1.5 × big-cluster HTTP bound (${f(bigBound)} s) = ${f(1.5 * bigBound)} s`,
      met: runs.every((r) => r.ok) && m.wallS <= 1.5 * bigBound,
      notes: [`big cluster alone: ${pagesFor(options.skewBigTasks, options.pageSize)} pages × ${options.latencyMs} ms ÷ ${c} = ${f(bigBound)} s`],
    };
  } finally {
    await sim.stop();
  }
}

async function tinyScenario(ctx: Context): Promise<ScenarioResult> {
  const { options } = ctx;
  const c = options.concurrency;
  const rows = options.tinyClusters * options.tinyTasks;
  const label = 'tiny';
  const sim = await startSim(ctx, label, fleetGroups(4, options.tinyClusters, options.tinyTasks));
  try {
    const bounds = await measureBounds(ctx, label, sim, c, options.repeat, false);
    const runs: RunRecord[] = [];
    for (let i = 0; i < options.repeat; i++) runs.push(await freshRun(ctx, `${label}-${i + 1}`, sim, c, rows));
    return {
      id: '3',
      title: `many tiny ${int.format(options.tinyClusters)}×${options.tinyTasks}`,
      rows,
      concurrency: c,
      runs,
      bounds,
      ratioBoundS: Math.max(bounds.httpBoundS, bounds.dbBoundS),
      target: '— (reported)',
      met: runs.every((r) => r.ok) ? null : false,
      notes: [],
    };
  } finally {
    await sim.stop();
  }
}

interface SweepPoint {
  readonly concurrency: number;
  readonly run: RunRecord;
  readonly httpBoundS: number;
  readonly latencyBoundS: number;
  readonly dbBoundS: number;
}

/** Memory at the small size (5a) and the concurrency sweep share one fleet and simulator. */
async function memoryAndSweep(ctx: Context): Promise<{ small: ScenarioResult | null; sweep: SweepPoint[] }> {
  const { options } = ctx;
  const clusters = Math.max(1, Math.round(options.memorySmallRows / options.fleetTasks));
  const rows = clusters * options.fleetTasks;
  const label = 'memsmall';
  const sim = await startSim(ctx, label, fleetGroups(5, clusters, options.fleetTasks));
  try {
    const bounds = await measureBounds(ctx, label, sim, options.concurrency, options.repeat, false);
    let small: ScenarioResult | null = null;
    if (options.only.has('memory')) {
      const runs: RunRecord[] = [];
      for (let i = 0; i < options.repeat; i++) runs.push(await freshRun(ctx, `${label}-${i + 1}`, sim, options.concurrency, rows));
      small = {
        id: '5a',
        title: `memory: (1) at ${int.format(rows)} rows`,
        rows,
        concurrency: options.concurrency,
        runs,
        bounds,
        ratioBoundS: Math.max(bounds.httpBoundS, bounds.dbBoundS),
        target: '— (reference for 5b)',
        met: runs.every((r) => r.ok) ? null : false,
        notes: [],
      };
    }
    const sweep: SweepPoint[] = [];
    if (options.only.has('sweep')) {
      for (const c of options.sweep) {
        const run = await freshRun(ctx, `sweep-c${c}`, sim, c, rows);
        const latencyBoundS = (bounds.minRequests * options.latencyMs) / 1000 / c;
        sweep.push({
          concurrency: c,
          run,
          latencyBoundS,
          httpBoundS: Math.max(latencyBoundS, bounds.throughputBoundS),
          dbBoundS: bounds.dbBoundS,
        });
      }
    }
    return { small, sweep };
  } finally {
    await sim.stop();
  }
}

// ---------------------------------------------------------------- output

const HEADER = [
  'scenario',
  'rows',
  'requests',
  'wall s',
  'rows/s',
  'req/s',
  'CPU s',
  'µs CPU/task',
  'peak RSS MiB',
  'HTTP bound s',
  'DB bound s',
  'ratio',
  'target',
  'met?',
];

function scenarioRow(s: ScenarioResult, override?: { title: string; target: string; met: boolean | null }): string[] {
  const m = medians(s.runs);
  const met = override ? override.met : s.met;
  return [
    `${s.id} ${override?.title ?? s.title}`,
    int.format(s.rows),
    int.format(m.requests),
    f(m.wallS),
    int.format(s.rows / m.wallS),
    int.format(m.requests / m.wallS),
    f(m.cpuS),
    f((m.cpuS * 1e6) / s.rows, 1),
    f(m.rssMb, 0),
    f(s.bounds.httpBoundS),
    f(s.bounds.dbBoundS),
    f(m.wallS / s.ratioBoundS),
    override?.target ?? s.target,
    met === null ? '—' : met ? 'yes' : 'NO',
  ];
}

/** "62 / 3 / 21 / 14 %" of the polls. */
function activityShares(activity: Record<DbActivity, number> | null): string {
  if (!activity) return '—';
  const total = activity.working + activity['io/lock'] + activity.client + activity.idle;
  if (total === 0) return '—';
  const pct = (n: number): string => f((100 * n) / total, 0);
  return `${pct(activity.working)} / ${pct(activity['io/lock'])} / ${pct(activity.client)} / ${pct(activity.idle)} %`;
}

function textTable(rows: readonly (readonly string[])[]): string {
  const widths = HEADER.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]): string =>
    r.map((cell, i) => (i === 0 || i === 12 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
  return [line(rows[0] ?? []), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

function markdownTable(header: readonly string[], rows: readonly (readonly string[])[], numeric: (i: number) => boolean): string {
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => (numeric(i) ? '---:' : '---')).join('|')}|`,
    ...rows.map((r) => `| ${r.map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`),
  ].join('\n');
}

function boundsDetail(s: ScenarioResult, latencyMs: number): string {
  const b = s.bounds;
  const m = medians(s.runs);
  const db = b.db ? ` (COPY ${f(b.db.copyMs / 1000)} s + INSERT ${f(b.db.insertMs / 1000)} s + COMMIT ${f(b.db.commitMs / 1000)} s)` : '';
  return (
    `- ${s.id} ${s.title}: ${s.runs.length} run(s); min requests ${int.format(b.minRequests)} → latency bound ` +
    `${int.format(b.minRequests)} × ${latencyMs} ms ÷ ${s.concurrency} = ${f(b.latencyBoundS)} s; simulator max ` +
    `${int.format(b.probe.requestsPerSecond)} req/s → ${f(b.throughputBoundS)} s; DB bound ${f(b.dbBoundS)} s${db}` +
    (Number.isFinite(b.dbRerunBoundS) ? `; same rows into the full table ${f(b.dbRerunBoundS)} s` : '') +
    `; exporter in-process run ${f(m.ledgerS)} s of ${f(m.wallS)} s wall; walls ${s.runs.map((r) => f(r.result.wallMs / 1000)).join(', ')} s` +
    (s.notes.length ? `; ${s.notes.join('; ')}` : '') +
    (s.runs.some((r) => !r.ok) ? `; PROBLEMS: ${s.runs.map((r) => r.problem).filter(Boolean).join(' / ')}` : '')
  );
}

/** The plot: wall time against concurrency, with the bounds and CPU floors of each point. */
function sweepChart(
  sweep: readonly SweepPoint[],
  sizes: { readonly fleetTasks: number; readonly pageSize: number; readonly latencyMs: number },
  machine: { readonly cpus: number; readonly node: string; readonly postgres: string },
  date: Date,
): string {
  const rows = sweep[0]?.run.ledger?.tasksFetched ?? 0;
  const cores = machine.cpus;
  return lineChartSvg({
    title: 'dws-task-exporter: wall time against concurrency',
    subtitle:
      `${int.format(rows)} tasks (${int.format(Math.round(rows / sizes.fleetTasks))} clusters × ${int.format(sizes.fleetTasks)}), ` +
      `page size ${sizes.pageSize}, ${sizes.latencyMs} ms simulated latency, ${cores} cores`,
    xLabel: 'concurrency (= http.maxInFlight = pageConcurrency), log scale',
    yLabel: 'seconds, log scale',
    series: [
      { label: 'exporter wall time', color: '#1f77b4', markers: true, points: sweep.map((p) => ({ x: p.concurrency, y: p.run.result.wallMs / 1000 })) },
      { label: 'HTTP bound', color: '#d62728', dashed: true, points: sweep.map((p) => ({ x: p.concurrency, y: p.httpBoundS })) },
      { label: 'DB bound', color: '#2ca02c', dashed: true, points: sweep.map((p) => ({ x: p.concurrency, y: p.dbBoundS })) },
      {
        label: 'all CPU ÷ cores',
        color: '#888888',
        dashed: true,
        points: sweep.map((p) => ({
          x: p.concurrency,
          y: (p.run.cpu.exporterS + (p.run.cpu.simulatorS ?? 0) + (p.run.cpu.postgresS ?? 0)) / cores,
        })),
      },
      { label: 'exporter CPU', color: '#9467bd', dashed: true, points: sweep.map((p) => ({ x: p.concurrency, y: p.run.cpu.exporterS })) },
    ],
    notes: [
      'HTTP bound: max(requests × latency ÷ concurrency, requests ÷ simulator max throughput). ' +
        'DB bound: COPY + one INSERT … ON CONFLICT of the same rows, alone. ' +
        `All CPU ÷ cores: (exporter + simulator + PostgreSQL CPU during the run) ÷ ${cores}. ` +
        'Exporter CPU: user + system time of the exporter process (mostly one thread).',
      `Node ${machine.node}, ${machine.postgres.split(' on ')[0] ?? machine.postgres}; ${date.toISOString().slice(0, 10)}; ` +
        'one run per point (npm run bench).',
    ],
  });
}

/** `--replot FILE.json`: redraw bench/wall-vs-concurrency.svg from a saved bench/results/last-run.json. */
async function replot(file: string): Promise<void> {
  const saved = JSON.parse(await readFile(file, 'utf8')) as {
    options: { fleetTasks: number; pageSize: number; latencyMs: number };
    machine: { cpus: number; node: string; postgres: string };
    sweep: SweepPoint[];
  };
  const date = (await stat(file)).mtime;
  await writeFile(SVG_FILE, sweepChart(saved.sweep, saved.options, saved.machine, date));
  log(`plot written to ${SVG_FILE} from ${file}`);
}

// ---------------------------------------------------------------- main

/** The commit and how many files differ from it, when the benchmark built the exporter. */
function sourceState(): string {
  const git = (...args: string[]): string =>
    spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' }).stdout?.trim() ?? '';
  const head = git('rev-parse', '--short', 'HEAD');
  if (!head) return 'not a git checkout';
  const dirty = git('status', '--porcelain', '--', 'src', 'migrations', 'package.json', 'package-lock.json')
    .split('\n')
    .filter(Boolean).length;
  return dirty ? `${head} + ${dirty} changed file(s) under src/ migrations/ package*.json` : `${head} (clean)`;
}

async function build(): Promise<void> {
  const started = performance.now();
  log('building src/ and bench/ into bench/.build (tsc -p bench/tsconfig.build.json), not timed');
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', join(BENCH_DIR, 'tsconfig.build.json')], { cwd: ROOT, encoding: 'utf8' });
  // tsc exits 2 when it found type errors but still wrote every file, 1 when it wrote nothing.
  if (r.status === 2) {
    process.stderr.write(r.stdout + r.stderr);
    log('WARNING: type errors above (the JavaScript was emitted anyway): the numbers are for this working tree as it is');
  } else if (r.status !== 0) {
    process.stderr.write(r.stdout + r.stderr);
    throw new Error('build failed');
  }
  log(`built in ${f((performance.now() - started) / 1000, 1)} s`);
}

let replotFile: string | null = null;

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if (replotFile) await replot(replotFile);
  if (!options) return;
  const benchStarted = performance.now();
  const source = sourceState();
  if (options.build) await build();
  log(`exporter source: ${source}${options.build ? '' : ' (now; --no-build reuses an earlier build)'}`);
  const cliJs = join(BUILD_DIR, 'src', 'cli.js');
  const simJs = join(BUILD_DIR, 'bench', 'simulator-process.js');
  const measureJs = join(BUILD_DIR, 'bench', 'measure-child.js');
  for (const file of [cliJs, simJs, measureJs]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run without --no-build`);
  }
  const workDir = join(tmpdir(), `dws-bench-${process.pid}`);
  await mkdir(workDir, { recursive: true });
  const cores = availableParallelism();
  const ctx: Context = { options, cores, workDir, cliJs, simJs, measureJs, cleanups: [] };
  const onSignal = (): void => {
    log('interrupted: stopping simulators');
    void Promise.allSettled(ctx.cleanups.map((c) => c())).then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const pgVersion = await serverVersion(options.databaseUrl);
  const pgSettings = await serverSettings(options.databaseUrl);
  const machine = {
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: totalmem() / 2 ** 30,
    freeGiB: freemem() / 2 ** 30,
    kernel: release(),
    node: process.version,
    postgres: pgVersion,
    pgSettings,
    source,
    measuredWith: hasGnuTime() ? 'GNU time (/usr/bin/time -f "%e %U %S %M")' : 'process.resourceUsage() preload',
  };
  log(`machine: ${machine.cpus} CPUs (${machine.cpuModel}), ${f(machine.memoryGiB, 1)} GiB, Node ${machine.node}, ${pgVersion}`);
  log(`sizes: scale ${options.scale}; repeats ${options.repeat} (small scenarios), ${options.repeatBig} (1M fleet and rerun)`);
  if (options.nodeFlags.length > 0) log(`exporter runs with extra node flags: ${options.nodeFlags.join(' ')}`);

  const scenarios: ScenarioResult[] = [];
  let fleet: FleetOutcome | null = null;
  let small: ScenarioResult | null = null;
  let sweep: SweepPoint[] = [];
  let profile: FleetOutcome['profile'] = null;
  try {
    if (options.only.has('fleet')) {
      fleet = await fleetScenario(ctx);
      profile = fleet.profile;
    }
    if (options.only.has('skewed')) scenarios.push(await skewedScenario(ctx));
    if (options.only.has('tiny')) scenarios.push(await tinyScenario(ctx));
    if (options.only.has('memory') || options.only.has('sweep')) ({ small, sweep } = await memoryAndSweep(ctx));
    if (options.only.has('profile') && !profile) profile = await profileScaled(ctx);
  } finally {
    await Promise.allSettled(ctx.cleanups.map((c) => c()));
  }

  // ---- the table
  const rows: string[][] = [HEADER];
  const ordered: ScenarioResult[] = [];
  if (fleet) ordered.push(fleet.fleet);
  ordered.push(...scenarios.filter((s) => s.id === '2'), ...scenarios.filter((s) => s.id === '3'));
  if (fleet) ordered.push(fleet.rerun);
  if (small) ordered.push(small);
  for (const s of ordered) rows.push(scenarioRow(s));
  let memoryVerdict: string | null = null;
  if (fleet && small) {
    const big = medians(fleet.fleet.runs).rssMb;
    const ref = medians(small.runs).rssMb;
    const met = fleet.fleet.runs.every((r) => r.ok) && big <= 256 && big <= 1.2 * ref;
    rows.push(
      scenarioRow(fleet.fleet, {
        title: `memory: (1) at ${int.format(fleet.fleet.rows)} rows (= run 1)`,
        target: `≤ 256 MiB and ≤ 1.2 × 5a = ${f(1.2 * ref, 0)} MiB`,
        met,
      }).map((cell, i) => (i === 0 ? cell.replace(/^1 /, '5b ') : cell)),
    );
    memoryVerdict = `${f(big, 0)} MiB at ${int.format(fleet.fleet.rows)} rows vs ${f(ref, 0)} MiB at ${int.format(small.rows)} rows (×${f(big / ref)})`;
  }
  const table = textTable(rows);
  process.stdout.write(`\n${table}\n\n`);
  const details = ordered.map((s) => boundsDetail(s, options.latencyMs));
  for (const line of details) process.stdout.write(`${line}\n`);
  if (memoryVerdict) process.stdout.write(`- memory: ${memoryVerdict}\n`);

  // ---- where the machine's CPU went, run by run
  const cpuHeader = [
    'run',
    'wall s',
    'exporter CPU s',
    'simulator CPU s',
    'PostgreSQL CPU s',
    'machine busy s',
    'others s',
    'noise',
    'attempts',
    'all CPU ÷ cores s',
    'DB transactions',
    'PG work / io+lock / waits for exporter / idle',
  ];
  const allRuns = [...ordered.flatMap((s) => s.runs), ...sweep.map((p) => p.run)];
  const cpuRows = allRuns.map((r) => {
    const c = r.cpu;
    const known = c.exporterS + (c.simulatorS ?? 0) + (c.postgresS ?? 0);
    return [
      r.label,
      f(r.result.wallMs / 1000),
      f(c.exporterS),
      f(c.simulatorS ?? Number.NaN),
      f(c.postgresS ?? Number.NaN),
      f(c.machineBusyS ?? Number.NaN),
      f(c.machineBusyS === null ? Number.NaN : c.machineBusyS - known),
      r.noise === null ? '—' : `${f(100 * r.noise, 0)}%`,
      String(r.attempts),
      f(known / ctx.cores),
      int.format(r.tuples.after.xactCommit - r.tuples.before.xactCommit),
      activityShares(c.dbActivity),
    ];
  });
  const cpuMd = markdownTable(cpuHeader, cpuRows, (i) => i > 0);
  process.stdout.write(
    `\nCPU by process during each run ("others" = other processes on this shared machine; noise = others ÷ (wall × ${ctx.cores} cores); ` +
      `last column: share of 100 ms polls in which the run database's busiest backend was running a statement / waiting for I/O or a lock / ` +
      `in a transaction waiting for the exporter / idle):\n${cpuMd}\n`,
  );

  // ---- sweep table and plot
  let sweepMd = '';
  if (sweep.length > 0) {
    const sweepRows = sweep.map((p) => [
      String(p.concurrency),
      f(p.run.result.wallMs / 1000),
      f(p.run.result.cpuS),
      f(p.run.result.maxRssMb, 0),
      f(p.latencyBoundS),
      f(p.httpBoundS),
      f(p.dbBoundS),
      f(p.run.result.wallMs / 1000 / Math.max(p.httpBoundS, p.dbBoundS)),
      p.run.ok ? 'ok' : `PROBLEM: ${p.run.problem ?? ''}`,
    ]);
    const sweepHeader = ['concurrency', 'wall s', 'CPU s', 'peak RSS MiB', 'req×latency÷c s', 'HTTP bound s', 'DB bound s', 'ratio', 'check'];
    sweepMd = markdownTable(sweepHeader, sweepRows, (i) => i > 0 && i < 8);
    process.stdout.write(`\nWall time against concurrency (${int.format(small?.rows ?? sweep[0]?.run.ledger?.tasksFetched ?? 0)} rows):\n${sweepMd}\n`);
    const svg = sweepChart(sweep, { fleetTasks: options.fleetTasks, pageSize: options.pageSize, latencyMs: options.latencyMs }, machine, new Date());
    await writeFile(SVG_FILE, svg);
    log(`plot written to ${SVG_FILE}`);
  }

  // ---- profile
  let profileMd = '';
  if (profile) {
    for (const which of ['fleet', 'rerun'] as const) {
      const summary = profile[which];
      if (summary) profileMd += `\n#### CPU profile: ${which} run\n\n${formatSummary(summary)}\n`;
    }
    process.stdout.write(`\n${profileMd}\n`);
  }

  // ---- files
  const totalS = (performance.now() - benchStarted) / 1000;
  const md = [
    `# Benchmark results (${new Date().toISOString()})`,
    '',
    `Machine: ${machine.cpus} CPUs (${machine.cpuModel}), ${f(machine.memoryGiB, 1)} GiB RAM, Linux ${machine.kernel}; ` +
      `Node ${machine.node}; ${pgVersion}; PostgreSQL settings ${JSON.stringify(pgSettings)}; ` +
      `exporter source ${source}; ` +
      `exporter CPU and RSS by ${machine.measuredWith}.`,
    `Sizes: scale ${options.scale}; latency ${options.latencyMs} ms; concurrency ${options.concurrency}; page size ${options.pageSize}; ` +
      `medians of ${options.repeat} run(s) for 2, 3, 5a and ${options.repeatBig} for 1, 4, 5b. Whole benchmark: ${f(totalS / 60, 1)} min.` +
      (options.nodeFlags.length > 0 ? ` Exporter node flags: ${options.nodeFlags.join(' ')}.` : ''),
    '',
    markdownTable(HEADER, rows.slice(1), (i) => i > 0 && i < 12),
    '',
    ...details,
    ...(memoryVerdict ? [`- memory: ${memoryVerdict}`] : []),
    '',
    `CPU by process during each run ("others" = other processes on this shared machine; noise = others ÷ (wall × ${ctx.cores} cores); ` +
      `last column: share of 100 ms polls in which the run database's busiest backend was running a statement / waiting for I/O or a lock / ` +
      'in a transaction waiting for the exporter / idle):',
    '',
    cpuMd,
    '',
    ...(sweepMd ? ['Wall time against concurrency:', '', sweepMd, ''] : []),
    profileMd,
  ].join('\n');
  await mkdir(RESULTS_DIR, { recursive: true });
  await writeFile(join(RESULTS_DIR, 'last-run.md'), `${md}\n`);
  await writeFile(
    join(RESULTS_DIR, 'last-run.json'),
    `${JSON.stringify({ options: { ...options, only: [...options.only] }, machine, scenarios: ordered, sweep, profile, totalS }, null, 2)}\n`,
  );
  log(`results written to ${join(RESULTS_DIR, 'last-run.md')} (and .json); whole benchmark ${f(totalS / 60, 1)} min`);
  if (options.keep) log(`kept: ${workDir} (logs, configs) and the bench_* databases`);
  else await rm(workDir, { recursive: true, force: true });
}

await main();
