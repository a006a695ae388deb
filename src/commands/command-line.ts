/**
 * Declarative command-line options: each option is declared once, with its
 * type, default and help; the parser (node:util parseArgs underneath), the
 * value checks and the `--help` text are all derived from that declaration.
 */
import { parseArgs } from 'node:util';
import { closestKey } from '../core/closest-key.js';
import { UsageError } from '../core/errors.js';

interface OptionBase {
  readonly help: string;
  readonly short?: string;
  /** Shown instead of the default value, e.g. "$JOB_COMPLETION_INDEX, else 0". */
  readonly defaultHelp?: string;
}

export type OptionSpec =
  | (OptionBase & { readonly kind: 'flag' })
  | (OptionBase & {
      readonly kind: 'string';
      /** Placeholder in the help, e.g. FILE. */
      readonly value: string;
      readonly default?: string;
      readonly choices?: readonly string[];
    })
  | (OptionBase & {
      readonly kind: 'int';
      readonly value: string;
      readonly default?: number;
      readonly min: number;
      readonly max: number;
    });

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** The parsed value of one option: defaults applied, so only options without one can be undefined. */
export type OptionValue<O extends OptionSpec> = O extends { readonly kind: 'flag' }
  ? boolean
  : O extends { readonly kind: 'int' }
    ? O extends { readonly default: number }
      ? number
      : number | undefined
    : O extends { readonly choices: readonly (infer C)[] }
      ? O extends { readonly default: string }
        ? C
        : C | undefined
      : O extends { readonly default: string }
        ? string
        : string | undefined;

export type OptionValues<O extends OptionSpecs> = { readonly [K in keyof O]: OptionValue<O[K]> };

export interface CommandSpec<O extends OptionSpecs = OptionSpecs> {
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  readonly options: O;
  /** Paragraphs after the option list (environment, notes). */
  readonly notes?: string;
  // Method syntax on purpose: a list of commands with different options is a CommandSpec[].
  run(values: OptionValues<O>, out: (line: string) => void): Promise<number>;
}

/** Keeps the literal types of `options`, so `run` receives precisely typed values. */
export function defineCommand<const O extends OptionSpecs>(spec: CommandSpec<O>): CommandSpec<O> {
  return spec;
}

const HELP_OPTION: OptionSpec = { kind: 'flag', short: 'h', help: 'show this help' };

function label(name: string, spec: OptionSpec): string {
  const flag = `${spec.short ? `-${spec.short}, ` : '    '}--${name}`;
  if (spec.kind === 'flag') return flag;
  return `${flag} ${spec.kind === 'string' && spec.choices ? spec.choices.join('|') : spec.value}`;
}

function defaultText(spec: OptionSpec): string {
  if (spec.defaultHelp !== undefined) return ` (default: ${spec.defaultHelp})`;
  if (spec.kind !== 'flag' && spec.default !== undefined) return ` (default ${String(spec.default)})`;
  return '';
}

const USAGE_COLUMNS = 100;

/** Words into lines of at most `columns` characters (a longer word gets a line of its own). */
function wrap(text: string, columns: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > columns) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  return [...lines, line];
}

/** The `--help` text of a command, generated from its option declarations. */
export function commandUsage(program: string, command: CommandSpec): string {
  const options: [string, OptionSpec][] = [...Object.entries(command.options), ['help', HELP_OPTION]];
  const labels = options.map(([name, spec]) => label(name, spec));
  const width = Math.min(34, Math.max(...labels.map((text) => text.length)) + 2);
  const indent = ' '.repeat(width + 2);
  const lines = options.map(([, spec], i) => {
    const text = labels[i] as string;
    const help = wrap(`${spec.help}${defaultText(spec)}`, USAGE_COLUMNS - width - 2).join(`\n${indent}`);
    return text.length + 2 > width ? `  ${text}\n${indent}${help}` : `  ${text.padEnd(width)}${help}`;
  });
  return [
    `Usage: ${program} ${command.name}${Object.keys(command.options).length > 0 ? ' [options]' : ''}`,
    '',
    `${command.summary.charAt(0).toUpperCase()}${command.summary.slice(1)}.`,
    '',
    'Options:',
    ...lines,
    ...(command.notes ? ['', command.notes] : []),
  ].join('\n');
}

export type ParsedCommandLine<O extends OptionSpecs> =
  | { readonly help: true }
  | { readonly help: false; readonly values: OptionValues<O> };

/** Parses `argv` (the arguments after the command name); every problem is a UsageError naming the flag. */
export function parseCommandLine<O extends OptionSpecs>(program: string, command: CommandSpec<O>, argv: readonly string[]): ParsedCommandLine<O> {
  const specs: [string, OptionSpec][] = [...Object.entries(command.options), ['help', HELP_OPTION]];
  let raw: Record<string, string | boolean | undefined>;
  try {
    raw = parseArgs({
      args: [...argv],
      options: Object.fromEntries(
        specs.map(([name, spec]) => [name, { type: spec.kind === 'flag' ? 'boolean' : 'string', ...(spec.short ? { short: spec.short } : {}) }]),
      ),
      strict: true,
      allowPositionals: false,
    }).values as Record<string, string | boolean | undefined>;
  } catch (error) {
    const unknown = /^Unknown option '--([^']+)'/.exec((error as Error).message)?.[1];
    const suggestion = unknown === undefined ? null : closestKey(unknown, [...Object.keys(command.options), 'help']);
    const hint = suggestion ? ` (did you mean --${suggestion}?)` : '';
    throw new UsageError(`${command.name}: ${(error as Error).message}${hint}\n\n${commandUsage(program, command)}`);
  }
  if (raw.help === true) return { help: true };
  const values: Record<string, string | number | boolean | undefined> = {};
  for (const [name, spec] of Object.entries(command.options)) values[name] = convert(name, spec, raw[name]);
  // The declarations above are what OptionValues<O> is computed from.
  return { help: false, values: values as OptionValues<O> };
}

function convert(name: string, spec: OptionSpec, raw: string | boolean | undefined): string | number | boolean | undefined {
  if (spec.kind === 'flag') return raw === true;
  if (raw === undefined) return spec.default;
  const text = String(raw);
  if (spec.kind === 'int') {
    const value = Number(text.trim());
    if (!/^\d+$/.test(text.trim()) || value < spec.min || value > spec.max) {
      throw new UsageError(`--${name} must be a whole number from ${spec.min} to ${spec.max}, not ${JSON.stringify(text)}`);
    }
    return value;
  }
  if (spec.choices && !spec.choices.includes(text)) {
    throw new UsageError(`--${name} must be ${spec.choices.map((c) => `"${c}"`).join(' or ')}, not ${JSON.stringify(text)}`);
  }
  if (text.trim() === '') throw new UsageError(`--${name} needs a value (${spec.value})`);
  return text;
}
