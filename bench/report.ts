/**
 * What a benchmark run prints and writes: the scenario table with its bounds detail, where the CPU
 * went, the sweep table and plot, the profile summary; bench/results/last-run.{md,json}.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { log, RESULTS_DIR, SVG_FILE, type Context } from './context.js';
import { formatSummary } from './cpuprofile-summary.js';
import type { Machine } from './environment.js';
import { f, int, markdownTable, textTable } from './format.js';
import { writePlot } from './plot.js';
import { boundsDetail, cpuIntro, cpuTable, SCENARIO_HEADER, SCENARIO_LEFT_COLUMNS, scenarioNumeric, scenarioRow, sweepTable } from './results-tables.js';
import type { ProfileOutcome, ScenarioOutput } from './scenarios/scenario.js';

export async function report(ctx: Context, machine: Machine, outputs: readonly ScenarioOutput[], benchStarted: number): Promise<void> {
  const { options } = ctx;
  const out = (text: string): boolean => process.stdout.write(text);
  const scenarios = outputs.flatMap((o) => o.results ?? []).sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
  const derived = outputs.flatMap((o) => o.derive?.(scenarios) ?? []);
  const rows = [...scenarios, ...derived.map((d) => d.result)].map(scenarioRow);
  out(`\n${textTable([SCENARIO_HEADER, ...rows], SCENARIO_LEFT_COLUMNS)}\n\n`);
  const details = [...scenarios.map((s) => boundsDetail(s, options.latencyMs)), ...derived.map((d) => `- ${d.detail}`)];
  for (const line of details) out(`${line}\n`);

  const sweep = outputs.find((o) => o.sweep && o.sweep.points.length > 0)?.sweep ?? null;
  const cpuMd = cpuTable([...scenarios.flatMap((s) => s.runs), ...(sweep?.points ?? []).map((p) => p.run)], ctx.cores);
  out(`\n${cpuIntro(ctx.cores)}\n${cpuMd}\n`);

  let sweepMd = '';
  if (sweep) {
    sweepMd = sweepTable(sweep.points);
    out(`\nWall time against concurrency (${int(sweep.rows)} rows):\n${sweepMd}\n`);
    await writePlot(sweep.points, options, machine, new Date());
    log(`plot written to ${SVG_FILE}`);
  }

  const profile = outputs.find((o) => o.profile)?.profile ?? null;
  const profileMd = profile ? profileSummary(profile) : '';
  if (profile) out(`\n${profileMd}\n`);

  const totalS = (performance.now() - benchStarted) / 1000;
  const md = [
    `# Benchmark results (${new Date().toISOString()})`,
    '',
    `Machine: ${machine.cpus} CPUs (${machine.cpuModel}), ${f(machine.memoryGiB, 1)} GiB RAM, Linux ${machine.kernel}; ` +
      `Node ${machine.node}; ${machine.postgres}; PostgreSQL settings ${JSON.stringify(machine.pgSettings)}; ` +
      `exporter source ${machine.source}; ` +
      `exporter CPU and RSS by ${machine.measuredWith}.`,
    `Sizes: scale ${options.scale}; latency ${options.latencyMs} ms; concurrency ${options.concurrency}; page size ${options.pageSize}; ` +
      `medians of ${options.repeat} run(s) for 2, 3, 5a and ${options.repeatBig} for 1, 4, 5b, 6. Whole benchmark: ${f(totalS / 60, 1)} min.` +
      (options.nodeFlags.length > 0 ? ` Exporter node flags: ${options.nodeFlags.join(' ')}.` : ''),
    '',
    markdownTable(SCENARIO_HEADER, rows, scenarioNumeric),
    '',
    ...details,
    '',
    cpuIntro(ctx.cores),
    '',
    cpuMd,
    '',
    ...(sweepMd ? ['Wall time against concurrency:', '', sweepMd, ''] : []),
    profileMd,
  ].join('\n');
  await mkdir(RESULTS_DIR, { recursive: true });
  await writeFile(join(RESULTS_DIR, 'last-run.md'), `${md}\n`);
  const json = { options: { ...options, only: [...options.only] }, machine, scenarios, sweep: sweep?.points ?? [], profile, totalS };
  await writeFile(join(RESULTS_DIR, 'last-run.json'), `${JSON.stringify(json, null, 2)}\n`);
  log(`results written to ${join(RESULTS_DIR, 'last-run.md')} (and .json); whole benchmark ${f(totalS / 60, 1)} min`);
}

function profileSummary(profile: ProfileOutcome): string {
  let md = '';
  for (const which of ['fleet', 'rerun'] as const) {
    const summary = profile[which];
    if (summary) md += `\n#### CPU profile: ${which} run\n\n${formatSummary(summary)}\n`;
  }
  return md;
}
