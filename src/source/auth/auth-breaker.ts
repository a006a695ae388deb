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
  /** The request's origin ('' when the caller does not tell). */
  readonly endpoint: string;
}

interface KeyState {
  proven: boolean;
  /** The request probing the credential now, if any. */
  probe: AuthPermit | null;
  /** Former probes still in flight after an attempt got no answer, with their endpoint. */
  readonly unanswered: Map<AuthPermit, string>;
  open: boolean;
  /** Consecutive refusals since the last acceptance. */
  refusals: Refusal[];
  readonly waiters: Set<() => void>;
}

/**
 * - Until a credential has been accepted once, one request with it is in
 *   flight (a probe); the others wait for its answer. An attempt with no
 *   answer at all (a dead endpoint) says nothing about the credential: the
 *   probe passes to a request for another endpoint, so one black-holed
 *   endpoint does not stall the others; requests for the same endpoint
 *   wait for it (unproven requests in flight stay at most one per endpoint).
 * - After `threshold` consecutive refusals (401, or 403 before any success)
 *   it is open: later requests fail at once with AuthBreakerOpenError.
 * - A refusal after a success puts it back on probation (one request at a
 *   time); a 403 after a success is a per-cluster permission and does not count.
 */
export class AuthBreaker {
  private readonly states = new Map<string, KeyState>();

  constructor(private readonly threshold: number = REFUSALS_BEFORE_STOP) {}

  /**
   * Waits while a probe with this credential is in flight (or one to
   * `endpoint`, the request's origin, is out unanswered); throws when the
   * breaker is open.
   */
  async acquire(lease: CredentialLease, call: ApiCallContext, signal?: AbortSignal, endpoint = ''): Promise<AuthPermit> {
    const state = this.stateOf(lease.key);
    for (;;) {
      signal?.throwIfAborted();
      if (state.open) throw new AuthBreakerOpenError(call, lease, state.refusals);
      if (state.proven && state.refusals.length === 0) return { key: lease.key, probe: false, endpoint };
      if (state.probe === null && ![...state.unanswered.values()].includes(endpoint)) {
        state.probe = { key: lease.key, probe: true, endpoint };
        return state.probe;
      }
      await waitForChange(state.waiters, signal);
    }
  }

  /** An attempt of `permit` got no HTTP answer: if it is the probe, another endpoint's request may probe meanwhile. */
  unanswered(permit: AuthPermit): void {
    const state = this.stateOf(permit.key);
    if (state.probe !== permit) return;
    state.probe = null;
    state.unanswered.set(permit, permit.endpoint);
    wakeAll(state.waiters);
  }

  /** Must be called once per permit, whatever happened to the request. */
  settle(permit: AuthPermit, outcome: AuthOutcome): void {
    const state = this.stateOf(permit.key);
    if (state.probe === permit) state.probe = null;
    state.unanswered.delete(permit);
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
      state = { proven: false, probe: null, unanswered: new Map(), open: false, refusals: [], waiters: new Set() };
      this.states.set(key, state);
    }
    return state;
  }
}
