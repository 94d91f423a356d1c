/**
 * Request and response shapes of every op (docs/protocol.md is the prose version). Requests carry
 * `op` and a client-chosen `id`; every response carries the same `id` and `ok`.
 * Offsets, timestamps (ms since the epoch) and counts are integers; payloads are bytes (`bin`).
 */
import type { ErrorCode } from './error-codes.js';

/** Every op name, as an enum-like object. */
export const Op = {
  hello: 'hello',
  produce: 'produce',
  produceBatch: 'produceBatch',
  fetch: 'fetch',
  commit: 'commit',
  createTopic: 'createTopic',
  deleteTopic: 'deleteTopic',
  listTopics: 'listTopics',
  describeTopic: 'describeTopic',
  seek: 'seek',
  nack: 'nack',
  extend: 'extend',
  configureGroup: 'configureGroup',
} as const;
/** An op name. */
export type Op = (typeof Op)[keyof typeof Op];

/**
 * Headers the broker adds to a record's copy in a dead-letter topic (string values; offsets and
 * counts in decimal). They replace same-named headers of the original; other headers are kept.
 */
export const DeadLetterHeader = {
  topic: 'walrus.dlq.topic',
  group: 'walrus.dlq.group',
  offset: 'walrus.dlq.offset',
  timestamp: 'walrus.dlq.timestamp',
  deliveries: 'walrus.dlq.deliveries',
  reason: 'walrus.dlq.reason',
} as const;

/** Record headers: names to UTF-8 strings or bytes. */
export type Headers = Record<string, string | Uint8Array>;

/** Fields every request has. */
export interface RequestBase {
  /** Client-chosen request id (1 … 2^53-1); echoed in the response. 0 is reserved for connection errors. */
  id: number;
}

/** First request on a connection. */
export interface HelloRequest extends RequestBase {
  op: 'hello';
  version: number;
  clientId?: string;
  token?: string;
}

/** One record to append. */
export interface ProduceRecord {
  value: Uint8Array;
  key?: Uint8Array;
  headers?: Headers;
}

/** Appends one record; creates the topic when missing. */
export interface ProduceRequest extends RequestBase, ProduceRecord {
  op: 'produce';
  topic: string;
}

/** Appends 1 … 2,000 records atomically; they arrive as `records` or as one `recordsBlob`. */
export type ProduceBatchRequest = ProduceBatchRecordsRequest | ProduceBatchBlobRequest;

/** `produceBatch` with `records`: an array of maps. */
export interface ProduceBatchRecordsRequest extends RequestBase {
  op: 'produceBatch';
  topic: string;
  records: ProduceRecord[];
  recordBodies?: undefined;
}

/**
 * `produceBatch` with `recordsBlob` (produce-blob.ts), as validated: each record's body in the stored
 * layout, views into the request frame (which the decoder never reuses, so they stay valid).
 */
export interface ProduceBatchBlobRequest extends RequestBase {
  op: 'produceBatch';
  topic: string;
  /** Absent: the records are in `recordBodies` (branch on it). */
  records?: undefined;
  recordBodies: Buffer[];
  /** Sum of the records' value bytes. */
  valueBytes: number;
}

/** Reads records: from `offset` (plain read) or as the next ones for `group` (leased). */
export interface FetchRequest extends RequestBase {
  op: 'fetch';
  topic: string;
  group?: string;
  offset?: number;
  maxBytes?: number;
  maxRecords?: number;
  /** Long-poll: wait up to this long for records when none are available. */
  maxWaitMs?: number;
  /** With `group`: lease length for the records handed out by this fetch (default: the broker's). */
  ackTimeoutMs?: number;
  /**
   * With `group`: the group's `maxDeliveries`, applied only while the group has none configured
   * (first use); `configureGroup` changes it later.
   */
  maxDeliveries?: number;
  /** With `group` and `maxDeliveries`: the dead-letter topic (default `<topic>.dlq`), same first-use rule. */
  deadLetterTopic?: string;
  /** Reply with the records as one `recordsBlob` bin (records-blob.ts) instead of `records`. */
  recordsBlob?: boolean;
}

/** Acknowledges every record this connection was given in `group` below `offset`. */
export interface CommitRequest extends RequestBase {
  op: 'commit';
  topic: string;
  group: string;
  offset: number;
  /**
   * Only records handed out by group fetches with `handOutId` ≤ this are acknowledged (default: all):
   * a client that gave a record back (`nack`) passes the highest `handOutId` it has processed, so a
   * redelivery still in flight to it is never acknowledged unseen.
   */
  seenHandOutId?: number;
}

/**
 * Creates a topic; succeeds (created: false) when it already exists. Retention caps, when given,
 * are set (or changed, on an existing topic): whole sealed blocks past a cap are reclaimed even if a
 * group has not committed past them. Without caps a record is kept until every group has.
 */
export interface CreateTopicRequest extends RequestBase {
  op: 'createTopic';
  topic: string;
  /** Reclaim records older than this many ms (whole blocks). */
  retentionMs?: number;
  /** Reclaim the oldest records while the rest still holds this many bytes (whole blocks). */
  retentionBytes?: number;
}

/** Deletes a topic and its groups' cursors. */
export interface DeleteTopicRequest extends RequestBase {
  op: 'deleteTopic';
  topic: string;
}

/** Lists topic names. */
export interface ListTopicsRequest extends RequestBase {
  op: 'listTopics';
}

/** Offsets, bytes and per-group progress of one topic. */
export interface DescribeTopicRequest extends RequestBase {
  op: 'describeTopic';
  topic: string;
}

/** Where `seek` moves a group. */
export type SeekTarget = number | 'earliest' | 'latest';

/** Moves a group's cursor; drops its leases. */
export interface SeekRequest extends RequestBase {
  op: 'seek';
  topic: string;
  group: string;
  to: SeekTarget;
}

/** Gives back a record this connection holds; it is handed out again after `delayMs` (default 0). */
export interface NackRequest extends RequestBase {
  op: 'nack';
  topic: string;
  group: string;
  offset: number;
  delayMs?: number;
  /** Why; kept as the record's last reason (a dead-letter header). */
  reason?: string;
}

/** Makes the lease of a record this connection holds end `ms` from now. */
export interface ExtendRequest extends RequestBase {
  op: 'extend';
  topic: string;
  group: string;
  offset: number;
  ms: number;
}

/** Sets a group's dead-letter policy (replaces what a fetch set on first use). */
export interface ConfigureGroupRequest extends RequestBase {
  op: 'configureGroup';
  topic: string;
  group: string;
  /** 0 = unlimited (never dead-letter). */
  maxDeliveries: number;
  deadLetterTopic?: string;
}

/** Any valid request. */
export type Request =
  | HelloRequest
  | ProduceRequest
  | ProduceBatchRequest
  | FetchRequest
  | CommitRequest
  | CreateTopicRequest
  | DeleteTopicRequest
  | ListTopicsRequest
  | DescribeTopicRequest
  | SeekRequest
  | NackRequest
  | ExtendRequest
  | ConfigureGroupRequest;

/** `hello` reply. */
export interface HelloResult {
  version: number;
  /** Broker name and version, e.g. `walrus-broker/0.1.0`. */
  broker: string;
  maxFrameBytes: number;
  /** Most records in one produceBatch. */
  batchRecordsMax: number;
  /** Largest `fetch.maxBytes` honoured. */
  fetchBytesMax: number;
  /**
   * Optional protocol features this broker supports (`Feature` values). Absent from brokers that
   * predate it, which is the same as empty; clients ignore names they do not know.
   */
  features?: readonly string[];
}

/** Names a broker may list in `hello.features`. */
export const Feature = {
  /** `produceBatch` accepts `recordsBlob` (produce-blob.ts) instead of `records`. */
  produceRecordsBlob: 'produceRecordsBlob',
} as const;
/** A feature name. */
export type Feature = (typeof Feature)[keyof typeof Feature];

/** `produce` reply. */
export interface ProduceResult {
  offset: number;
  timestamp: number;
}

/** `produceBatch` reply; records got offsets baseOffset … baseOffset+count-1. */
export interface ProduceBatchResult {
  baseOffset: number;
  count: number;
  timestamp: number;
}

/** One record as fetched. */
export interface FetchedRecord {
  offset: number;
  timestamp: number;
  value: Uint8Array;
  key?: Uint8Array;
  headers?: Headers;
}

/** `fetch` reply, as the broker builds it (and as it arrives when `recordsBlob` was not asked for). */
export interface FetchResult {
  records: FetchedRecord[];
  /** Offset the next produced record will get (one past the last record). */
  highWatermark: number;
  /**
   * Group fetches that handed out records: this hand-out's id, taken when the fetch arrived, so ids
   * increase in arrival order (on one connection: in the order sent). See `commit.seenHandOutId`.
   */
  handOutId?: number;
}

/**
 * `fetch` reply as a client receives it: `records`, or, when it asked for `recordsBlob` and the broker
 * knows that field, `recordsBlob` (an older broker ignores the request field and sends `records`).
 */
export interface FetchReply extends Omit<FetchResult, 'records'> {
  records?: FetchedRecord[];
  recordsBlob?: Uint8Array;
}

/** `commit` reply: the group's persisted cursor (lowest offset not yet acknowledged). */
export interface CommitResult {
  committed: number;
}

/** `createTopic` reply. */
export interface CreateTopicResult {
  created: boolean;
}

/** `deleteTopic` reply. */
export type DeleteTopicResult = Record<string, never>;

/** `listTopics` reply. */
export interface ListTopicsResult {
  topics: string[];
}

/** Progress of one group on a topic. */
export interface GroupDescription {
  group: string;
  /** Persisted cursor: the lowest offset not yet acknowledged. */
  committed: number;
  /** Records handed out and leased, not yet acknowledged (records parked by a delayed nack included). */
  inFlight: number;
  /** highWatermark - committed. */
  lag: number;
}

/** `describeTopic` reply. */
export interface DescribeTopicResult {
  topic: string;
  firstOffset: number;
  nextOffset: number;
  bytes: number;
  /** Retention caps, when set by createTopic. */
  retentionMs?: number;
  retentionBytes?: number;
  groups: GroupDescription[];
}

/** `seek` reply: the group's new cursor. */
export interface SeekResult {
  offset: number;
}

/** `nack` reply. */
export type NackResult = Record<string, never>;

/** `extend` reply: when the lease now ends (broker clock, ms since the epoch). */
export interface ExtendResult {
  expiresAtMs: number;
}

/** `configureGroup` reply: the group's policy now in force. */
export interface ConfigureGroupResult {
  /** 0 = unlimited. */
  maxDeliveries: number;
  deadLetterTopic: string;
}

/** Maps each op to its reply fields. */
export interface ResultByOp {
  hello: HelloResult;
  produce: ProduceResult;
  produceBatch: ProduceBatchResult;
  fetch: FetchReply;
  commit: CommitResult;
  createTopic: CreateTopicResult;
  deleteTopic: DeleteTopicResult;
  listTopics: ListTopicsResult;
  describeTopic: DescribeTopicResult;
  seek: SeekResult;
  nack: NackResult;
  extend: ExtendResult;
  configureGroup: ConfigureGroupResult;
}

/** The `error` field of a failed response. */
export interface WireError {
  code: ErrorCode;
  message: string;
}

/** A successful response: `{ id, ok: true, ...result }`. */
export type OkResponse<R extends object = object> = { id: number; ok: true } & R;

/** A failed response. */
export interface ErrorResponse {
  id: number;
  ok: false;
  error: WireError;
}

/** Any response. */
export type Response<R extends object = object> = OkResponse<R> | ErrorResponse;
