/**
 * Reads and validates the config file: JSON, where // and /* comments are
 * allowed (as editors allow with "$schema"); every error names the file and
 * the place, a line and column for syntax, a key path for content.
 */
import { readFile } from 'node:fs/promises';
import { parse, printParseErrorCode, type ParseError } from 'jsonc-parser';
import type { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { closestKey } from '../core/closest-key.js';
import { keysAt } from './key-suggestion.js';
import { configSchema, resolveConfig, type ExporterConfig } from './schema.js';

export async function loadConfigFile(path: string): Promise<ExporterConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : String(error);
    throw new ConfigError(`cannot read the config file (${reason})`, path);
  }
  // Editors on Windows (Notepad, PowerShell) may start the file with a byte order mark.
  return parseConfigText(text.replace(/^\uFEFF/, ''), path);
}

/** A config file's text (JSON with comments) → the validated config; `source` names it in errors. */
export function parseConfigText(text: string, source: string): ExporterConfig {
  return parseConfig(parseJsonWithComments(text, source), source);
}

const SYNTAX_HINTS: Readonly<Record<string, string>> = {
  CommaExpected: 'expected a comma',
  ColonExpected: 'expected a colon',
  PropertyNameExpected: 'expected a key in double quotes',
  ValueExpected: 'expected a value',
  CloseBraceExpected: 'expected "}"',
  CloseBracketExpected: 'expected "]"',
  EndOfFileExpected: 'expected the end of the file',
  InvalidSymbol: 'unexpected character',
  UnexpectedEndOfString: 'a string is not closed',
  UnexpectedEndOfComment: 'a comment is not closed',
};

function parseJsonWithComments(text: string, path: string): unknown {
  const errors: ParseError[] = [];
  const json: unknown = parse(text, errors, { allowTrailingComma: false, disallowComments: false });
  const first = errors[0];
  if (!first) return json;
  const before = text.slice(0, first.offset).split('\n');
  const line = before.length;
  const column = (before[before.length - 1] ?? '').length + 1;
  const code = printParseErrorCode(first.error);
  throw new ConfigError(`not valid JSON at line ${line}, column ${column}: ${SYNTAX_HINTS[code] ?? code}`, path);
}

export function parseConfig(json: unknown, source: string): ExporterConfig {
  const parsed = configSchema.safeParse(json);
  if (!parsed.success) throw new ConfigError(formatIssues(parsed.error.issues), source);
  return resolveConfig(parsed.data);
}

function formatPath(path: readonly PropertyKey[]): string {
  const text = path.reduce<string>(
    (acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)),
    '',
  );
  return text || '(top level)';
}

/** Paths shown for one message before "and N more": a list of 200 bad ids is one line, not 200. */
const PATHS_PER_MESSAGE = 3;

function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  const byMessage = new Map<string, string[]>();
  const add = (path: string, message: string): void => {
    const paths = byMessage.get(message) ?? [];
    paths.push(path);
    byMessage.set(message, paths);
  };
  for (const issue of issues) {
    if (issue.code !== 'unrecognized_keys') {
      add(formatPath(issue.path), issue.message);
      continue;
    }
    const known = keysAt(configSchema, issue.path);
    for (const key of issue.keys) {
      const suggestion = closestKey(key, known);
      add(formatPath(issue.path), `unknown key ${JSON.stringify(key)}${suggestion ? ` (did you mean ${JSON.stringify(suggestion)}?)` : ''}`);
    }
  }
  return [...byMessage]
    .map(([message, paths]) => {
      const shown = paths.slice(0, PATHS_PER_MESSAGE).join(', ');
      const more = paths.length > PATHS_PER_MESSAGE ? ` and ${paths.length - PATHS_PER_MESSAGE} more` : '';
      return `${shown}${more}: ${message}`;
    })
    .join('; ');
}
