/**
 * Where the exporter's CPU time goes, from a V8 .cpuprofile (node --cpu-prof): self time per function
 * and per area (package, node internal, src folder, GC), inclusive time of the exporter's functions.
 * Standalone: node --import tsx bench/cpuprofile-summary.ts FILE.cpuprofile [top]
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
  readonly columnNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface Entry {
  readonly key: string;
  readonly ms: number;
  readonly pct: number;
}

export interface ProfileSummary {
  /** Sampled time (idle excluded). */
  readonly busyMs: number;
  readonly idleMs: number;
  readonly byArea: readonly Entry[];
  readonly selfByFunction: readonly Entry[];
  /** Inclusive time of functions under src/ (each sample counted once per function on its stack). */
  readonly inclusiveSrc: readonly Entry[];
}

/** A frame's script as a reader wants it: package path, `src/…` or `bench/…` (also allocation-summary.ts). */
export function shortUrl(url: string): string {
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) return url.slice(nm + '/node_modules/'.length);
  const src = url.search(/\/(src|bench)\//);
  if (src >= 0) return url.slice(src + 1);
  return url.replace(/^file:\/\//, '');
}

/** Which part of the program a frame belongs to. */
export function areaOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') {
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(program)') return 'V8 / native (program)';
    if (functionName === '(idle)') return 'idle';
    return `builtin ${functionName || '(anonymous)'}`;
  }
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0] === 'internal' ? url.slice(5).split('/').slice(0, 2).join('/') : url.slice(5)}`;
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1] ?? ''}` : (rest[0] ?? url);
  }
  const src = url.search(/\/src\//);
  if (src >= 0) return url.slice(src + 1).replace(/\.(js|ts)$/, '');
  return shortUrl(url);
}

function functionKey(frame: CallFrame): string {
  const name = frame.functionName || '(anonymous)';
  return frame.url ? `${name} ${shortUrl(frame.url)}:${frame.lineNumber + 1}` : name;
}

function top(map: Map<string, number>, total: number, n: number): Entry[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([key, us]) => ({ key, ms: us / 1000, pct: total > 0 ? (100 * us) / total : 0 }));
}

export async function summarizeProfile(file: string, n = 25): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const selfUs = new Map<number, number>();
  // timeDeltas[i] is the time before sample i; attribute it to sample i's node (V8 / DevTools convention).
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] as number;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, profile.timeDeltas[i] ?? 0));
  }
  const area = new Map<string, number>();
  const fn = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const a = areaOf(node.callFrame);
    if (a === 'idle') {
      idle += us;
      continue;
    }
    busy += us;
    area.set(a, (area.get(a) ?? 0) + us);
    const k = functionKey(node.callFrame);
    fn.set(k, (fn.get(k) ?? 0) + us);
    // Inclusive time for the exporter's own functions on this node's stack, each once.
    const onStack = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const frame = byId.get(cur)?.callFrame;
      if (frame && /\/src\//.test(frame.url)) onStack.add(functionKey(frame));
    }
    for (const key of onStack) inclusive.set(key, (inclusive.get(key) ?? 0) + us);
  }
  return {
    busyMs: busy / 1000,
    idleMs: idle / 1000,
    byArea: top(area, busy, n),
    selfByFunction: top(fn, busy, n),
    inclusiveSrc: top(inclusive, busy, n),
  };
}

export function formatSummary(summary: ProfileSummary): string {
  const section = (title: string, entries: readonly Entry[]): string =>
    [
      `| ${title} | ms | % of busy |`,
      '|---|---:|---:|',
      ...entries.map((e) => `| \`${e.key.replaceAll('|', '\\|')}\` | ${e.ms.toFixed(0)} | ${e.pct.toFixed(1)} |`),
    ].join('\n');
  return [
    `Busy (sampled, not idle): ${summary.busyMs.toFixed(0)} ms; idle: ${summary.idleMs.toFixed(0)} ms.`,
    '',
    section('self time by area', summary.byArea),
    '',
    section('self time by function', summary.selfByFunction),
    '',
    section('inclusive time, exporter functions (src/)', summary.inclusiveSrc),
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: cpuprofile-summary.ts FILE.cpuprofile [top]\n');
    process.exitCode = 2;
  } else {
    process.stdout.write(`${formatSummary(await summarizeProfile(file, Number(process.argv[3] ?? 25)))}\n`);
  }
}
