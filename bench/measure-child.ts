/**
 * Fallback resource measurement for machines without GNU time: preloaded into
 * the exporter child (`node --import <this file as .js> …`), it writes the
 * process's own `process.resourceUsage()` at exit to $BENCH_MEASURE_FILE as
 * one JSON line: { maxRssKb, userUs, systemUs }. On this machine
 * /usr/bin/time is used instead (see bench/exporter-run.ts).
 */
import { writeFileSync } from 'node:fs';

const target = process.env.BENCH_MEASURE_FILE;
if (target) {
  process.on('exit', () => {
    const usage = process.resourceUsage();
    writeFileSync(
      target,
      `${JSON.stringify({ maxRssKb: usage.maxRSS, userUs: usage.userCPUTime, systemUs: usage.systemCPUTime })}\n`,
    );
  });
}
