/** The DWS API simulator used by the demo, the integration tests and the benchmark. */
export { SimFleet } from './fleet.js';
export type { ClusterFault, FleetSpec, SimCluster, SimTask } from './fleet.js';
export { startSimulator } from './server.js';
export type { Simulator, SimulatorOptions, SimulatorStats } from './server.js';
