/** What a run is measured on: the exporter build (bench/.build), its source state, the machine. */
import { spawnSync } from 'node:child_process';
import { cpus, freemem, release, totalmem, availableParallelism } from 'node:os';
import { join } from 'node:path';
import { BENCH_DIR, log, ROOT } from './context.js';
import { hasGnuTime } from './exporter-run.js';
import { f } from './format.js';
import { serverSettings, serverVersion } from './pg-util.js';

/** The commit and how many files differ from it, when the benchmark built the exporter. */
export function sourceState(): string {
  const git = (...args: string[]): string => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' }).stdout?.trim() ?? '';
  const head = git('rev-parse', '--short', 'HEAD');
  if (!head) return 'not a git checkout';
  const dirty = git('status', '--porcelain', '--', 'src', 'migrations', 'package.json', 'package-lock.json')
    .split('\n')
    .filter(Boolean).length;
  return dirty ? `${head} + ${dirty} changed file(s) under src/ migrations/ package*.json` : `${head} (clean)`;
}

/** src/ and the bench's child-process scripts into bench/.build (not timed). */
export function build(): void {
  const started = performance.now();
  log(`building src/ and the bench's child scripts into bench/.build (tsc -p bench/tsconfig.build.json), not timed`);
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

export interface Machine {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly freeGiB: number;
  readonly kernel: string;
  readonly node: string;
  readonly postgres: string;
  readonly pgSettings: Record<string, string>;
  readonly source: string;
  readonly measuredWith: string;
}

export async function describeMachine(databaseUrl: string, source: string): Promise<Machine> {
  return {
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: totalmem() / 2 ** 30,
    freeGiB: freemem() / 2 ** 30,
    kernel: release(),
    node: process.version,
    postgres: await serverVersion(databaseUrl),
    pgSettings: await serverSettings(databaseUrl),
    source,
    measuredWith: hasGnuTime() ? 'GNU time (/usr/bin/time -f "%e %U %S %M")' : 'process.resourceUsage() preload',
  };
}
