/**
 * The edge where an API body becomes typed data. The envelope is checked
 * strictly (a page we cannot read fails the cluster with a clear message);
 * tasks are only required to be objects: their fields are normalised, and
 * oddities flagged, by the transform, so one odd task never costs a page.
 */
import { z } from 'zod';

export type RawTask = Readonly<Record<string, unknown>>;

function isPlainObject(value: unknown): value is RawTask {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export interface TasksPage {
  readonly tasks: readonly RawTask[];
  /** Total the API reports; null when it sent none (then we page until empty). */
  readonly count: number | null;
  readonly requestId: string | null;
}

// A count we cannot read is treated as absent (page until empty), never as
// a reason to throw away a page of tasks.
const countSchema = z.unknown().transform((value): number | null => {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value === 'string' && /^\d{1,15}$/.test(value.trim())) return Number(value.trim());
  return null;
});

const pageSchema = z.looseObject({
  // One check over the array, not a schema run per task: per-element parsing
  // allocated as much as JSON.parse itself (bench/README.md, allocations).
  // Each task only has to be an object here; the transform reads the fields.
  logical_cluster_tasks: z
    .custom<readonly RawTask[]>(Array.isArray, {
      error: (issue) =>
        issue.input === undefined ? 'missing "logical_cluster_tasks"' : '"logical_cluster_tasks" is not an array of objects',
    })
    .check((ctx) => {
      const index = ctx.value.findIndex((task) => !isPlainObject(task));
      if (index !== -1) ctx.issues.push({ code: 'custom', input: ctx.value[index], path: [index], message: 'not an object' });
    }),
  count: countSchema.optional(),
});

export type PageParseResult =
  | { readonly ok: true; readonly tasks: readonly RawTask[]; readonly count: number | null }
  | { readonly ok: false; readonly problem: string };

export function parseTasksPage(body: string): PageParseResult {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    const preview = body.slice(0, 80).replace(/\s+/g, ' ');
    return { ok: false, problem: `body is not JSON (starts with ${JSON.stringify(preview)})` };
  }
  const parsed = pageSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    return { ok: false, problem: `${where}${issue?.message ?? 'unexpected shape'}` };
  }
  return { ok: true, tasks: parsed.data.logical_cluster_tasks, count: parsed.data.count ?? null };
}
