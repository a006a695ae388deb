/** Reads and validates the JSON config file: every error names the file and the key. */
import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { configSchema, resolveConfig, type ExporterConfig } from './schema.js';

export async function loadConfigFile(path: string): Promise<ExporterConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : String(error);
    throw new ConfigError(`cannot read the config file (${reason})`, path);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`not valid JSON: ${(error as Error).message}`, path);
  }
  return parseConfig(json, path);
}

export function parseConfig(json: unknown, source: string): ExporterConfig {
  const parsed = configSchema.safeParse(json);
  if (!parsed.success) throw new ConfigError(formatIssues(parsed.error.issues), source);
  return resolveConfig(parsed.data);
}

function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      const path = issue.path.reduce<string>(
        (acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)),
        '',
      );
      return `${path || '(top level)'}: ${issue.message}`;
    })
    .join('; ');
}
