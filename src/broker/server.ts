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
import { DeadLetterWriter } from './dead-letters.js';
import { GroupRegistry } from './group-registry.js';
import { HighWatermarks } from './high-watermarks.js';
import { startHttpEndpoints } from './http-endpoints.js';
import { createListener } from './listener.js';
import {
  CONNECTION_REQUESTS_IN_FLIGHT_MAX,
  FETCH_BYTES_DEFAULT_BROKER,
  FETCH_RECORD_OVERHEAD_BYTES,
  FETCH_REPLY_OVERHEAD_BYTES,
  LEASE_SWEEP_INTERVAL_MS_MAX,
} from './limits.js';
import { TopicWaiters } from './long-poll.js';
import { BrokerMetrics, NO_METRICS } from './metrics.js';
import type { MetricsRecorder } from './metrics.js';
import { formatConsistency, resolveBrokerOptions } from './options.js';
import type { BrokerOptions, ResolvedBrokerOptions } from './options.js';
import { RecordCodec } from './record-codec.js';

/** A running broker. */
export interface Broker {
  /** Bound address and port (the real port when started with port 0). */
  readonly host: string;
  readonly port: number;
  /** Port of /metrics, /healthz, /readyz (the real one when started with 0); undefined when off. */
  readonly metricsPort: number | undefined;
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
  const metrics = resolved.metricsPort === undefined ? undefined : new BrokerMetrics();
  const recorder: MetricsRecorder = metrics ?? NO_METRICS;
  const readiness = { ready: false };
  // Bound before the engine opens, so /healthz answers (and /readyz says 503) during a long recovery.
  const http =
    metrics === undefined
      ? undefined
      : await startHttpEndpoints({
          host: resolved.host,
          port: resolved.metricsPort ?? 0,
          logger,
          isReady: () => readiness.ready && !state.stopping,
          scrape: () => metrics.scrape(),
          contentType: metrics.contentType,
        });
  if (http !== undefined) logger.info({ host: http.host, metricsPort: http.port }, 'metrics listening');
  const engine: BrokerEngine =
    options.engine ??
    (await Walrus.open({
      dataDir: resolved.dataDir,
      fsync: resolved.fsync,
      consistency: resolved.consistency,
      backend: resolved.ioBackend,
      onSync: metrics === undefined ? undefined : (durationMs) => recorder.synced(durationMs),
      logger: logger.child({ component: 'engine' }),
    }).catch(async (error: unknown) => {
      await http?.close();
      throw error;
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
    deadLetters: new DeadLetterWriter({ engine, codec, highWatermarks, waiters }),
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
    metrics: recorder,
    logger,
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
    metrics: recorder,
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
    metrics: recorder,
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
    await http?.close();
    throw error;
  }
  server.on('error', (error) => logger.error({ err: error.message }, 'server error'));
  groups.start();
  metrics?.bind({
    engine,
    loadedGroups: () => groups.allGroups(),
    connectionCount: () => connections.size,
    queuedReplyBytes: () => {
      let bytes = 0;
      for (const c of connections) bytes += c.stats().queuedBytes;
      return bytes;
    },
  });
  readiness.ready = true;
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
      reads: engine.reads.name,
      readsReason: engine.reads.reason,
      metricsPort: http?.port,
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
    try {
      await engine.close();
    } finally {
      await http?.close();
    }
    logger.info('stopped');
  };

  return {
    host: address.address,
    port: address.port,
    metricsPort: http?.port,
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
