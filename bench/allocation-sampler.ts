/**
 * Where the exporter allocates: preloaded into the bench's exporter runs
 * (`--node-flags=--import=./bench/.build/bench/allocation-sampler.js`), it runs V8's sampling heap profiler
 * for the whole process and writes `<label>.heapprofile` next to the run's config in the work directory
 * (`--keep` keeps it). With `?survivors` after the file name it leaves out what a scavenge collected: what
 * remains outlived the young generation (promoted, or alive at exit). Counting collected objects needs
 * V8 11.7 (Node 22 or later); on Node 20 only what is alive at exit is counted.
 * Summary: node --import tsx bench/allocation-summary.ts FILE.heapprofile
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { basename, dirname, join } from 'node:path';

const config = process.argv[process.argv.indexOf('--config') + 1];
if (config?.endsWith('.config.json')) {
  const target = join(dirname(config), `${basename(config, '.config.json')}.heapprofile`);
  const session = new Session();
  session.connect();
  session.post('HeapProfiler.enable');
  session.post('HeapProfiler.startSampling', {
    samplingInterval: 4096,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: new URL(import.meta.url).search !== '?survivors',
  });
  process.on('exit', () => {
    // A same-thread session answers synchronously, so the file is written before the process ends.
    session.post('HeapProfiler.stopSampling', (error, result) => {
      if (!error) writeFileSync(target, JSON.stringify(result.profile));
    });
  });
}
