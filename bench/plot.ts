/** The plot bench/wall-vs-concurrency.svg: wall time against concurrency, with bounds and CPU floors. */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { log, SVG_FILE } from './context.js';
import { int } from './format.js';
import type { SweepPoint } from './scenarios/scenario.js';
import { lineChartSvg } from './svg-plot.js';

/** What the chart's subtitle and notes say about the run (a subset of last-run.json's `options`). */
export interface PlotSizes {
  readonly fleetTasks: number;
  readonly pageSize: number;
  readonly latencyMs: number;
}

/** A subset of last-run.json's `machine`. */
export interface PlotMachine {
  readonly cpus: number;
  readonly node: string;
  readonly postgres: string;
}

export function sweepChart(sweep: readonly SweepPoint[], sizes: PlotSizes, machine: PlotMachine, date: Date): string {
  const rows = sweep[0]?.run.ledger?.tasksFetched ?? 0;
  const cores = machine.cpus;
  return lineChartSvg({
    title: 'dws-task-exporter: wall time against concurrency',
    subtitle:
      `${int(rows)} tasks (${int(Math.round(rows / sizes.fleetTasks))} clusters × ${int(sizes.fleetTasks)}), ` +
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

export async function writePlot(sweep: readonly SweepPoint[], sizes: PlotSizes, machine: PlotMachine, date: Date): Promise<void> {
  await writeFile(SVG_FILE, sweepChart(sweep, sizes, machine, date));
}

/** `--replot FILE.json`: redraw the plot from a saved last-run.json (dated by the file's mtime). */
export async function replot(file: string): Promise<void> {
  const saved = JSON.parse(await readFile(file, 'utf8')) as { options: PlotSizes; machine: PlotMachine; sweep: SweepPoint[] };
  await writePlot(saved.sweep, saved.options, saved.machine, (await stat(file)).mtime);
  log(`plot written to ${SVG_FILE} from ${file}`);
}
