/**
 * The simulator's knobs, apart from the server so that the modules that read
 * them (gateway auth, the endpoints) do not depend on the server's lifecycle
 * code, and checked up front so that a bad value fails at start, not mid-run.
 */
import type { FaultSpec } from './faults.js';
import type { SimFleet } from './fleet.js';
import type { SimIdentities } from './identity.js';

export interface SimulatorOptions {
  readonly fleet: SimFleet;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0: an ephemeral port, read it back from `url`. */
  readonly port?: number;
  /**
   * 'pages' (default, the documented "page number minus 1"): first row = offset * limit.
   * 'rows': offset = rows to skip.
   */
  readonly offsetMode?: 'rows' | 'pages';
  /** Silently caps `limit`, as real servers may. Default: no cap. */
  readonly pageSizeCap?: number;
  /** Added before answering each request. Default 0. */
  readonly latencyMs?: number;
  /** Serve HTTPS with this key and certificate chain (PEM), as a gateway or a TLS-inspecting proxy would. Default: HTTP. */
  readonly tls?: { readonly key: string; readonly cert: string };
  /** Injected faults on the tasks endpoint (src/simulator/faults.ts). */
  readonly faults?: FaultSpec;
  /** Absent, or with neither field: every request is accepted. */
  readonly auth?: {
    readonly token?: string;
    readonly credentials?: { readonly accessKey: string; readonly secretKey: string };
    /**
     * The simulated cloud's keys and tokens (issued by the IAM and metadata
     * simulators, or added by a test), with its clock. When set, it alone
     * decides: `token` and `credentials` are ignored.
     */
    readonly identities?: SimIdentities;
  };
}

export function validateOptions(options: SimulatorOptions): void {
  const { pageSizeCap, latencyMs } = options;
  if (pageSizeCap !== undefined && !(Number.isInteger(pageSizeCap) && pageSizeCap > 0)) {
    throw new RangeError('SimulatorOptions.pageSizeCap must be a positive integer');
  }
  if (latencyMs !== undefined && !(latencyMs >= 0)) {
    throw new RangeError('SimulatorOptions.latencyMs must be >= 0');
  }
}
