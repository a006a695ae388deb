/** The config file's JSON Schema, generated from the zod schema, for editors ("$schema") and `config schema`. */
import { z } from 'zod';
import { configSchema } from './schema.js';

/** Shipped at the package root; test/unit/config checks it equals configJsonSchema(). */
export const CONFIG_SCHEMA_FILE = 'config.schema.json';

export function configJsonSchema(): Record<string, unknown> {
  // Input side: what a user writes (defaults optional). Refinements such as
  // "a valid IANA zone" cannot be expressed and are checked by the exporter.
  return {
    ...z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }),
    title: 'dws-task-exporter config',
  };
}
