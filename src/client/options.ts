import { clientError, ClientErrorCode, type WalrusError } from './errors.js';
import type { BackoffPolicy } from './backoff.js';
import * as limits from './limits.js';
import type { ConnectOptions, ConsumerOptions, ProducerOptions } from './types.js';
import type { TransportConnector, TransportTarget } from './transport.js';
import type { Deserializer, Serializer } from './serde.js';

/**
 * Option validation, done once when a client, producer or consumer is made and before any socket
 * opens. Each `resolve*` returns a complete, frozen settings object so later code never re-checks.
 */

/** Everything `connect()` needs, validated. */
export interface ConnectSettings {
  readonly target: TransportTarget;
  readonly clientId: string | undefined;
  readonly token: string | undefined;
  /** Undefined when reconnecting is disabled. */
  readonly reconnect: BackoffPolicy | undefined;
  readonly connectTimeoutMs: number;
  readonly transport: TransportConnector | undefined;
  readonly random: () => number;
}

/** Producer settings, validated. */
export interface ProducerSettings<T> {
  readonly lingerMs: number;
  readonly batchBytesMax: number;
  readonly inFlightBytesMax: number;
  readonly serializer: Serializer<T> | undefined;
}

/** Consumer settings, validated. */
export interface ConsumerSettings<T> {
  readonly topic: string;
  readonly group: string;
  readonly maxBufferedBytes: number;
  /** Undefined unless the caller asked: then the broker's own lease applies. */
  readonly ackTimeoutMs: number | undefined;
  readonly autoCommit: boolean;
  readonly deserializer: Deserializer<T> | undefined;
  /** Undefined unless the caller asked (then the group's own policy applies). */
  readonly maxDeliveries: number | undefined;
  readonly deadLetterTopic: string | undefined;
}

/** Topic and group names: the broker's rule, checked here so typos fail before a round trip. */
const NAME_PATTERN = /^[A-Za-z0-9._-]{1,249}$/;

function invalid(message: string): WalrusError {
  return clientError(ClientErrorCode.INVALID_OPTION, message);
}

function integerIn(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw invalid(`${name} must be an integer in ${min}..${max}, got ${String(value)}`);
  }
  return value;
}

function numberIn(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw invalid(`${name} must be a number in ${min}..${max}, got ${String(value)}`);
  }
  return value;
}

function optionalString(name: string, value: unknown, lengthMax: number): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > lengthMax) {
    throw invalid(`${name} must be a string of 1..${lengthMax} characters`);
  }
  return value;
}

function optionalFunction<F>(name: string, value: unknown): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw invalid(`${name} must be a function`);
  return value as F;
}

/** Validates a topic or group name (broker rule: 1-249 of `[A-Za-z0-9._-]`, not `.` or `..`). */
export function validateName(kind: 'topic' | 'group', name: unknown): string {
  if (typeof name !== 'string' || !NAME_PATTERN.test(name) || name === '.' || name === '..') {
    throw clientError(
      ClientErrorCode.INVALID_ARGUMENT,
      `${kind} must be 1-249 of [A-Za-z0-9._-] and not "." or "..", got ${JSON.stringify(String(name)).slice(0, 300)}`,
    );
  }
  return name;
}

/** Validates `connect()` options. Throws `INVALID_OPTION`. */
export function resolveConnectOptions(options: ConnectOptions): ConnectSettings {
  if (typeof options !== 'object' || options === null) throw invalid('connect() takes an options object');
  const host = options.host ?? '127.0.0.1';
  if (typeof host !== 'string' || host.length === 0) throw invalid('host must be a non-empty string');
  const port = integerIn('port', options.port, 9797, 1, 65_535);
  let reconnect: BackoffPolicy | undefined;
  if (options.reconnect !== false) {
    const r = options.reconnect ?? {};
    if (typeof r !== 'object' || r === null) throw invalid('reconnect must be an object or false');
    const maxDelayMs = integerIn('reconnect.maxDelayMs', r.maxDelayMs, limits.RECONNECT_MAX_DELAY_MS_DEFAULT, 1, limits.RECONNECT_MAX_DELAY_MS_MAX);
    const initialDelayMs = integerIn(
      'reconnect.initialDelayMs',
      r.initialDelayMs,
      Math.min(limits.RECONNECT_INITIAL_DELAY_MS_DEFAULT, maxDelayMs),
      0,
      maxDelayMs,
    );
    const multiplier = numberIn('reconnect.multiplier', r.multiplier, limits.RECONNECT_MULTIPLIER_DEFAULT, 1, 100);
    const jitter = numberIn('reconnect.jitter', r.jitter, limits.RECONNECT_JITTER_DEFAULT, 0, 1);
    reconnect = Object.freeze({ initialDelayMs, maxDelayMs, multiplier, jitter });
  }
  let tls: Readonly<Record<string, unknown>> | undefined;
  if (options.tls === true) tls = {};
  else if (typeof options.tls === 'object' && options.tls !== null) tls = { ...options.tls };
  else if (options.tls !== undefined && options.tls !== false) throw invalid('tls must be a boolean or tls.connect options');
  return Object.freeze({
    target: Object.freeze({ host, port, tls }),
    clientId: optionalString('clientId', options.clientId, limits.CLIENT_ID_LENGTH_MAX),
    token: optionalString('token', options.token, 4096),
    reconnect,
    connectTimeoutMs: integerIn('connectTimeoutMs', options.connectTimeoutMs, limits.CONNECT_TIMEOUT_MS_DEFAULT, 1, 10 * 60_000),
    transport: optionalFunction<TransportConnector>('transport', options.transport),
    random: optionalFunction<() => number>('random', options.random) ?? Math.random,
  });
}

/** Validates `producer()` options. Throws `INVALID_OPTION`. */
export function resolveProducerOptions<T>(options: ProducerOptions<T> = {}): ProducerSettings<T> {
  if (typeof options !== 'object' || options === null) throw invalid('producer() takes an options object');
  const batchBytesMax = integerIn('batchBytesMax', options.batchBytesMax, limits.BATCH_BYTES_DEFAULT, 1, limits.BATCH_BYTES_MAX);
  const inFlightBytesMax = integerIn(
    'inFlightBytesMax',
    options.inFlightBytesMax,
    Math.max(limits.IN_FLIGHT_BYTES_DEFAULT, batchBytesMax),
    1,
    limits.IN_FLIGHT_BYTES_MAX,
  );
  if (inFlightBytesMax < batchBytesMax) throw invalid('inFlightBytesMax must be at least batchBytesMax');
  return Object.freeze({
    lingerMs: integerIn('lingerMs', options.lingerMs, limits.LINGER_MS_DEFAULT, 0, limits.LINGER_MS_MAX),
    batchBytesMax,
    inFlightBytesMax,
    serializer: optionalFunction<Serializer<T>>('serializer', options.serializer),
  });
}

/** Validates `consumer()` options. Throws `INVALID_OPTION` (or `INVALID_ARGUMENT` for names). */
export function resolveConsumerOptions<T>(options: ConsumerOptions<T>): ConsumerSettings<T> {
  if (typeof options !== 'object' || options === null) throw invalid('consumer() takes an options object');
  if (options.autoCommit !== undefined && typeof options.autoCommit !== 'boolean') throw invalid('autoCommit must be a boolean');
  const topic = validateName('topic', options.topic);
  const deadLetterTopic = options.deadLetterTopic === undefined ? undefined : validateName('topic', options.deadLetterTopic);
  if (deadLetterTopic !== undefined && options.maxDeliveries === undefined) throw invalid('deadLetterTopic needs maxDeliveries');
  if (deadLetterTopic === topic) throw invalid('deadLetterTopic must differ from topic');
  return Object.freeze({
    topic,
    group: validateName('group', options.group),
    maxBufferedBytes: integerIn('maxBufferedBytes', options.maxBufferedBytes, limits.BUFFERED_BYTES_DEFAULT, 1, limits.BUFFERED_BYTES_MAX),
    ackTimeoutMs:
      options.ackTimeoutMs === undefined
        ? undefined
        : integerIn('ackTimeoutMs', options.ackTimeoutMs, limits.ACK_TIMEOUT_MS_DEFAULT, limits.ACK_TIMEOUT_MS_MIN, limits.ACK_TIMEOUT_MS_MAX),
    autoCommit: options.autoCommit ?? false,
    deserializer: optionalFunction<Deserializer<T>>('deserializer', options.deserializer),
    maxDeliveries:
      options.maxDeliveries === undefined ? undefined : integerIn('maxDeliveries', options.maxDeliveries, 1, 1, limits.DELIVERIES_MAX),
    deadLetterTopic,
  });
}
