/**
 * Bytes allocated per function, from a sampling heap profile (allocation-sampler.ts): self (the function
 * that allocated) and inclusive (every function on the stack, once per sample). Standalone:
 * node --import tsx bench/allocation-summary.ts FILE.heapprofile [top]
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { shortUrl } from './cpuprofile-summary.js';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children: readonly ProfileNode[];
}

interface HeapProfile {
  readonly head: ProfileNode;
  readonly samples: readonly { readonly size: number; readonly nodeId: number }[];
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  return `${functionName || '(anonymous)'}${url ? ` ${shortUrl(url)}:${lineNumber + 1}` : ''}`;
}

export function summarise(profile: HeapProfile, n = 20): string {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  const visit = (node: ProfileNode): void => {
    byId.set(node.id, node);
    for (const child of node.children) {
      parent.set(child.id, node.id);
      visit(child);
    }
  };
  visit(profile.head);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let total = 0;
  for (const { size, nodeId } of profile.samples) {
    total += size;
    const seen = new Set<string>();
    for (let id: number | undefined = nodeId; id !== undefined; id = parent.get(id)) {
      const key = label(byId.get(id) as ProfileNode);
      if (id === nodeId) self.set(key, (self.get(key) ?? 0) + size);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + size);
    }
  }
  const table = (title: string, map: Map<string, number>): string[] => [
    `| ${title} | MB | % |`,
    '|---|---:|---:|',
    ...[...map]
      .filter(([key]) => key !== '(root)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([key, bytes]) => `| \`${key}\` | ${(bytes / 1e6).toFixed(1)} | ${((bytes / total) * 100).toFixed(1)} |`),
  ];
  return [`Sampled: ${(total / 1e6).toFixed(0)} MB`, '', ...table('self', self), '', ...table('inclusive', inclusive)].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [file, top] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node --import tsx bench/allocation-summary.ts FILE.heapprofile [top]');
    process.exit(2);
  }
  console.log(summarise(JSON.parse(await readFile(file, 'utf8')) as HeapProfile, Number(top ?? 20)));
}
