/**
 * A one-line progress bar on stderr for people at a terminal (never in CI or
 * a pod). Log lines go through `sink` while it is shown: the bar is cleared,
 * the line written, the bar redrawn, so the two never interleave.
 */
import type pino from 'pino';
import { ConfigError, quoteBadValue } from '../core/errors.js';

const PROGRESS_SETTINGS: readonly string[] = ['on', 'off', '1', '0', 'true', 'false'];

export interface ProgressCounts {
  readonly clustersTotal: number;
  readonly clustersDone: number;
  /** Done clusters that failed or came back incomplete. */
  readonly clustersWithProblems: number;
  /** Task rows stored so far (inserted + updated + unchanged). */
  readonly rows: number;
  /** API requests sent so far (every attempt). */
  readonly requests: number;
}

/** The bar's text for counts at `elapsedMs` after the start; pure. */
export function renderProgressLine(counts: ProgressCounts, elapsedMs: number, width = 80): string {
  const { clustersTotal: total, clustersDone: done } = counts;
  const seconds = Math.max(elapsedMs / 1000, 0.001);
  const rate = counts.requests / seconds;
  const eta = done > 0 && done < total ? ((total - done) * elapsedMs) / done : null;
  const parts = [
    `${done}/${total} clusters`,
    ...(counts.clustersWithProblems > 0 ? [`${counts.clustersWithProblems} failed`] : []),
    `${NUMBER.format(counts.rows)} rows`,
    `${rate >= 10 ? Math.round(rate) : rate.toFixed(1)} req/s`,
    `ETA ${done >= total ? 'done' : eta === null ? '--:--' : formatDuration(eta)}`,
  ];
  const text = parts.join(' · ');
  const barWidth = Math.max(10, Math.min(30, width - text.length - 4));
  const filled = total === 0 ? barWidth : Math.round((done / total) * barWidth);
  const line = `[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}] ${text}`;
  return line.length > width - 1 ? line.slice(0, Math.max(0, width - 1)) : line;
}

const NUMBER = new Intl.NumberFormat('en-US');

/** m:ss or h:mm:ss. */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mmss = `${h > 0 ? String(m).padStart(2, '0') : m}:${String(s).padStart(2, '0')}`;
  return h > 0 ? `${h}:${mmss}` : mmss;
}

/** A terminal, and not CI, not a pod, not turned off; DWS_EXPORTER_PROGRESS=on forces it on a terminal. */
export function progressWanted(
  stream: { readonly isTTY?: boolean },
  env: Readonly<Record<string, string | undefined>> = process.env,
): boolean {
  const setting = env.DWS_EXPORTER_PROGRESS?.trim().toLowerCase();
  if (setting !== undefined && setting !== '' && !PROGRESS_SETTINGS.includes(setting)) {
    throw new ConfigError(
      `DWS_EXPORTER_PROGRESS must be one of ${PROGRESS_SETTINGS.join(', ')} (or unset: on at a terminal outside CI and pods), ${quoteBadValue(env.DWS_EXPORTER_PROGRESS ?? '')}`,
      'env',
    );
  }
  if (setting === 'off' || setting === '0' || setting === 'false') return false;
  if (stream.isTTY !== true) return false;
  if (setting === 'on' || setting === '1' || setting === 'true') return true;
  const set = (name: string): boolean => (env[name] ?? '') !== '' && env[name] !== 'false';
  return !set('CI') && !set('KUBERNETES_SERVICE_HOST') && env.TERM !== 'dumb';
}

/** Where the bar is drawn: process.stderr in production. */
export interface ProgressStream {
  write(text: string): unknown;
  readonly columns?: number;
}

export interface Progress {
  /** Whether a bar is drawn at all. */
  readonly enabled: boolean;
  /** For the logger: writes lines above the bar. */
  readonly sink: pino.DestinationStream;
  start(clustersTotal: number, requests: () => number): void;
  clusterDone(result: { readonly status: string; readonly rows: { readonly inserted: number; readonly updated: number; readonly unchanged: number } }): void;
  /** Removes the bar (the final summary follows on stdout). */
  stop(): void;
}

export function createProgress(
  stream: ProgressStream,
  enabled: boolean,
  options: { readonly intervalMs?: number; readonly now?: () => number } = {},
): Progress {
  const now = options.now ?? (() => performance.now());
  let started = 0;
  let requests: () => number = () => 0;
  let counts: ProgressCounts = { clustersTotal: 0, clustersDone: 0, clustersWithProblems: 0, rows: 0, requests: 0 };
  let shown = false;
  let running = false;
  let timer: NodeJS.Timeout | undefined;

  const clear = (): void => {
    if (shown) stream.write('\r\x1b[2K');
    shown = false;
  };
  const draw = (): void => {
    if (!enabled || !running) return;
    counts = { ...counts, requests: requests() };
    stream.write(`\r\x1b[2K${renderProgressLine(counts, now() - started, stream.columns ?? 80)}`);
    shown = true;
  };

  return {
    enabled,
    sink: {
      write(chunk: string): void {
        clear();
        stream.write(chunk);
        draw();
      },
    },
    start(clustersTotal, requestCount) {
      if (!enabled) return;
      started = now();
      running = true;
      requests = requestCount;
      counts = { ...counts, clustersTotal };
      draw();
      timer = setInterval(draw, options.intervalMs ?? 250);
      timer.unref();
    },
    clusterDone(result) {
      counts = {
        ...counts,
        clustersDone: counts.clustersDone + 1,
        clustersWithProblems: counts.clustersWithProblems + (result.status === 'succeeded' ? 0 : 1),
        rows: counts.rows + result.rows.inserted + result.rows.updated + result.rows.unchanged,
      };
      draw();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      running = false;
      clear();
    },
  };
}
