/** What every part of a benchmark run is given (the parsed options, paths, cores), and its log. */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Options } from './options.js';
import { createBenchDatabase, type BenchDatabase } from './pg-util.js';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(BENCH_DIR, '..');
export const BUILD_DIR = join(BENCH_DIR, '.build');
export const RESULTS_DIR = join(BENCH_DIR, 'results');
export const PROFILES_DIR = join(BENCH_DIR, '.profiles');
export const SVG_FILE = join(BENCH_DIR, 'wall-vs-concurrency.svg');
/** The simulator requires it; the exporter sends it (DWS_AUTH_TOKEN). */
export const TOKEN = 'bench-iam-token';

export interface Context {
  readonly options: Options;
  readonly cores: number;
  /** Per-run scratch directory: configs, logs, COPY files, raw profiles. */
  readonly workDir: string;
  /** The built exporter CLI and the bench's child-process scripts (bench/.build). */
  readonly cliJs: string;
  readonly simJs: string;
  readonly measureJs: string;
  /**
   * Extra CREATE DATABASE clauses for every database the bench creates ('' by default); a scenario
   * passes `{ ...ctx, databaseClauses: "TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'" }` on.
   */
  readonly databaseClauses: string;
  /** What an interrupt must stop (simulators); each scenario also stops its own. */
  readonly cleanups: (() => Promise<void>)[];
}

export function log(line: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

/** A fresh, migrated database for one measurement (kept with --keep unless `keep` says otherwise). */
export function freshDatabase(ctx: Context, label: string, keep = ctx.options.keep): Promise<BenchDatabase> {
  return createBenchDatabase(ctx.options.databaseUrl, label, keep, ctx.databaseClauses);
}
