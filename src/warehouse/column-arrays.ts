/** Rows turned into what `unnest($1::t[], $2::u[], …)` takes, and per-key sums of counters. */

/** One array per key, in `keys` order: row i of the unnest is rows[i]. */
export function columnArrays<T, K extends keyof T>(rows: readonly T[], keys: readonly K[]): T[K][][] {
  return keys.map((key) => rows.map((row) => row[key]));
}

/** Per key (in the order keys first appear), the sums of the numeric `fields` of its items. */
export function sumsBy<T, F extends keyof T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  fields: readonly F[],
): Map<string, Record<F, number>> {
  const sums = new Map<string, Record<F, number>>();
  for (const item of items) {
    const key = keyOf(item);
    let sum = sums.get(key);
    if (sum === undefined) {
      sum = Object.fromEntries(fields.map((f) => [f, 0])) as Record<F, number>;
      sums.set(key, sum);
    }
    for (const f of fields) sum[f] += Number(item[f]);
  }
  return sums;
}
