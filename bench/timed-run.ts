/**
 * One exporter run with everything measured around it: the simulator's, PostgreSQL's and the whole
 * machine's CPU, the run database's statistics, the ledger, and the checks that make it count.
 */
import { freshDatabase, log, TOKEN, type Context } from './context.js';
import { f, int, median, pct } from './format.js';
import { runExporter, type ExporterRunResult } from './exporter-run.js';
import { leastNoisy, othersShare } from './least-noisy.js';
import { checkpoint, countTasks, lastRun, settledTupleStats, type LedgerRun, type TupleStats } from './pg-util.js';
import { machineBusySeconds, PostgresCpuTracker, processCpuSeconds, waitForQuiet, type DbActivity } from './proc-cpu.js';
import type { SimulatorHandle } from './simulator-control.js';
import type { SimulatorStatsReply } from './simulator-process.js';

/** CPU seconds spent by each process during one exporter run (null where /proc cannot tell). */
export interface CpuBreakdown {
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

export interface RunRecord {
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

export interface RunSpec {
  readonly label: string;
  readonly sim: SimulatorHandle;
  readonly databaseUrl: string;
  readonly concurrency: number;
  /** Rows the fleet holds: the run must fetch and leave exactly these. */
  readonly expectRows: number;
  /** A fresh database must also have had every row inserted. */
  readonly freshDatabase: boolean;
  /** Extra node flags for this run only (e.g. --cpu-prof). */
  readonly nodeFlags?: readonly string[];
}

export async function exporterRun(ctx: Context, spec: RunSpec): Promise<RunRecord> {
  const { options } = ctx;
  const { label, sim, databaseUrl, expectRows } = spec;
  await sim.stats(); // reset the simulator's counters
  const statsBefore = await settledTupleStats(databaseUrl);
  await checkpoint(options.databaseUrl);
  const quiet = await waitForQuiet(options.quietWaitMs, ctx.cores);
  const database = new URL(databaseUrl).pathname.slice(1);
  const pgTracker = await PostgresCpuTracker.start(options.databaseUrl, database);
  const before = { machine: machineBusySeconds(), sim: processCpuSeconds(sim.pid) };
  const result = await runExporter({
    cliJs: ctx.cliJs,
    measureChildJs: ctx.measureJs,
    workDir: ctx.workDir,
    label,
    databaseUrl,
    token: TOKEN,
    config: { endpoint: sim.ready.url, projects: sim.ready.projects, concurrency: spec.concurrency, pageSize: options.pageSize },
    timeoutMs: options.timeoutMs,
    logLevel: options.logLevel,
    nodeFlags: [...options.nodeFlags, ...(spec.nodeFlags ?? [])],
  });
  const after = { machine: machineBusySeconds(), sim: processCpuSeconds(sim.pid) };
  const pgCpu = pgTracker ? await pgTracker.stop() : null;
  const delta = (a: number | null, b: number | null): number | null => (a === null || b === null ? null : b - a);
  const cpu: CpuBreakdown = {
    exporterS: result.cpuS,
    simulatorS: delta(before.sim, after.sim),
    postgresS: pgCpu,
    machineBusyS: delta(before.machine, after.machine),
    busyShareBefore: quiet.busyShare,
    quietWaitMs: quiet.waitedMs,
    dbActivity: pgTracker ? { ...pgTracker.activity } : null,
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
  if (spec.freshDatabase && ledger && ledger.rowsInserted !== expectRows) problems.push(`${ledger.rowsInserted} inserted`);
  const ok = problems.length === 0;
  log(
    `${label}: ${ok ? 'ok' : `PROBLEM: ${problems.join('; ')}`} — wall ${f(result.wallMs / 1000)} s, ` +
      `CPU ${f(result.cpuS)} s, peak RSS ${f(result.maxRssMb, 0)} MiB, ${int(ledger?.apiRequests ?? 0)} requests ` +
      `(simulator saw ${int(simulator.requests)}, max ${simulator.maxInFlight} in flight), ` +
      `in-process run ${f((ledger?.ledgerMs ?? Number.NaN) / 1000)} s; CPU of simulator ${f(cpu.simulatorS ?? Number.NaN)} s, ` +
      `PostgreSQL ${f(cpu.postgresS ?? Number.NaN)} s, whole machine ${f(cpu.machineBusyS ?? Number.NaN)} s` +
      ` (machine ${pct(quiet.busyShare)}% busy before, waited ${f(quiet.waitedMs / 1000, 1)} s); ` +
      `${int(statsAfter.xactCommit - statsBefore.xactCommit)} transactions committed in its database`,
  );
  const known = cpu.exporterS + (cpu.simulatorS ?? 0) + (cpu.postgresS ?? 0);
  const noise = othersShare(cpu.machineBusyS, known, result.wallMs / 1000, ctx.cores);
  return { label, result, ledger, stored, simulator, ok, problem: ok ? null : problems.join('; '), cpu, noise, attempts: 1, tuples };
}

/** `n` exporter runs (`label-1` …), each on a fresh database of its own and repeated while disturbed. */
export async function freshRuns(
  ctx: Context,
  label: string,
  sim: SimulatorHandle,
  concurrency: number,
  expectRows: number,
  n: number,
): Promise<RunRecord[]> {
  const runs: RunRecord[] = [];
  for (let i = 1; i <= n; i++) runs.push(await freshRun(ctx, `${label}-${i}`, sim, concurrency, expectRows));
  return runs;
}

/** An exporter run on a fresh database of its own, repeated while disturbed. */
export async function freshRun(ctx: Context, label: string, sim: SimulatorHandle, concurrency: number, expectRows: number): Promise<RunRecord> {
  const { value, attempts } = await leastNoisy(
    ctx,
    label,
    async (n) => {
      const db = await freshDatabase(ctx, label);
      try {
        const name = n === 1 ? label : `${label}-try${n}`;
        return await exporterRun(ctx, { label: name, sim, databaseUrl: db.url, concurrency, expectRows, freshDatabase: true });
      } finally {
        await db.drop();
      }
    },
    (r) => r.noise,
  );
  return { ...value, label, attempts };
}

export interface Medians {
  readonly wallS: number;
  readonly cpuS: number;
  readonly rssMb: number;
  readonly requests: number;
  readonly ledgerS: number;
}

export function medians(runs: readonly RunRecord[]): Medians {
  return {
    wallS: median(runs.map((r) => r.result.wallMs / 1000)),
    cpuS: median(runs.map((r) => r.result.cpuS)),
    rssMb: median(runs.map((r) => r.result.maxRssMb)),
    requests: median(runs.map((r) => r.ledger?.apiRequests ?? Number.NaN)),
    ledgerS: median(runs.map((r) => (r.ledger?.ledgerMs ?? Number.NaN) / 1000)),
  };
}
