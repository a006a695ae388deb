/**
 * What the code says, for test/unit/docs/reference.test.ts to find in the
 * docs: config keys (with defaults) from the zod schema, the environment
 * variables src/ reads, the ErrorCode union, the CLI's commands and flags.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import type { ErrorCode } from '../../src/core/errors.js';
import { z } from 'zod';
import { readEnv } from '../../src/config/env.js';
import { resolveRunGroupId, resolveShard } from '../../src/plan/shard.js';
import { logFormatFor } from '../../src/core/logger.js';
import { pushTargetFromEnv } from '../../src/report/push-target.js';
import { progressWanted } from '../../src/report/progress.js';
import { cliLauncher } from './cli.js';
import { REPO_ROOT } from './markdown.js';

function sourceFiles(dir = join(REPO_ROOT, 'src')): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

export interface ConfigKey {
  readonly path: string;
  /** Takes a value (not just a group of keys): needs a row of its own. */
  readonly valued: boolean;
  /** The schema's default when it is a plain value (number, string, boolean, null). */
  readonly defaultValue?: unknown;
}

const LEAF_TYPES: ReadonlySet<string> = new Set(['string', 'number', 'bigint', 'boolean', 'literal', 'enum', 'null', 'date']);

/** Peels optional/nullable/default/prefault/pipe wrappers off a schema, keeping a plain default. */
function unwrap(schema: z.core.$ZodType): { readonly core: z.core.$ZodType; readonly defaultValue?: unknown } {
  let core = schema;
  let defaultValue: unknown;
  let hasDefault = false;
  for (;;) {
    if (core instanceof z.ZodDefault) {
      const value: unknown = core.def.defaultValue;
      if (!hasDefault && (value === null || typeof value !== 'object')) {
        defaultValue = value;
        hasDefault = true;
      }
      core = core.def.innerType;
    } else if (core instanceof z.ZodPrefault || core instanceof z.ZodOptional || core instanceof z.ZodNullable) {
      core = core.def.innerType;
    } else if (core instanceof z.ZodPipe) {
      core = core.def.in;
    } else {
      return hasDefault ? { core, defaultValue } : { core };
    }
  }
}

/** Every key path of the config file: `http.timeoutMs`, `projects[].clusters.include`, ... */
export function configKeys(schema: z.core.$ZodType, prefix = ''): ConfigKey[] {
  const { core } = unwrap(schema);
  if (core instanceof z.ZodObject) {
    return Object.entries(core.shape as Record<string, z.core.$ZodType>).flatMap(([name, child]) => {
      const path = prefix === '' ? name : `${prefix}.${name}`;
      const inner = unwrap(child);
      const key: ConfigKey = {
        path,
        valued: !(inner.core instanceof z.ZodObject),
        ...('defaultValue' in inner ? { defaultValue: inner.defaultValue } : {}),
      };
      return [key, ...configKeys(child, path)];
    });
  }
  if (core instanceof z.ZodArray) return configKeys(core.def.element, `${prefix}[]`);
  if (core instanceof z.ZodUnion) return core.def.options.flatMap((option) => configKeys(option, prefix));
  // Anything else must be a value, or keys could hide behind a wrapper this walk does not know.
  if (!LEAF_TYPES.has(core._zod.def.type)) {
    throw new Error(`configKeys() does not know the zod type "${core._zod.def.type}" at ${prefix || '(top level)'}: teach it`);
  }
  return [];
}

// --- environment variables -------------------------------------------------

/** An environment that records every variable asked for, answering `value` (or nothing). */
function recordingEnv(names: Set<string>, value: string | undefined): Record<string, string | undefined> {
  const note = (key: string | symbol): void => {
    if (typeof key === 'string' && /^[A-Z][A-Z0-9_]*$/.test(key)) names.add(key);
  };
  return new Proxy<Record<string, string | undefined>>(
    {},
    {
      get: (_target, key) => (note(key), value),
      has: (_target, key) => (note(key), value !== undefined),
    },
  );
}

/**
 * Every variable src/ reads: the functions that take an environment, asked
 * with every variable unset and with every variable set (each branch reads
 * its own), plus `env.X` / `process.env.X` anywhere in the source.
 */
export function environmentVariables(): Set<string> {
  const names = new Set<string>();
  for (const value of [undefined, '1']) {
    const readers: (() => unknown)[] = [
      () => readEnv(recordingEnv(names, value)),
      () => logFormatFor({ isTTY: true }, recordingEnv(names, value)),
      () => progressWanted({ isTTY: true }, recordingEnv(names, value)),
      () => pushTargetFromEnv(recordingEnv(names, value), 0),
      () => resolveShard({ index: undefined, count: '2' }, recordingEnv(names, value)),
      () => resolveRunGroupId(undefined, recordingEnv(names, value), () => 'generated'),
    ];
    for (const read of readers) {
      try {
        read();
      } catch {
        // Refused values are fine: what was asked for is recorded.
      }
    }
  }
  for (const file of sourceFiles()) {
    const text = readFileSync(file, 'utf8');
    for (const match of text.matchAll(/\b\w*env\w*\??\.([A-Z][A-Z0-9_]+)\b/gi)) {
      if (/^[A-Z][A-Z0-9_]+$/.test(match[1] ?? '')) names.add(match[1] ?? '');
    }
    for (const match of text.matchAll(/\benv\[['"]([A-Z][A-Z0-9_]+)['"]\]/g)) names.add(match[1] ?? '');
  }
  return names;
}

// --- error codes (a type: read with the TypeScript compiler) ----------------

/** The members of the ErrorCode union, read from its declaration by the TypeScript compiler. */
export function errorCodes(): ErrorCode[] {
  const file = sourceFiles().find((path) => /export type ErrorCode\b/.test(readFileSync(path, 'utf8')));
  if (file === undefined) throw new Error('no "export type ErrorCode" in src/: update this test to where the error codes live');
  const configFile = ts.readConfigFile(join(REPO_ROOT, 'tsconfig.json'), (path) => ts.sys.readFile(path));
  const { options } = ts.parseJsonConfigFileContent(configFile.config, ts.sys, REPO_ROOT);
  const program = ts.createProgram([file], { ...options, noEmit: true });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(file);
  const module = source && checker.getSymbolAtLocation(source);
  const symbol = module && checker.getExportsOfModule(module).find((s) => s.name === 'ErrorCode');
  if (!symbol) throw new Error(`cannot read the ErrorCode type of ${file}`);
  const type = checker.getDeclaredTypeOfSymbol(symbol);
  // The literals come from the ErrorCode type itself.
  return (type.isUnion() ? type.types : [type]).flatMap((member) => (member.isStringLiteral() ? [member.value as ErrorCode] : []));
}

// --- commands and flags (from the CLI's own --help) -------------------------

export interface CommandHelp {
  readonly name: string;
  readonly flags: readonly string[];
}

export async function commandsFromHelp(): Promise<CommandHelp[]> {
  const { runCli } = cliLauncher({ logLevel: 'error' });
  const main = await runCli(['--help']);
  const listing = main.stdout.split('Commands:\n')[1]?.split('\n\n')[0] ?? '';
  // A name may have two words ("config init"); the summary follows after two or more spaces.
  const names = [...listing.matchAll(/^ {2}(\S+(?: \S+)?) {2}/gm)].map((m) => m[1] ?? '');
  if (names.length === 0) throw new Error(`no commands in "dws-task-exporter --help":\n${main.stdout}${main.stderr}`);
  return Promise.all(
    names.map(async (name) => {
      const help = await runCli([...name.split(' '), '--help']);
      const flags = new Set([...help.stdout.matchAll(/(?<![\w-])--([a-z][a-z0-9-]*)/g)].map((m) => `--${m[1] ?? ''}`));
      return { name, flags: [...flags] };
    }),
  );
}
