/**
 * `startBroker`: opens the engine (unless given one), binds the TCP (or TLS, see listener.ts) listener, and wires connections
 * to the dispatcher. `stop()` is the graceful path used by SIGTERM/SIGINT: stop accepting, refuse
 * new requests with SHUTTING_DOWN, answer pending long-polls, let in-flight requests finish (bounded
 * by `shutdownGraceMs`), flush replies, wait for cursor writes, close the engine.
 */
import { readFileSync } from 'node:fs';
import type { AddressInfo, Server, Socket } from 'node:net';
import { pino } from 'pino';
import type { Logger } from 'pino';
import { FsyncSchedule, Walrus } from '../engine/index.js';
import { ErrorCode } from '../protocol/index.js';
import { TokenChecker } from './auth-tokens.js';
import { Connection } from './connection.js';
import type { ConnectionStats } from './connection.js';
import { Dispatcher } from './dispatcher.js';
import type { BrokerEngine } from './engine-port.js';
import { fetchBytesMax } from './fetch-budget.js';
import { FetchHandler } from './fetch-handler.js';
import { GroupRegistry } from './group-registry.js';
import { HighWatermarks } from './high-watermarks.js';
import { createListener } from './listener.js';
import {
  CONNECTION_REQUESTS_IN_FLIGHT_MAX,
  FETCH_BYTES_DEFAULT_BROKER,
  FETCH_RECORD_OVERHEAD_BYTES,
  FETCH_REPLY_OVERHEAD_BYTES,
  LEASE_SWEEP_INTERVAL_MS_MAX,
} from './limits.js';
import { TopicWaiters } from './long-poll.js';
import { formatConsistency, resolveBrokerOptions } from './options.js';
import type { BrokerOptions, ResolvedBrokerOptions } from './options.js';
import { RecordCodec } from './record-codec.js';

/** A running broker. */
export interface Broker {
  /** Bound address and port (the real port when started with port 0). */
  readonly host: string;
  readonly port: number;
  readonly options: ResolvedBrokerOptions;
  readonly engine: BrokerEngine;
  /** Open connections. */
  readonly connectionCount: number;
  /** Per-connection backpressure state (for tests and diagnostics). */
  stats(): { connections: ConnectionStats[] };
  /** Graceful stop; idempotent. Resolves once the engine is closed. */
  stop(): Promise<void>;
}

/** Name and version reported in `hello` replies. */
function brokerName(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return `walrus-broker/${pkg.version ?? '0.0.0'}`;
  } catch {
    return 'walrus-broker';
  }
}

/** Starts a broker; resolves once it is listening. */
export async function startBroker(options: BrokerOptions): Promise<Broker> {
  const resolved = resolveBrokerOptions(options);
  const logger: Logger = options.logger ?? pino({ level: 'info', base: { pid: process.pid } });
  const now = options.now ?? Date.now;
  const engine: BrokerEngine =
    options.engine ??
    (await Walrus.open({
      dataDir: resolved.dataDir,
      fsync: resolved.fsync,
      consistency: resolved.consistency,
      backend: resolved.ioBackend,
      logger: logger.child({ component: 'engine' }),
    }));

  const codec = new RecordCodec();
  const highWatermarks = new HighWatermarks(engine);
  const waiters = new TopicWaiters(engine, (topic, nextOffset) => highWatermarks.advance(topic, nextOffset));
  const groups = new GroupRegistry({
    engine,
    ackTimeoutMs: resolved.ackTimeoutMs,
    sweepIntervalMs: Math.max(5, Math.min(LEASE_SWEEP_INTERVAL_MS_MAX, Math.floor(resolved.ackTimeoutMs / 4))),
    now,
    logger,
    onRedeliverable: (topic) => waiters.notify(topic),
  });
  const state = { stopping: false };
  const isStopping = (): boolean => state.stopping;
  const fetchMax = fetchBytesMax(resolved.maxFrameBytes, FETCH_BYTES_DEFAULT_BROKER);
  const fetchHandler = new FetchHandler({
    engine,
    codec,
    highWatermarks,
    waiters,
    groups,
    now,
    fetchBytesDefault: Math.min(FETCH_BYTES_DEFAULT_BROKER, fetchMax),
    fetchBytesMax: fetchMax,
    isStopping,
  });
  const dispatcher = new Dispatcher({
    engine,
    codec,
    highWatermarks,
    waiters,
    groups,
    fetchHandler,
    now,
    brokerName: brokerName(),
    maxFrameBytes: resolved.maxFrameBytes,
    fetchBytesMax: fetchMax,
    recordBytesMax: resolved.maxFrameBytes - FETCH_REPLY_OVERHEAD_BYTES - FETCH_RECORD_OVERHEAD_BYTES,
    tokens: new TokenChecker(resolved.authTokens),
  });

  const connections = new Set<Connection>();
  const connectionIds = { next: 1 };
  const connectionContext = {
    dispatcher,
    logger,
    maxFrameBytes: resolved.maxFrameBytes,
    queuedBytesMax: resolved.queuedBytesMax,
    requestsInFlightMax: CONNECTION_REQUESTS_IN_FLIGHT_MAX,
    isStopping,
    onClosed(connection: Connection): void {
      connections.delete(connection);
      groups.releaseOwner(connection.session.id);
      logger.debug({ conn: connection.session.id }, 'connection closed');
    },
  };

  const server: Server = createListener(resolved.tls, (socket: Socket) => {
    const connection = new Connection(socket, connectionIds.next++, connectionContext);
    if (state.stopping) {
      connection.rejectAndClose(ErrorCode.SHUTTING_DOWN, 'the broker is stopping');
      return;
    }
    if (connections.size >= resolved.maxConnections) {
      logger.warn({ maxConnections: resolved.maxConnections }, 'connection refused: too many connections');
      connection.rejectAndClose(ErrorCode.TOO_MANY_CONNECTIONS, `the broker is at maxConnections (${resolved.maxConnections})`);
      return;
    }
    connections.add(connection);
    logger.debug({ conn: connection.session.id, remote: `${socket.remoteAddress}:${socket.remotePort}` }, 'connection opened');
  }, logger);

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: resolved.host, port: resolved.port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await engine.close().catch(() => {});
    throw error;
  }
  server.on('error', (error) => logger.error({ err: error.message }, 'server error'));
  groups.start();
  const address = server.address() as AddressInfo;
  logger.info(
    {
      host: address.address,
      port: address.port,
      fsync: FsyncSchedule.format(resolved.fsync),
      consistency: formatConsistency(resolved.consistency),
      maxFrameBytes: resolved.maxFrameBytes,
      maxConnections: resolved.maxConnections,
      ackTimeoutMs: resolved.ackTimeoutMs,
      tls: resolved.tls !== undefined,
      authTokens: resolved.authTokens.length,
      backend: engine.backend.name,
      backendReason: engine.backend.reason,
    },
    'listening',
  );

  const stopped: { promise: Promise<void> | undefined } = { promise: undefined };
  const stop = async (): Promise<void> => {
    state.stopping = true;
    logger.info({ connections: connections.size }, 'stopping');
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    groups.stop();
    waiters.wakeAll();
    const idle = Promise.all([...connections].map((c) => c.whenIdle()));
    const grace = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), resolved.shutdownGraceMs).unref());
    if ((await Promise.race([idle.then(() => 'idle' as const), grace])) === 'timeout') {
      logger.warn({ graceMs: resolved.shutdownGraceMs }, 'requests still in flight at the end of the grace period');
    }
    for (const c of connections) c.shutdown();
    await groups.flush();
    // Sockets that do not close by themselves after their replies are flushed are cut.
    const drained = new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (connections.size === 0) {
          clearInterval(poll);
          resolve();
        }
      }, 10);
      setTimeout(() => {
        clearInterval(poll);
        for (const c of connections) c.destroy();
        resolve();
      }, 1000).unref();
    });
    await drained;
    await closed;
    await engine.close();
    logger.info('stopped');
  };

  return {
    host: address.address,
    port: address.port,
    options: resolved,
    engine,
    get connectionCount() {
      return connections.size;
    },
    stats() {
      return { connections: [...connections].map((c) => c.stats()) };
    },
    stop(): Promise<void> {
      if (stopped.promise === undefined) stopped.promise = stop();
      return stopped.promise;
    },
  };
}
