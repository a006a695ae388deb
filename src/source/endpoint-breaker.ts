/**
 * Keeps a dead endpoint (wrong host, DNS, dropped egress, a gateway answering
 * only 502/503/504) from costing each of its clusters a full round of
 * retries, and a blip from costing the night. Per endpoint origin; other
 * endpoints are never affected. The states are described on EndpointBreaker.
 */
import { setMaxListeners } from 'node:events';
import { EndpointUnreachableError, type ApiCallContext } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { waitForChange, wakeAll } from './waiters.js';

/** Clusters in a row, with no success in between, whose requests failed as counted below. */
export const FAILING_CLUSTERS_TO_OPEN = 3;
/** The pause before the first probe; each failed probe doubles it, up to MAX_PAUSE_MS. */
export const FIRST_PAUSE_MS = 2_000;
export const MAX_PAUSE_MS = 30_000;
/**
 * Failed probes in a row before the endpoint's clusters are refused: with
 * pauses of 2, 4 and 8 s, an outage shorter than about 14 s costs nothing,
 * and a dead endpoint is given up about 15 s after it opened.
 */
export const PROBES_BEFORE_REFUSING = 3;

/** Statuses a gateway answers when the service behind it is down. */
export const GATEWAY_OUTAGE_STATUS: readonly number[] = [502, 503, 504];

export interface BreakerOptions {
  readonly threshold?: number;
  readonly firstPauseMs?: number;
  readonly maxPauseMs?: number;
  readonly probesBeforeRefusing?: number;
  readonly logger?: Logger;
}

/** Held by one request from admission to its outcome. */
export interface EndpointPermit {
  readonly origin: string;
  readonly probe: boolean;
  /** Aborted when the endpoint opens: the request stops retrying and asks again. */
  readonly signal: AbortSignal;
}

interface EndpointState {
  phase: 'closed' | 'open' | 'half-open';
  /** Probes failed since the last success: from probesBeforeRefusing on, requests are refused while open, not held. */
  failedProbes: number;
  probing: boolean;
  /** Clusters with a counted failure since the last success. */
  readonly failing: Set<string>;
  lastError: string | null;
  retryAt: number;
  pauseMs: number;
  /** Half-open: when the next cluster may start (one at a time, so waiting ones do not fill the fetch slots). */
  nextClusterAt: number;
  timer: NodeJS.Timeout | null;
  /** Aborted (and replaced) each time the endpoint opens. */
  controller: AbortController;
  readonly waiters: Set<() => void>;
}

type Verdict = { readonly kind: 'go'; readonly probe: boolean } | { readonly kind: 'wait' } | { readonly kind: 'refused' };

/**
 * - closed: requests go. A counted failure (see strike) from a
 *   FAILING_CLUSTERS_TO_OPEN-th distinct cluster, with no success since the
 *   first, opens the endpoint; so does a request that ran out of retries
 *   at the connection level (it is held, not failed).
 * - open: requests in flight stop at once; requests and clusters wait for
 *   the probe (clusters outside the run's fetch slots, so other endpoints go
 *   on at full speed). Once PROBES_BEFORE_REFUSING probes in a row have
 *   failed, they are refused instead: EndpointUnreachableError,
 *   DWS_ENDPOINT_UNREACHABLE, the cluster is not called.
 * - half-open (the pause is over): one request goes as the probe, the others
 *   wait for it. Any answer but 502/503/504 closes the endpoint; a counted
 *   failure opens it again with the pause doubled.
 */
export class EndpointBreaker {
  private readonly states = new Map<string, EndpointState>();
  private readonly threshold: number;
  private readonly firstPauseMs: number;
  private readonly maxPauseMs: number;
  private readonly probesBeforeRefusing: number;

  constructor(private readonly options: BreakerOptions = {}) {
    this.threshold = options.threshold ?? FAILING_CLUSTERS_TO_OPEN;
    this.firstPauseMs = options.firstPauseMs ?? FIRST_PAUSE_MS;
    this.maxPauseMs = options.maxPauseMs ?? MAX_PAUSE_MS;
    this.probesBeforeRefusing = options.probesBeforeRefusing ?? PROBES_BEFORE_REFUSING;
  }

  /** Lets a request go, holds it while the endpoint is open or probed, throws once it refuses. */
  async admit(endpoint: string, call: ApiCallContext, signal?: AbortSignal): Promise<EndpointPermit> {
    const origin = new URL(endpoint).origin;
    const state = this.stateOf(origin);
    for (;;) {
      signal?.throwIfAborted();
      const verdict = this.verdict(state, true);
      if (verdict.kind === 'go') return { origin, probe: verdict.probe, signal: state.controller.signal };
      if (verdict.kind === 'refused') throw this.refusal(origin, state, call);
      await waitForChange(state.waiters, signal);
    }
  }

  /**
   * Before a cluster takes a fetch slot: waits while the endpoint is open
   * or probed; the refusal once it refuses (the cluster is not called);
   * null when it may go. Never throws: shutdown ends the wait.
   */
  async clusterTurn(endpoint: string, signal: AbortSignal): Promise<EndpointUnreachableError | null> {
    const origin = new URL(endpoint).origin;
    const state = this.stateOf(origin);
    while (!signal.aborted) {
      const verdict = this.verdict(state, false);
      if (verdict.kind === 'go') return null;
      if (verdict.kind === 'refused') return this.refusal(origin, state, null);
      await waitForChange(state.waiters, signal).catch(() => undefined);
    }
    return null;
  }

  /**
   * A failure counted against the endpoint: a connection failure that the
   * request's retry did not cure, or 502/503/504 after every retry (a
   * probe: after its one retry). A `decisive` one (a request out of retries
   * at the connection level: no cluster has a connection of its own) and a
   * probe's failure open the endpoint at once.
   */
  strike(permit: EndpointPermit, cluster: string, error: string, decisive = false): void {
    const state = this.stateOf(permit.origin);
    if (permit.signal.aborted) {
      // Already counted since the endpoint opened; but the request's final error
      // describes the same failure better than a retry's bare code (with its hint).
      if (state.lastError !== null && error !== state.lastError && error.includes(state.lastError)) state.lastError = error;
      return;
    }
    state.lastError = error;
    if (permit.probe) {
      state.failedProbes += 1;
      this.open(permit.origin, state);
      return;
    }
    state.failing.add(cluster);
    if (state.phase === 'closed' && (decisive || state.failing.size >= this.threshold)) this.open(permit.origin, state);
  }

  /** Must be called once per permit: `reachable` when any answer but 502/503/504 came back. */
  settle(permit: EndpointPermit, reachable: boolean): void {
    const state = this.stateOf(permit.origin);
    if (permit.probe) state.probing = false;
    if (reachable) {
      if (state.phase !== 'closed') this.options.logger?.warn({ endpoint: permit.origin }, 'endpoint reachable again: calling it again');
      if (state.timer) clearTimeout(state.timer);
      Object.assign(state, { phase: 'closed', failedProbes: 0, pauseMs: this.firstPauseMs, nextClusterAt: 0, timer: null });
      state.failing.clear();
    }
    wakeAll(state.waiters);
  }

  /** Whether a request would wait now (open, or its probe out): its cluster may lend its fetch slot meanwhile. */
  holds(endpoint: string): boolean {
    const state = this.states.get(new URL(endpoint).origin);
    if (state === undefined || state.phase === 'closed') return false;
    if (state.phase === 'open' && Date.now() < state.retryAt) return !this.refusing(state);
    return state.probing;
  }

  /** Whether the endpoint is open now (its pause not over): a cluster should not start. */
  isOpen(endpoint: string): boolean {
    const state = this.states.get(new URL(endpoint).origin);
    return state !== undefined && state.phase === 'open' && Date.now() < state.retryAt;
  }

  /** The last counted failure at this endpoint, if any. */
  lastError(endpoint: string): string | null {
    return this.states.get(new URL(endpoint).origin)?.lastError ?? null;
  }

  private verdict(state: EndpointState, request: boolean): Verdict {
    const now = Date.now();
    if (state.phase === 'open' && now >= state.retryAt) state.phase = 'half-open';
    if (state.phase === 'closed') return { kind: 'go', probe: false };
    if (state.phase === 'open') {
      if (this.refusing(state)) return { kind: 'refused' };
      return this.waitUntil(state, state.retryAt, now);
    }
    if (state.probing) return { kind: 'wait' };
    // Half-open: a request becomes the probe; one cluster may start (its first request will be).
    if (request) {
      state.probing = true;
      return { kind: 'go', probe: true };
    }
    if (now < state.nextClusterAt) return this.waitUntil(state, state.nextClusterAt, now);
    state.nextClusterAt = now + state.pauseMs;
    wakeIn(state, state.pauseMs);
    return { kind: 'go', probe: false };
  }

  /**
   * A wait that only time ends: a timer must be due, or the waiter sleeps
   * forever. A timer can fire a millisecond before Date.now() reaches its
   * deadline; the waiter then looks again too early and needs a new one.
   */
  private waitUntil(state: EndpointState, deadline: number, now: number): Verdict {
    if (state.timer === null) wakeIn(state, Math.max(1, deadline - now));
    return { kind: 'wait' };
  }

  private refusing(state: EndpointState): boolean {
    return state.failedProbes >= this.probesBeforeRefusing;
  }

  private refusal(origin: string, state: EndpointState, call: ApiCallContext | null): EndpointUnreachableError {
    return new EndpointUnreachableError(origin, state.lastError ?? 'unknown', call);
  }

  private open(origin: string, state: EndpointState): void {
    const first = state.phase === 'closed';
    const pauseMs = first ? this.firstPauseMs : Math.min(state.pauseMs * 2, this.maxPauseMs);
    Object.assign(state, { phase: 'open', pauseMs, retryAt: Date.now() + pauseMs, nextClusterAt: 0 });
    state.failing.clear();
    wakeIn(state, pauseMs);
    const stopped = state.controller;
    state.controller = requestsController();
    const fields = { endpoint: origin, lastError: state.lastError, failedProbes: state.failedProbes, probeInMs: pauseMs };
    const { logger } = this.options;
    if (first) logger?.warn(fields, 'endpoint failing: its requests are held until a probe after a pause');
    else if (state.failedProbes === this.probesBeforeRefusing) {
      logger?.error(fields, `endpoint still unreachable after ${state.failedProbes} probes: its remaining clusters are not called`);
    } else if (!this.refusing(state)) logger?.info(fields, 'endpoint still failing after a probe: its requests stay held until the next probe');
    stopped.abort(this.refusal(origin, state, null));
    wakeAll(state.waiters);
  }

  private stateOf(origin: string): EndpointState {
    let state = this.states.get(origin);
    if (!state) {
      state = {
        phase: 'closed',
        failedProbes: 0,
        probing: false,
        failing: new Set(),
        lastError: null,
        retryAt: 0,
        pauseMs: this.firstPauseMs,
        nextClusterAt: 0,
        timer: null,
        controller: requestsController(),
        waiters: new Set(),
      };
      this.states.set(origin, state);
    }
    return state;
  }
}

/** Every request in flight to the endpoint listens on its signal: that is expected, not a leak. */
function requestsController(): AbortController {
  const controller = new AbortController();
  setMaxListeners(0, controller.signal);
  return controller;
}

/** Wakes the waiters after `ms`: they look again (the pause is over, or the next cluster may start). */
function wakeIn(state: EndpointState, ms: number): void {
  if (state.timer) clearTimeout(state.timer);
  state.timer = setTimeout(() => {
    state.timer = null;
    wakeAll(state.waiters);
  }, ms);
}
