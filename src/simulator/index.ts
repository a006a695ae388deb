/** The DWS API simulator used by the demo, the integration tests and the benchmark. */
export { SimFleet, historyEndingAt } from './fleet.js';
export type { ClusterFault, FleetSpec, SimCluster, SimTask } from './fleet.js';
export { startSimulator } from './server.js';
export type { Simulator, SimulatorOptions, SimulatorStats } from './server.js';
export { SimIdentities, isoMicros } from './identity.js';
export type { IdentityStats, SimKey } from './identity.js';
export { startIamSimulator } from './iam.js';
export type { IamSimulator, IamSimulatorOptions, SimIamUser } from './iam.js';
export { startMetadataSimulator } from './metadata.js';
export type { MetadataSimulator, MetadataSimulatorOptions } from './metadata.js';
