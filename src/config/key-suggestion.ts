/** "Did you mean …?" for a misspelt config key: the keys the schema has at that place (closest-key.ts picks one). */
import { z } from 'zod';

/** The schema under wrappers (optional, default, nullable, transforms). */
function unwrap(schema: z.core.$ZodType): z.core.$ZodType {
  let current = schema;
  for (;;) {
    if (current instanceof z.ZodOptional || current instanceof z.ZodNullable || current instanceof z.ZodDefault || current instanceof z.ZodPrefault) {
      current = current.unwrap();
    } else if (current instanceof z.ZodPipe) {
      current = current.in;
    } else {
      return current;
    }
  }
}

/** The keys an object schema allows at `path` (array indexes step into elements, unions into their object option). */
export function keysAt(schema: z.core.$ZodType, path: readonly PropertyKey[]): readonly string[] {
  let current = unwrap(schema);
  for (const segment of path) {
    if (current instanceof z.ZodUnion) {
      current = unwrap(current.options.find((option) => unwrap(option) instanceof z.ZodObject) ?? current);
    }
    if (typeof segment === 'number' && current instanceof z.ZodArray) current = unwrap(current.element);
    else if (typeof segment === 'string' && current instanceof z.ZodObject) current = unwrap(current.shape[segment] ?? z.never());
    else return [];
  }
  if (current instanceof z.ZodUnion) current = unwrap(current.options.find((o) => unwrap(o) instanceof z.ZodObject) ?? current);
  return current instanceof z.ZodObject ? Object.keys(current.shape) : [];
}
