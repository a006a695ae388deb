/**
 * Resource measurement without GNU time: preloaded into the exporter child (`node --import <this, built>`),
 * it writes `process.resourceUsage()` at exit to $BENCH_MEASURE_FILE as one JSON line
 * { maxRssKb, userUs, systemUs }. With /usr/bin/time present, exporter-run.ts uses that instead.
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
