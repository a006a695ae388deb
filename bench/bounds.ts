/**
 * The bounds a scenario is compared with, measured in the same run on the same machine: the HTTP
 * bound (requests × latency ÷ concurrency, and requests ÷ the simulator's own maximum throughput)
 * and the DB bound (COPY + one INSERT … ON CONFLICT of exactly the scenario's rows, db-bound.ts).
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { freshDatabase, log, TOKEN, type Context } from './context.js';
import { measureDbBound, type DbBoundResult } from './db-bound.js';
import { f, int, median, pct } from './format.js';
import { leastNoisy, othersShare } from './least-noisy.js';
import { checkpoint, type BenchDatabase } from './pg-util.js';
import { machineBusySeconds, PostgresCpuTracker, processCpuSeconds, waitForQuiet } from './proc-cpu.js';
import { probeSimulator, type ProbeResult, type SimulatorHandle } from './simulator-control.js';

export interface Bounds {
  readonly minRequests: number;
  readonly latencyBoundS: number;
  readonly throughputBoundS: number;
  readonly httpBoundS: number;
  readonly db: DbBoundResult | null;
  readonly dbRerun: DbBoundResult | null;
  readonly dbBoundS: number;
  readonly dbRerunBoundS: number;
  /** Each DB bound sample, in the order taken (the median is dbBoundS). */
  readonly dbSamplesS: readonly number[];
  readonly dbRerunSamplesS: readonly number[];
  readonly probe: ProbeResult;
  /** The same trivial client against the scenario's simulator, latency included. */
  readonly paced: ProbeResult;
  /** minRequests at the paced client's rate: what the API side takes with no client cost at all. */
  readonly pacedFloorS: number;
}

/** Requests a cluster's tasks need at least: one per page, one for an empty cluster. */
export function pagesFor(tasks: number, pageSize: number): number {
  return Math.max(1, Math.ceil(tasks / pageSize));
}

/** requests × latency ÷ concurrency, in seconds. */
export function latencyBound(requests: number, latencyMs: number, concurrency: number): number {
  return (requests * latencyMs) / 1000 / concurrency;
}

/**
 * Both bounds for the fleet `sim` serves; the DB bound `repeats` times (median), and with
 * `withRerun` also the same rows again into the full table (the rerun's DB bound).
 */
export async function measureBounds(
  ctx: Context,
  label: string,
  sim: SimulatorHandle,
  concurrency: number,
  repeats: number,
  withRerun: boolean,
): Promise<Bounds> {
  const sampler = await startBounds(ctx, label, sim, concurrency, withRerun);
  for (let i = 0; i < repeats; i++) await sampler.sample();
  return sampler.finish();
}

/** A scenario's bounds, their DB samples taken one at a time: between exporter runs, so that drift hits both alike. */
export interface BoundsSampler {
  /** One DB bound sample (and the rerun's, with `withRerun`), least disturbed attempt. */
  sample(): Promise<void>;
  /** The bounds, DB bounds the median of the samples taken; removes the COPY file. */
  finish(): Promise<Bounds>;
}

/** The HTTP probes now, and the scenario's rows written as COPY text for the DB samples to come. */
export async function startBounds(
  ctx: Context,
  label: string,
  sim: SimulatorHandle,
  concurrency: number,
  withRerun: boolean,
): Promise<BoundsSampler> {
  const { options } = ctx;
  const minRequests = sim.ready.taskCounts.reduce((sum, n) => sum + pagesFor(n, options.pageSize), 0);
  const probe = await probeThroughput(ctx, label, sim, concurrency, false);
  const paced = await probeThroughput(ctx, label, sim, concurrency, true);
  const file = join(ctx.workDir, `${label}.copy`);
  // Hundreds of MiB that must not outlive the benchmark, also when a run in between fails.
  const removeFile = (): Promise<void> => rm(file, { force: true });
  ctx.cleanups.push(removeFile);
  const dumped = await sim.dump(file);
  log(`${label}: ${int(dumped.rows)} rows written as COPY text (${f(dumped.bytes / 2 ** 20, 0)} MiB) for the DB bound`);
  const firsts: DbBoundResult[] = [];
  const seconds: DbBoundResult[] = [];
  return {
    async sample() {
      const { first, second } = await dbBound(ctx, label, file, withRerun);
      firsts.push(first);
      if (second) seconds.push(second);
    },
    async finish() {
      await removeFile();
      const latencyBoundS = latencyBound(minRequests, options.latencyMs, concurrency);
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
        dbSamplesS: firsts.map((r) => r.totalMs / 1000),
        dbRerunSamplesS: seconds.map((r) => r.totalMs / 1000),
        probe,
        paced,
        pacedFloorS: minRequests / paced.requestsPerSecond,
      };
    },
  };
}

/**
 * A trivial client's throughput, least disturbed attempt: against the zero-latency twin (the
 * simulator's maximum), or `atLatency` against the scenario's simulator (the API side's own pace).
 */
async function probeThroughput(
  ctx: Context,
  label: string,
  sim: SimulatorHandle,
  concurrency: number,
  atLatency: boolean,
): Promise<ProbeResult> {
  const { options } = ctx;
  const warmupSeconds = Math.min(1, options.probeSeconds / 2);
  const what = atLatency ? `trivial client at ${options.latencyMs} ms latency` : 'simulator max throughput';
  const { value } = await leastNoisy(
    ctx,
    `${label}: ${what}`,
    async () => {
      await waitForQuiet(options.quietWaitMs, ctx.cores);
      const machine0 = machineBusySeconds();
      const sim0 = processCpuSeconds(sim.pid);
      const self0 = process.cpuUsage();
      const result = await probeSimulator(sim.ready, TOKEN, {
        seconds: options.probeSeconds,
        warmupSeconds,
        maxRequests: 500_000,
        connections: concurrency,
        pageSize: options.pageSize,
        atLatency,
      });
      const self = process.cpuUsage(self0);
      const machine1 = machineBusySeconds();
      const sim1 = processCpuSeconds(sim.pid);
      // Includes the warm-up: measured around the whole probe, compared with its whole duration.
      const busy = machine0 === null || machine1 === null || sim0 === null || sim1 === null ? null : machine1 - machine0;
      const noise = othersShare(busy, (sim1 ?? 0) - (sim0 ?? 0) + (self.user + self.system) / 1e6, result.seconds + warmupSeconds, ctx.cores);
      log(
        `${label}: ${what} ${int(result.requestsPerSecond)} req/s (${atLatency ? '' : 'trivial client, '}${concurrency} connections, ` +
          `${result.errors} errors; others ${pct(noise)}% of the machine)`,
      );
      return { ...result, noise };
    },
    (r) => r.noise,
  );
  return value;
}

interface TimedBound {
  readonly r: DbBoundResult;
  readonly pgCpu: number | null;
  readonly noise: number | null;
}

/** One DB bound on a fresh database (and the rerun's, into the then full table), least disturbed attempt. */
async function dbBound(
  ctx: Context,
  label: string,
  file: string,
  withRerun: boolean,
): Promise<{ readonly first: DbBoundResult; readonly second: DbBoundResult | null }> {
  const { value } = await leastNoisy(
    ctx,
    `${label}: DB bound`,
    async () => {
      const db = await freshDatabase(ctx, `${label}_dbbound`, false);
      try {
        const first = await timedCopyInsert(ctx, db, file);
        const second = withRerun ? await timedCopyInsert(ctx, db, file) : null;
        let line =
          `${label}: DB bound ${f(first.r.totalMs / 1000)} s (COPY ${f(first.r.copyMs / 1000)} s, INSERT ${f(first.r.insertMs / 1000)} s, ` +
          `COMMIT ${f(first.r.commitMs / 1000)} s; PostgreSQL CPU ${f(first.pgCpu ?? Number.NaN)} s; ` +
          `others ${pct(first.noise)}% of the machine)`;
        if (second) {
          line +=
            `; same rows again into the full table ${f(second.r.totalMs / 1000)} s (${second.r.rows} rows written; ` +
            `PostgreSQL CPU ${f(second.pgCpu ?? Number.NaN)} s; others ${pct(second.noise)}%)`;
        }
        log(line);
        return { first, second };
      } finally {
        await db.drop();
      }
    },
    (v) => Math.max(v.first.noise ?? 0, v.second?.noise ?? 0),
  );
  return { first: value.first.r, second: value.second?.r ?? null };
}

/** One timed COPY + INSERT, with the PostgreSQL CPU it took and how disturbed it was. */
async function timedCopyInsert(ctx: Context, db: BenchDatabase, file: string): Promise<TimedBound> {
  const { options } = ctx;
  await checkpoint(options.databaseUrl);
  await waitForQuiet(options.quietWaitMs, ctx.cores);
  const tracker = await PostgresCpuTracker.start(options.databaseUrl, db.name);
  const machine0 = machineBusySeconds();
  const self0 = process.cpuUsage();
  const r = await measureDbBound(db.url, file);
  const self = process.cpuUsage(self0);
  const machine1 = machineBusySeconds();
  const pgCpu = tracker ? await tracker.stop() : null;
  const busy = machine0 === null || machine1 === null ? null : machine1 - machine0;
  const noise = othersShare(busy, (pgCpu ?? 0) + (self.user + self.system) / 1e6, r.totalMs / 1000, ctx.cores);
  return { r, pgCpu, noise };
}
