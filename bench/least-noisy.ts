/**
 * Noise handling: the machine is shared with other sessions, so a measurement during which other
 * processes took more than --max-noise of it is repeated (at most --noise-retries times) and the
 * least disturbed attempt is kept.
 */
import { log, type Context } from './context.js';
import { pct } from './format.js';

/**
 * Share of the whole machine (all cores × `seconds`) that processes other than the measured ones
 * used: (machine busy − `knownS`) ÷ (seconds × cores). Null without /proc.
 */
export function othersShare(machineBusyS: number | null, knownS: number, seconds: number, cores: number): number | null {
  return machineBusyS === null ? null : (machineBusyS - knownS) / (seconds * cores);
}

/**
 * Runs `attempt` until its noise is at most --max-noise or the retries are used up, and returns
 * the least disturbed attempt. `discard` releases what an attempt that is not kept holds (e.g. its
 * database).
 */
export async function leastNoisy<T>(
  ctx: Context,
  what: string,
  attempt: (n: number) => Promise<T>,
  noiseOf: (value: T) => number | null,
  discard: (value: T) => Promise<void> = async () => undefined,
): Promise<{ readonly value: T; readonly attempts: number }> {
  const tried: T[] = [];
  for (let n = 1; ; n++) {
    const value = await attempt(n);
    tried.push(value);
    const noise = noiseOf(value);
    if (noise === null || noise <= ctx.options.maxNoise || n > ctx.options.noiseRetries) break;
    log(`${what}: other processes used ${pct(noise)}% of the machine during attempt ${n}: measuring again`);
  }
  const score = (v: T): number => noiseOf(v) ?? 0;
  const best = tried.reduce((a, b) => (score(b) < score(a) ? b : a));
  for (const value of tried) if (value !== best) await discard(value);
  return { value: best, attempts: tried.length };
}
