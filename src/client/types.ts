import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import type { Deserializer, Serializer } from './serde.js';
import type { TransportConnector } from './transport.js';

/** Record headers: names to UTF-8 strings or bytes (fetched headers come back as they were sent). */
export type Headers = Record<string, string | Uint8Array>;

/** Reconnect schedule: capped exponential backoff with jitter (see backoff.ts). */
export interface ReconnectOptions {
  /** Delay before the first retry. Default 100 ms. */
  initialDelayMs?: number;
  /** Ceiling of the delay. Default 5,000 ms (at most 60,000). */
  maxDelayMs?: number;
  /** Growth per failed attempt, ≥ 1. Default 2. */
  multiplier?: number;
  /** Randomised fraction of each delay, 0 … 1. Default 0.5. */
  jitter?: number;
}

/** Options of `connect()`. */
export interface ConnectOptions {
  /** Broker host. Default `127.0.0.1`. */
  host?: string;
  /** Broker port. Default 9797. */
  port?: number;
  /** Shown in broker logs. */
  clientId?: string;
  /** Sent in `hello` when the broker requires a token. */
  token?: string;
  /** Aborts the initial connection attempts (they otherwise retry until the broker answers). */
  signal?: AbortSignal;
  /** Reconnect schedule, or `false` to give up (and close the client) when the connection drops. */
  reconnect?: ReconnectOptions | false;
  /** `true` or `tls.connect` options for TLS; plain TCP when absent. */
  tls?: boolean | TlsConnectionOptions;
  /** Bound of one connect + `hello` attempt. Default 10,000 ms. */
  connectTimeoutMs?: number;
  /** Replaces the TCP transport (tests, other runtimes). */
  transport?: TransportConnector;
  /** Source of jitter in [0, 1). Default `Math.random`. */
  random?: () => number;
}

/** Options of `client.producer()`. */
export interface ProducerOptions<T = Uint8Array> {
  /** How long concurrent sends are gathered into one batch. Default 2 ms, at most 1,000. 0 = the current event-loop turn. */
  lingerMs?: number;
  /** Payload bytes per batch before it ships without waiting for linger. Default 1 MiB. */
  batchBytesMax?: number;
  /** Bytes sent but not yet acknowledged; `send` waits beyond this. Default 16 MiB. */
  inFlightBytesMax?: number;
  /** Turns values into bytes; without it values must be `Uint8Array`/`Buffer`. */
  serializer?: Serializer<T>;
}

/** A value with its optional key and headers. */
export interface ProducerRecord<T = Uint8Array> {
  value: T;
  key?: Uint8Array | string;
  headers?: Headers;
}

/** What `send` accepts: a bare value, or a record carrying key and headers. */
export type SendInput<T = Uint8Array> = T | ProducerRecord<T>;

/** Per-call options of long operations. */
export interface CallOptions {
  /** Aborts the wait (backpressure, reply); work already handed to the broker may still complete. */
  signal?: AbortSignal;
}

/** Result of `send`. */
export interface SendResult {
  /** Offset the record got in its topic. */
  offset: number;
}

/** Result of `sendBatch`: the records got offsets `baseOffset … baseOffset + count - 1`, in order. */
export interface SendBatchResult {
  baseOffset: number;
  count: number;
}

/** Options of `client.consumer()`. */
export interface ConsumerOptions<T = Buffer> {
  topic: string;
  group: string;
  /** Prefetch bound: payload bytes held ahead of the reader (plus at most one record per fetch in flight). Default 4 MiB. */
  maxBufferedBytes?: number;
  /**
   * Lease asked for on each fetch (`fetch.ackTimeoutMs`): how long a handed-out record stays yours
   * before the broker gives it to another member. Default: the broker's `--ack-timeout-ms` (30,000 ms).
   * 100 … 86,400,000.
   */
  ackTimeoutMs?: number;
  /** Commit each message when the loop asks for the next one (i.e. after the handler). Default false. */
  autoCommit?: boolean;
  /**
   * Dead-letter policy sent with each fetch, applied by the broker when the group has none yet (the
   * first member to ask sets it; `configureGroup` changes it): a record handed out this many times
   * without a commit (lease expired, nacked, connection lost) is copied to `deadLetterTopic` and
   * acknowledged. 1 … 1,000,000. Default: unlimited deliveries.
   */
  maxDeliveries?: number;
  /** Where dead letters go (with `maxDeliveries`). Default `<topic>.dlq`. */
  deadLetterTopic?: string;
  /** Turns record bytes into values; without it `value` is the raw `Buffer`. */
  deserializer?: Deserializer<T>;
}

/** One consumed record. */
export interface Message<T = Buffer> {
  readonly topic: string;
  readonly offset: number;
  /** Append time, ms since the epoch. */
  readonly timestamp: number;
  readonly value: T;
  readonly key?: Buffer;
  readonly headers?: Headers;
  /**
   * "I am done with this one": acknowledges this message and every message this consumer yielded
   * before it. Resolves once the broker stored it, or at once when the broker can take nothing more
   * yet (an earlier record still held) or the connection that leased it is gone (it will be redelivered).
   */
  commit(): Promise<void>;
  /**
   * "Give this one back": the broker hands it out again (to any member, possibly this one) after
   * `delayMs`, or dead-letters it when it reached the group's `maxDeliveries`. Does not acknowledge
   * anything else. Resolves once the broker took it back, or at once when the connection that leased
   * it is gone (it will be redelivered anyway). Rejects with `NOT_LEASED` when the lease already ended.
   */
  nack(options?: NackOptions): Promise<void>;
  /**
   * Keeps this message's lease for `ms` from now (100 … 86,400,000) instead of its fetch's
   * `ackTimeoutMs`, for a handler that needs longer. Rejects with `NOT_LEASED` when the lease
   * already ended (expired, committed, nacked, or its connection dropped).
   */
  extend(ms: number): Promise<void>;
}

/** Options of `msg.nack()`. */
export interface NackOptions {
  /** Wait before the record may be handed out again; 0 … 86,400,000. Default 0. */
  delayMs?: number;
  /** Why; the broker keeps it as the record's last reason (`walrus.dlq.reason` if dead-lettered). ≤ 1,024 characters. */
  reason?: string;
}

/** Options of `consumer.messages()`. */
export interface MessagesOptions {
  /** Ends the loop: the pending `next()` rejects with code `ABORTED`. */
  signal?: AbortSignal;
}

/** Options of `consumer.batches()`. */
export interface BatchesOptions extends MessagesOptions {
  /** Most messages per batch. Default 100, at most 2,000. */
  maxRecords?: number;
  /** How long to wait for a batch to fill once it has its first message. Default 50 ms. */
  maxWaitMs?: number;
}

/** A group of consumed messages, in delivery order. */
export interface MessageBatch<T = Buffer> {
  readonly topic: string;
  readonly messages: readonly Message<T>[];
  /** Commits the last message (and so the whole batch). */
  commit(): Promise<void>;
}

/** Options of `client.close()`. */
export interface CloseOptions {
  /** How long to wait for handlers, commits and sends to finish before cutting the connection. Default 5,000 ms. */
  timeoutMs?: number;
}

/** Payload of the `connected` event. */
export interface ConnectedEvent {
  /** Broker name and version from `hello`. */
  broker: string;
  /** True for every connection after the first. */
  reconnected: boolean;
}

/** Payload of the `disconnected` event. */
export interface DisconnectedEvent {
  /** Why, when known. */
  error: Error | undefined;
}

/** Payload of the `reconnecting` event. */
export interface ReconnectingEvent {
  /** 1 for the first retry after a loss. */
  attempt: number;
  /** Wait before this attempt. */
  delayMs: number;
  /** Why the previous attempt (or connection) failed. */
  error: Error | undefined;
}

/** Client lifecycle events. */
export interface ClientEvents {
  connected: [ConnectedEvent];
  disconnected: [DisconnectedEvent];
  reconnecting: [ReconnectingEvent];
}

/** Where `seek` moves a group: an offset, the oldest retained record, or past the newest. */
export type SeekTarget = number | 'earliest' | 'latest';

/** Progress of one group on a topic. */
export interface GroupLag {
  group: string;
  /** Persisted cursor: the lowest offset not yet acknowledged. */
  committed: number;
  /** Records handed out and leased, not yet acknowledged. */
  inFlight: number;
  /** Records between the cursor and the end of the topic. */
  lag: number;
}

/** What `admin.describeTopic` reports. */
export interface TopicDescription {
  topic: string;
  /** Offset of the oldest retained record. */
  firstOffset: number;
  /** Offset the next record will get. */
  nextOffset: number;
  /** Bytes retained on disk. */
  bytes: number;
  /** Retention caps set by createTopic (absent: records are kept until every group has committed past them). */
  retentionMs?: number;
  retentionBytes?: number;
  groups: GroupLag[];
}

/** Retention caps of a topic (whole sealed blocks past a cap are reclaimed, committed or not). */
export interface TopicRetention {
  /** Reclaim records older than this many ms. */
  retentionMs?: number;
  /** Reclaim the oldest records while the rest still holds this many bytes. */
  retentionBytes?: number;
}
