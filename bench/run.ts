/**
 * The benchmark (`npm run bench`; never part of `npm test`; bench/README.md): the real exporter
 * against the simulator and PostgreSQL, scenario by scenario (scenarios/index.ts), each compared
 * with bounds measured in the same run (bounds.ts). Options: options.ts (`--help`).
 */
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILD_DIR, log, type Context } from './context.js';
import { build, describeMachine, sourceState } from './environment.js';
import { f } from './format.js';
import { OptionError, parseCommand, usage, type Command, type Options } from './options.js';
import { replot } from './plot.js';
import { report } from './report.js';
import { SCENARIO_NAMES, SCENARIOS, wanted } from './scenarios/index.js';
import type { ScenarioOutput } from './scenarios/scenario.js';

async function main(): Promise<void> {
  const command = parse(process.argv.slice(2));
  if (command?.kind === 'help') process.stdout.write(`${usage(SCENARIO_NAMES)}\n`);
  else if (command?.kind === 'replot') await replot(command.file);
  else if (command?.kind === 'run') await runBenchmark(command.options);
}

/** Null (exit code 2, message and usage on stderr) when the command line is wrong. */
function parse(argv: readonly string[]): Command | null {
  try {
    return parseCommand(argv, process.env, [...SCENARIO_NAMES.keys()]);
  } catch (error) {
    if (!(error instanceof OptionError)) throw error;
    process.stderr.write(`bench: ${error.message}\n\n${usage(SCENARIO_NAMES)}\n`);
    process.exitCode = 2;
    return null;
  }
}

async function runBenchmark(options: Options): Promise<void> {
  const benchStarted = performance.now();
  const source = sourceState();
  if (options.build) build();
  log(`exporter source: ${source}${options.build ? '' : ' (now; --no-build reuses an earlier build)'}`);
  const cliJs = join(BUILD_DIR, 'src', 'cli.js');
  const simJs = join(BUILD_DIR, 'bench', 'simulator-process.js');
  const measureJs = join(BUILD_DIR, 'bench', 'measure-child.js');
  for (const file of [cliJs, simJs, measureJs]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run without --no-build`);
  }
  const workDir = join(tmpdir(), `dws-bench-${process.pid}`);
  await mkdir(workDir, { recursive: true });
  const ctx: Context = { options, cores: availableParallelism(), workDir, cliJs, simJs, measureJs, databaseClauses: '', cleanups: [] };
  const onSignal = (): void => {
    log('interrupted: stopping simulators');
    void Promise.allSettled(ctx.cleanups.map((c) => c())).then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const machine = await describeMachine(options.databaseUrl, source);
  log(`machine: ${machine.cpus} CPUs (${machine.cpuModel}), ${f(machine.memoryGiB, 1)} GiB, Node ${machine.node}, ${machine.postgres}`);
  log(`sizes: scale ${options.scale}; repeats ${options.repeat} (small scenarios), ${options.repeatBig} (1M fleet, its rerun and ICU)`);
  if (options.nodeFlags.length > 0) log(`exporter runs with extra node flags: ${options.nodeFlags.join(' ')}`);

  const outputs: ScenarioOutput[] = [];
  try {
    for (const scenario of SCENARIOS) if (wanted(scenario, options)) outputs.push(await scenario.run(ctx));
  } finally {
    await Promise.allSettled(ctx.cleanups.map((c) => c()));
  }
  await report(ctx, machine, outputs, benchStarted);
  if (options.keep) log(`kept: ${workDir} (logs, configs) and the bench_* databases`);
  else await rm(workDir, { recursive: true, force: true });
}

await main();
