/** The progress bar: what it shows, when it shows, and that log lines never mix with it. */
import { describe, expect, it } from 'vitest';
import { createProgress, formatDuration, progressWanted, renderProgressLine } from '../../../src/report/progress.js';

const rows = (n: number) => ({ inserted: n, updated: 0, unchanged: 0 });

describe('renderProgressLine', () => {
  it('shows clusters done/total, failures, rows, requests per second and the ETA', () => {
    const line = renderProgressLine({ clustersTotal: 40, clustersDone: 10, clustersWithProblems: 2, rows: 12_345, requests: 500 }, 20_000, 120);
    expect(line).toBe('[########......................] 10/40 clusters · 2 failed · 12,345 rows · 25 req/s · ETA 1:00');
  });

  it('says it cannot tell the ETA before the first cluster is done, and leaves out failures when there are none', () => {
    const line = renderProgressLine({ clustersTotal: 3, clustersDone: 0, clustersWithProblems: 0, rows: 0, requests: 3 }, 2000, 120);
    expect(line).toContain('0/3 clusters · 0 rows · 1.5 req/s · ETA --:--');
    expect(line).not.toContain('failed');
  });

  it('reports done at the end', () => {
    expect(renderProgressLine({ clustersTotal: 2, clustersDone: 2, clustersWithProblems: 0, rows: 9, requests: 4 }, 1000, 120)).toMatch(
      /^\[#+\] 2\/2 clusters .* ETA done$/,
    );
  });

  it('fits the terminal width', () => {
    const line = renderProgressLine({ clustersTotal: 1000, clustersDone: 1, clustersWithProblems: 999, rows: 1e9, requests: 1e6 }, 1000, 40);
    expect(line.length).toBeLessThanOrEqual(39);
  });

  it('formats durations as m:ss or h:mm:ss', () => {
    expect(formatDuration(0)).toBe('0:00');
    expect(formatDuration(61_000)).toBe('1:01');
    expect(formatDuration(3_725_000)).toBe('1:02:05');
  });
});

describe('progressWanted', () => {
  it('draws only on a terminal outside CI and pods, unless turned off', () => {
    expect(progressWanted({ isTTY: true }, { TERM: 'xterm-256color' })).toBe(true);
    expect(progressWanted({ isTTY: false }, {})).toBe(false);
    expect(progressWanted({ isTTY: true }, { CI: 'true' })).toBe(false);
    expect(progressWanted({ isTTY: true }, { KUBERNETES_SERVICE_HOST: '10.0.0.1' })).toBe(false);
    expect(progressWanted({ isTTY: true }, { TERM: 'dumb' })).toBe(false);
    expect(progressWanted({ isTTY: true }, { DWS_EXPORTER_PROGRESS: 'off' })).toBe(false);
    expect(progressWanted({ isTTY: true }, { CI: 'true', DWS_EXPORTER_PROGRESS: 'on' })).toBe(true);
    // Never on a pipe, even when asked: the bar's control characters would garble a log file.
    expect(progressWanted({ isTTY: false }, { DWS_EXPORTER_PROGRESS: 'on' })).toBe(false);
  });

  it('refuses a DWS_EXPORTER_PROGRESS it does not understand, naming the variable, on a terminal or not', () => {
    for (const isTTY of [true, false]) {
      expect(() => progressWanted({ isTTY }, { DWS_EXPORTER_PROGRESS: 'maybe' })).toThrow(/^env: DWS_EXPORTER_PROGRESS must be one of on, off, 1, 0, true, false .*not "maybe"$/);
    }
    expect(progressWanted({ isTTY: true }, { DWS_EXPORTER_PROGRESS: 'OFF' })).toBe(false);
  });
});

describe('createProgress', () => {
  function terminal(): { writes: string[]; stream: { write(text: string): boolean; columns: number } } {
    const writes: string[] = [];
    return { writes, stream: { write: (text: string) => writes.push(text) > 0, columns: 100 } };
  }

  it('redraws the bar as clusters finish and clears it before each log line', () => {
    const { writes, stream } = terminal();
    let clock = 0;
    const progress = createProgress(stream, true, { now: () => clock, intervalMs: 3_600_000 });
    progress.start(2, () => 10);
    clock = 1000;
    progress.clusterDone({ status: 'succeeded', rows: rows(5) });
    progress.sink.write('{"msg":"cluster exported"}\n');
    progress.clusterDone({ status: 'failed', rows: rows(0) });
    progress.stop();
    expect(writes[0]).toMatch(/^\r\x1b\[2K\[\.+\] 0\/2 clusters/);
    expect(writes[1]).toMatch(/1\/2 clusters · 5 rows · 10 req\/s · ETA 0:01$/);
    // Log line: clear, line, bar again.
    expect(writes.slice(2, 5)).toEqual(['\r\x1b[2K', '{"msg":"cluster exported"}\n', expect.stringMatching(/1\/2 clusters/)]);
    expect(writes[5]).toMatch(/2\/2 clusters · 1 failed · 5 rows .* ETA done$/);
    expect(writes.at(-1)).toBe('\r\x1b[2K');
  });

  it('writes nothing but the log lines when disabled', () => {
    const { writes, stream } = terminal();
    const progress = createProgress(stream, false);
    progress.start(3, () => 0);
    progress.clusterDone({ status: 'succeeded', rows: rows(1) });
    progress.sink.write('line\n');
    progress.stop();
    expect(writes).toEqual(['line\n']);
    expect(progress.enabled).toBe(false);
  });
});
