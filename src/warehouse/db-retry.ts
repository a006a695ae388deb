/**
 * Bounded retries for database work that is safe to repeat: a whole
 * transaction (the upsert is idempotent) or a single ledger statement.
 * Only for failures that say "the server went away or is busy", never for
 * a bad statement or a constraint violation.
 */
import { setTimeout as sleep } from 'node:timers/promises';

export interface DbRetryPolicy {
  readonly attempts: number;
  readonly delayMs: number;
}

// SQLSTATE: 08xxx connection exceptions; 57P01-03 shutdown / not ready yet;
// 53300 too many connections; 40001 / 40P01 serialization failure, deadlock.
const TRANSIENT_SQLSTATE = /^(08...|57P0[123]|53300|40001|40P01)$/;
const TRANSIENT_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND']);
// pg's own wording for a lost connection; "not queryable" is what a statement
// gets when the connection died between two statements of a transaction.
const TRANSIENT_MESSAGES = [
  /connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /Connection ended/i,
  /has encountered a connection error and is not queryable/i,
];

export function isTransientDbError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (TRANSIENT_SQLSTATE.test(code) || TRANSIENT_NODE_CODES.has(code))) return true;
  if (TRANSIENT_MESSAGES.some((pattern) => pattern.test(error.message))) return true;
  return error.cause !== undefined && isTransientDbError(error.cause);
}

export async function withDbRetry<T>(
  policy: DbRetryPolicy,
  work: () => Promise<T>,
  onRetry?: (attempt: number, error: unknown) => void,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt > policy.attempts || !isTransientDbError(error)) throw error;
      onRetry?.(attempt, error);
      await sleep(policy.delayMs * attempt);
    }
  }
}
