/**
 * The broker: TCP server, connections, dispatch, long-poll, consumer groups. `startBroker` runs one
 * in-process (tests, benches); `cli.ts` is the `walrus-broker` daemon.
 */
export { startBroker } from './server.js';
export type { Broker } from './server.js';
export { resolveBrokerOptions, parseConsistency, formatConsistency } from './options.js';
export type { BrokerOptions, ResolvedBrokerOptions } from './options.js';
export type { BrokerEngine } from './engine-port.js';
export type { ConnectionStats } from './connection.js';
export { PORT_DEFAULT, HOST_DEFAULT, ACK_TIMEOUT_MS_DEFAULT, CONNECTIONS_MAX_DEFAULT, FRAME_BYTES_MAX_DEFAULT } from './limits.js';
