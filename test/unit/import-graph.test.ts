/**
 * The layout's promise, checked on the source: src/ folders form a pipeline
 * (core below everything, then config → plan → source → transform →
 * warehouse → export → report, then the tools and commands on top), a
 * module imports only from its own folder or an earlier one, and no import
 * cycle exists, not even through type-only imports.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));

/** Lowest first. `cli` is src/cli.ts, which only parses and dispatches. */
const LAYERS = [
  'core',
  'config',
  'plan',
  'source',
  'transform',
  'warehouse',
  'export',
  'report',
  'simulator',
  'commands',
  'cli',
] as const;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

function layerOf(file: string): string {
  const [first] = relative(SRC, file).split('/');
  return first === 'cli.ts' ? 'cli' : (first ?? '');
}

// Static imports and re-exports (`import … from`, `export … from`, side-effect
// `import '…'`) and dynamic `import('…')`.
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g;

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(SPECIFIER)].map((m) => resolve(dirname(file), (m[1] as string).replace(/\.js$/, '.ts')));
}

const files = sourceFiles(SRC);
const graph = new Map(files.map((file) => [file, importsOf(file)]));
const name = (file: string): string => relative(SRC, file);

describe('src/ import graph', () => {
  it('places every folder of src/ in a layer, so a new folder is a deliberate choice', () => {
    const unplaced = [...new Set(files.map(layerOf))].filter((layer) => !(LAYERS as readonly string[]).includes(layer));
    expect(unplaced, `add these folders to LAYERS in ${name(fileURLToPath(import.meta.url))}`).toEqual([]);
  });

  it('resolves every relative import to a file in src/', () => {
    const dangling = [...graph].flatMap(([file, targets]) =>
      targets.filter((target) => !graph.has(target)).map((target) => `${name(file)} → ${relative(SRC, target)}`),
    );
    expect(dangling).toEqual([]);
  });

  it('never imports from a later stage: core first, then config → plan → source → transform → warehouse → export → report, then simulator, commands, cli', () => {
    const rank = (file: string): number => (LAYERS as readonly string[]).indexOf(layerOf(file));
    const upward = [...graph].flatMap(([file, targets]) =>
      targets
        .filter((target) => graph.has(target) && layerOf(target) !== layerOf(file) && rank(target) > rank(file))
        .map((target) => `${name(file)} (${layerOf(file)}) imports ${name(target)} (${layerOf(target)})`),
    );
    expect(upward).toEqual([]);
  });

  it('has no import cycle between modules', () => {
    // Tarjan's strongly connected components: any component of two or more
    // modules (or a module importing itself) is a cycle.
    let counter = 0;
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const onStack = new Set<string>();
    const cycles: string[] = [];
    const visit = (file: string): void => {
      index.set(file, counter);
      low.set(file, counter);
      counter += 1;
      stack.push(file);
      onStack.add(file);
      for (const target of graph.get(file) ?? []) {
        if (!graph.has(target)) continue;
        if (!index.has(target)) {
          visit(target);
          low.set(file, Math.min(low.get(file) as number, low.get(target) as number));
        } else if (onStack.has(target)) {
          low.set(file, Math.min(low.get(file) as number, index.get(target) as number));
        }
      }
      if (low.get(file) !== index.get(file)) return;
      const component: string[] = [];
      for (;;) {
        const member = stack.pop() as string;
        onStack.delete(member);
        component.push(member);
        if (member === file) break;
      }
      if (component.length > 1 || (graph.get(file) ?? []).includes(file)) {
        cycles.push(component.map(name).sort().join(' ↔ '));
      }
    };
    for (const file of files) if (!index.has(file)) visit(file);
    expect(cycles).toEqual([]);
  });
});
