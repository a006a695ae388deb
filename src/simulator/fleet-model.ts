/**
 * The fleet's data model: what one task and one cluster are. A leaf module so
 * that the generator, the fleet's index, the fault injector and the server can
 * all share the shapes without importing one another.
 */

/** Exactly what the API returns for one task. A fault may add odd fields. */
export interface SimTask {
  readonly type: string | null;
  readonly logical_cluster_name: string | null;
  readonly start_time: string | null;
  readonly end_time: string | null;
  readonly result: string | null;
  readonly log: string | null;
}

/** Applied to every tasks request for that cluster. */
export type ClusterFault =
  | {
      readonly kind: 'status';
      readonly status: number;
      readonly errorCode: string;
      readonly errorMsg: string;
    }
  /** 200 with a non-JSON (HTML) body, as an intermediate proxy might send. */
  | { readonly kind: 'malformed' };

export interface SimCluster {
  readonly projectId: string;
  readonly id: string;
  readonly name: string;
  status: string;
  readonly tasks: SimTask[];
  fault?: ClusterFault;
  /** ISO 8601 with `Z`, as ListClusters reports it; the server invents one when absent. */
  readonly created?: string;
  readonly updated?: string;
}
