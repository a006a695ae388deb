/**
 * Keeps a refused credential from locking the account (the gateway locks an
 * access key for 5 minutes after more than 5 consecutive failures): 200
 * clusters with a wrong SK cost 2 doomed requests, not 200. Credentials are
 * told apart by CredentialLease.key, so a rotated secret starts clean.
 */
import { AuthBreakerOpenError, type ApiCallContext, type Refusal } from '../../core/errors.js';
import type { CredentialLease } from './credential-provider.js';
import { waitForChange, wakeAll } from '../waiters.js';

/** "A couple of clusters": the third request with a refused credential is never sent. */
export const REFUSALS_BEFORE_STOP = 2;

export type AuthOutcome =
  /** The gateway let the request through (any answer but 401/403, even a 404). */
  | { readonly kind: 'accepted' }
  | { readonly kind: 'refused'; readonly refusal: Refusal }
  /** No verdict on the credential: network error, 5xx, 429. */
  | { readonly kind: 'unknown' };

export interface AuthPermit {
  readonly key: string;
  readonly probe: boolean;
}

interface KeyState {
  proven: boolean;
  probing: boolean;
  open: boolean;
  /** Consecutive refusals since the last acceptance. */
  refusals: Refusal[];
  readonly waiters: Set<() => void>;
}

/**
 * - Until a credential has been accepted once, one request with it is in
 *   flight (a probe); the others wait for its answer.
 * - After `threshold` consecutive refusals (401, or 403 before any success)
 *   it is open: later requests fail at once with AuthBreakerOpenError.
 * - A refusal after a success puts it back on probation (one request at a
 *   time); a 403 after a success is a per-cluster permission and does not count.
 */
export class AuthBreaker {
  private readonly states = new Map<string, KeyState>();

  constructor(private readonly threshold: number = REFUSALS_BEFORE_STOP) {}

  /** Waits while a probe with this credential is in flight; throws when the breaker is open. */
  async acquire(lease: CredentialLease, call: ApiCallContext, signal?: AbortSignal): Promise<AuthPermit> {
    const state = this.stateOf(lease.key);
    for (;;) {
      signal?.throwIfAborted();
      if (state.open) throw new AuthBreakerOpenError(call, lease, state.refusals);
      if (state.proven && state.refusals.length === 0) return { key: lease.key, probe: false };
      if (!state.probing) {
        state.probing = true;
        return { key: lease.key, probe: true };
      }
      await waitForChange(state.waiters, signal);
    }
  }

  /** Must be called once per permit, whatever happened to the request. */
  settle(permit: AuthPermit, outcome: AuthOutcome): void {
    const state = this.stateOf(permit.key);
    if (permit.probe) state.probing = false;
    if (outcome.kind === 'accepted') {
      state.proven = true;
      state.refusals = [];
    } else if (outcome.kind === 'refused' && !(outcome.refusal.details.status === 403 && state.proven)) {
      state.refusals = [...state.refusals, outcome.refusal];
      if (state.refusals.length >= this.threshold) state.open = true;
    }
    wakeAll(state.waiters);
  }

  /** Whether requests with this credential are no longer sent. */
  isOpen(key: string): boolean {
    return this.states.get(key)?.open ?? false;
  }

  private stateOf(key: string): KeyState {
    let state = this.states.get(key);
    if (!state) {
      state = { proven: false, probing: false, open: false, refusals: [], waiters: new Set() };
      this.states.set(key, state);
    }
    return state;
  }
}
