/** What planning works with: the clusters a project lists, and the clusters a run exports. */

/** A cluster a run exports, and the endpoint to ask for its tasks. */
export interface ClusterRef {
  readonly endpoint: string;
  readonly projectId: string;
  readonly clusterId: string;
}

/** One entry of ListClusters (`GET /v1.0/{project_id}/clusters`), as far as the exporter needs it. */
export interface ListedCluster {
  readonly id: string;
  readonly name: string | null;
  /** Open set: CREATING, ACTIVE, AVAILABLE, FAILED, DELETING, FROZEN, … */
  readonly status: string | null;
}

/** The one API call planning needs (implemented by src/source/dws-client.ts). */
export interface ClusterLister {
  /** Every cluster of a project (the API does not paginate this list). */
  listClusters(endpoint: string, projectId: string, signal?: AbortSignal): Promise<readonly ListedCluster[]>;
}
