/**
 * Options are declared once: the values a command receives and its --help
 * text both come from the declaration, so a default can never differ
 * between the two.
 */
import { describe, expect, it } from 'vitest';
import { commandUsage, defineCommand, parseCommandLine } from '../../../src/commands/command-line.js';
import { COMMANDS } from '../../../src/commands/index.js';
import { UsageError } from '../../../src/core/errors.js';

const example = defineCommand({
  name: 'example',
  summary: 'an example command',
  options: {
    count: { kind: 'int', value: 'N', help: 'how many', default: 12, min: 1, max: 20 },
    limit: { kind: 'int', value: 'N', help: 'an optional limit', min: 0, max: 5 },
    mode: { kind: 'string', value: 'MODE', choices: ['fast', 'slow'], default: 'fast', help: 'which mode' },
    name: { kind: 'string', short: 'n', value: 'NAME', help: 'a name', defaultHelp: '$EXAMPLE_NAME' },
    dry: { kind: 'flag', help: 'change nothing' },
  },
  run: async () => 0,
});

function parse(argv: readonly string[]) {
  const parsed = parseCommandLine('prog', example, argv);
  if (parsed.help) throw new Error('unexpected --help');
  return parsed.values;
}

describe('parseCommandLine', () => {
  it('applies the declared defaults when an option is absent', () => {
    expect(parse([])).toEqual({ count: 12, limit: undefined, mode: 'fast', name: undefined, dry: false });
  });

  it('converts and range-checks whole numbers, naming the flag and the bad value', () => {
    expect(parse(['--count', '20', '--limit', '0']).count).toBe(20);
    for (const bad of ['0', '21', '1.5', '-1', 'x', '']) {
      expect(() => parse([`--count=${bad}`])).toThrow(new UsageError(`--count must be a whole number from 1 to 20, not ${JSON.stringify(bad)}`));
    }
  });

  it('accepts only the declared choices', () => {
    expect(parse(['--mode', 'slow']).mode).toBe('slow');
    expect(() => parse(['--mode', 'medium'])).toThrow('--mode must be "fast" or "slow", not "medium"');
  });

  it('refuses a blank string value and an unknown flag, with the usage after the message', () => {
    expect(() => parse(['--name', ' '])).toThrow('--name needs a value (NAME)');
    expect(() => parse(['--bogus'])).toThrow(/example: Unknown option '--bogus'[\s\S]*Usage: prog example \[options\]/);
  });

  it('suggests the closest flag for a misspelt one', () => {
    expect(() => parse(['--cuont', '3'])).toThrow(/Unknown option '--cuont'.* \(did you mean --count\?\)/);
    expect(() => parse(['--zzzzzz'])).toThrow(/Unknown option '--zzzzzz'[^(]*$/m);
  });

  it('reads short flags and reports --help without checking values', () => {
    expect(parse(['-n', 'x', '--dry'])).toMatchObject({ name: 'x', dry: true });
    expect(parseCommandLine('prog', example, ['--count', 'nonsense', '--help'])).toEqual({ help: true });
  });
});

describe('commandUsage', () => {
  it('lists every option with the default it really has', () => {
    const usage = commandUsage('prog', example);
    expect(usage).toMatch(/^ {6}--count N +how many \(default 12\)$/m);
    expect(usage).toMatch(/^ {6}--mode fast\|slow +which mode \(default fast\)$/m);
    expect(usage).toMatch(/^ {2}-n, --name NAME +a name \(default: \$EXAMPLE_NAME\)$/m);
    expect(usage).toMatch(/^ {6}--limit N +an optional limit$/m);
    expect(usage).toMatch(/^ {2}-h, --help +show this help$/m);
  });

  it('shows, for every real command, each declared default in its help', () => {
    for (const command of COMMANDS) {
      // Wrapped help lines may break "(default N)" across lines.
      const usage = commandUsage('dws-task-exporter', command).replace(/\s+/g, ' ');
      for (const [name, spec] of Object.entries(command.options)) {
        expect(usage).toContain(`--${name}`);
        if (spec.kind !== 'flag' && spec.default !== undefined && spec.defaultHelp === undefined) {
          expect(usage).toContain(`(default ${String(spec.default)})`);
        }
      }
    }
  });
});
