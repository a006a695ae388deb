/**
 * What the identity rule's state costs the garbage collector, isolated from HTTP and PostgreSQL:
 * 1,000 clusters of 1,000 stored tasks, 32 TaskIdentities alive at once (32 walks in flight), and
 * ~2 MB of short-lived garbage per cluster (its 11 pages) so that scavenges come at a rerun's rate.
 *
 *   node --import tsx --trace-gc-nvp bench/identity-promotion.ts keep | node --import tsx bench/identity-promotion.ts --sum
 *
 * Modes: `none` (pages only), `build` (each cluster's identities built and dropped at once), `keep`
 * (kept as long as 32 later clusters take). keep − none is what the walking clusters' state promotes.
 */
import { createInterface } from 'node:readline';
import { TaskIdentities, type StoredTask } from '../src/transform/task-identity.js';
import { naturalKey } from '../src/transform/task-row.js';

const CLUSTERS = 1000;
const TASKS = 1000;
const IN_FLIGHT = 32;

/** Stored tasks as stored-tasks.ts yields them: one object per task, made as the rule takes it. */
function* storedTasks(cluster: number): Generator<StoredTask> {
  for (let i = 0; i < TASKS; i++) {
    const day = String(1 + (i % 28)).padStart(2, '0');
    const startTimeRaw = `2026-11-${day}T${String(i % 24).padStart(2, '0')}:${String(cluster % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z`;
    yield {
      key: naturalKey({ logicalClusterName: `lc-${cluster % 7}`, taskType: `RESIZE-${i}`, startTimeRaw }),
      occurrence: 1,
      fingerprint: 4503599627370495 - i * 7919,
      running: false,
      flagged: false,
    };
  }
}

/** Eleven pages of 100 tasks, parsed and dropped. */
function pageGarbage(): number {
  let tasks = 0;
  for (let page = 0; page < 11; page++) {
    const body = JSON.stringify(Array.from({ length: 100 }, (_, i) => ({ type: 'RESIZE', log: `${'x'.repeat(100)}${i}` })));
    tasks += (JSON.parse(body) as unknown[]).length;
  }
  return tasks;
}

async function run(mode: string): Promise<void> {
  const walking: TaskIdentities[] = [];
  let seen = 0;
  for (let cluster = 0; cluster < CLUSTERS; cluster++) {
    if (mode === 'keep') {
      walking.push(new TaskIdentities(storedTasks(cluster)));
      if (walking.length > IN_FLIGHT) walking.shift();
    } else if (mode === 'build') seen += new TaskIdentities(storedTasks(cluster)).distinct;
    seen += pageGarbage();
    if (cluster % IN_FLIGHT === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  process.stderr.write(`${mode}: ${CLUSTERS} clusters, ${seen} page tasks\n`);
}

/** Sums --trace-gc-nvp lines from stdin: scavenges, their pauses, bytes promoted and allocated. */
async function sum(): Promise<void> {
  let scavenges = 0;
  let pauseMs = 0;
  let promoted = 0;
  let allocated = 0;
  for await (const line of createInterface({ input: process.stdin })) {
    const fields = new Map(line.split(/\s+/).map((pair) => pair.split('=') as [string, string]));
    if (!fields.has('pause')) continue;
    promoted += Number(fields.get('promoted') ?? 0);
    allocated += Number(fields.get('allocated') ?? 0);
    if (fields.get('gc') === 's') {
      scavenges += 1;
      pauseMs += Number(fields.get('pause'));
    }
  }
  const mb = (bytes: number): string => (bytes / 1e6).toFixed(0);
  process.stdout.write(`${scavenges} scavenges, ${pauseMs.toFixed(0)} ms paused; promoted ${mb(promoted)} MB of ${mb(allocated)} MB allocated\n`);
}

const arg = process.argv[2] ?? 'keep';
if (arg === '--sum') await sum();
else if (['none', 'build', 'keep'].includes(arg)) await run(arg);
else {
  process.stderr.write(`usage: identity-promotion.ts none|build|keep, or --sum to read --trace-gc-nvp output\n`);
  process.exitCode = 2;
}
