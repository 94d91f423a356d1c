/**
 * Routes validated requests to their handlers and builds the reply fields. Produce calls the engine
 * before its first await, so pipelined produces of one connection get offsets in the order sent
 * (the engine assigns offsets in call order and creates a topic on its first append).
 */
import { BATCH_RECORDS_MAX, ErrorCode, Feature, PROTOCOL_VERSION, ProtocolError } from '../protocol/index.js';
import type {
  CommitRequest,
  ConfigureGroupRequest,
  ConfigureGroupResult,
  DescribeTopicResult,
  ExtendRequest,
  ExtendResult,
  GroupDescription,
  HelloRequest,
  HelloResult,
  NackRequest,
  ProduceBatchRequest,
  ProduceRequest,
  Request,
  SeekRequest,
} from '../protocol/index.js';
import type { TokenChecker } from './auth-tokens.js';
import { requireOtherTopic } from './dead-letters.js';
import type { BrokerEngine } from './engine-port.js';
import type { FetchHandler } from './fetch-handler.js';
import type { GroupRegistry } from './group-registry.js';
import type { HighWatermarks } from './high-watermarks.js';
import type { MetricsRecorder } from './metrics.js';
import type { TopicWaiters } from './long-poll.js';
import type { RecordCodec } from './record-codec.js';
import type { Session } from './session.js';

/** What `hello` announces (docs/protocol.md, "hello"); the same for every connection. */
const FEATURES: readonly string[] = Object.freeze([Feature.produceRecordsBlob]);

/** What the dispatcher needs from the broker. */
export interface DispatchContext {
  readonly engine: BrokerEngine;
  readonly codec: RecordCodec;
  readonly highWatermarks: HighWatermarks;
  readonly waiters: TopicWaiters;
  readonly groups: GroupRegistry;
  readonly fetchHandler: FetchHandler;
  /** Counting hooks; `NO_METRICS` when metrics are off. */
  readonly metrics: MetricsRecorder;
  readonly now: () => number;
  readonly brokerName: string;
  readonly maxFrameBytes: number;
  readonly fetchBytesMax: number;
  /** Largest stored record, so every record fits in a fetch reply frame. */
  readonly recordBytesMax: number;
  /** Tokens `hello.token` must match one of (none required when it holds none). */
  readonly tokens: TokenChecker;
}

/** Serves validated requests; returns the reply fields (without `id` and `ok`). */
export class Dispatcher {
  private readonly ctx: DispatchContext;

  constructor(ctx: DispatchContext) {
    this.ctx = ctx;
  }

  /** True when `hello` must carry a token: then the connection answers everything else UNAUTHORIZED until it has. */
  get authRequired(): boolean {
    return this.ctx.tokens.required;
  }

  /** Serves one request. `hello` must have succeeded first (the connection checks). */
  dispatch(request: Request, session: Session): Promise<object> {
    switch (request.op) {
      case 'hello':
        return Promise.resolve(this.hello(request, session));
      case 'produce':
        return this.produce(request);
      case 'produceBatch':
        return this.produceBatch(request);
      case 'fetch':
        return this.ctx.fetchHandler.fetch(request, session);
      case 'commit':
        return this.commit(request, session);
      case 'createTopic':
        return this.createTopic(request.topic, request.retentionMs, request.retentionBytes);
      case 'deleteTopic':
        return this.deleteTopic(request.topic);
      case 'listTopics':
        return Promise.resolve({ topics: this.ctx.engine.topics() });
      case 'describeTopic':
        return this.describeTopic(request.topic);
      case 'seek':
        return this.seek(request);
      case 'nack':
        return this.nack(request, session);
      case 'extend':
        return this.extend(request, session);
      case 'configureGroup':
        return this.configureGroup(request);
    }
  }

  /** Checks version and token; marks the session greeted. */
  hello(request: HelloRequest, session: Session): HelloResult {
    if (request.version !== PROTOCOL_VERSION) {
      throw new ProtocolError(ErrorCode.UNSUPPORTED_VERSION, `protocol version ${request.version} is not supported; this broker speaks ${PROTOCOL_VERSION}`, { requestId: request.id });
    }
    if (!this.ctx.tokens.accepts(request.token)) {
      throw new ProtocolError(ErrorCode.UNAUTHORIZED, 'hello.token is missing or wrong', { requestId: request.id });
    }
    session.greeted = true;
    session.clientId = request.clientId;
    return {
      version: PROTOCOL_VERSION,
      broker: this.ctx.brokerName,
      maxFrameBytes: this.ctx.maxFrameBytes,
      batchRecordsMax: BATCH_RECORDS_MAX,
      fetchBytesMax: this.ctx.fetchBytesMax,
      features: FEATURES,
    };
  }

  private async produce(request: ProduceRequest): Promise<object> {
    const data = this.ctx.codec.encode(request);
    this.checkRecordSize(data.length, request.id);
    const startMs = this.ctx.metrics.startTimer();
    const offset = await this.ctx.engine.appendForTopic(request.topic, data);
    this.ctx.metrics.produced(request.topic, 1, request.value.length, startMs);
    this.produced(request.topic, offset + 1);
    return { offset, timestamp: this.ctx.now() };
  }

  /**
   * `records` are encoded into the stored layout (one copy); `recordsBlob` bodies already are in it
   * and were checked by validateRequest, so the log gets views into the request frame as they are.
   */
  private async produceBatch(request: ProduceBatchRequest): Promise<object> {
    let entries: Uint8Array[];
    let valueBytes = 0;
    if (request.recordBodies !== undefined) {
      entries = request.recordBodies;
      valueBytes = request.valueBytes;
      for (let i = 0; i < entries.length; i++) this.checkRecordSize(entries[i].length, request.id);
    } else {
      entries = this.ctx.codec.encodeAll(request.records);
      for (let i = 0; i < entries.length; i++) {
        this.checkRecordSize(entries[i].length, request.id);
        valueBytes += request.records[i].value.length;
      }
    }
    const startMs = this.ctx.metrics.startTimer();
    const { baseOffset, count } = await this.ctx.engine.batchAppendForTopic(request.topic, entries);
    this.ctx.metrics.produced(request.topic, count, valueBytes, startMs);
    this.produced(request.topic, baseOffset + count);
    return { baseOffset, count, timestamp: this.ctx.now() };
  }

  private checkRecordSize(bytes: number, requestId: number): void {
    if (bytes > this.ctx.recordBytesMax) {
      throw new ProtocolError(ErrorCode.RECORD_TOO_LARGE, `record of ${bytes} stored bytes exceeds ${this.ctx.recordBytesMax}`, { requestId });
    }
  }

  private produced(topic: string, nextOffset: number): void {
    this.ctx.highWatermarks.advance(topic, nextOffset);
    this.ctx.waiters.notify(topic);
  }

  private async commit(request: CommitRequest, session: Session): Promise<object> {
    this.requireTopic(request.topic, request.id);
    const entry = await this.ctx.groups.get(request.topic, request.group);
    entry.group.ack(session.id, request.offset, request.seenHandOutId);
    const committed = await this.ctx.groups.persist(entry);
    this.ctx.metrics.committed(request.topic, request.group);
    return { committed };
  }

  private async createTopic(topic: string, retentionMs: number | undefined, retentionBytes: number | undefined): Promise<object> {
    const caps = retentionMs === undefined && retentionBytes === undefined ? undefined : { retentionMs, retentionBytes };
    if (this.ctx.engine.hasTopic(topic)) {
      // An existing topic keeps its caps unless new ones are given.
      if (caps) await this.ctx.engine.createTopic(topic, caps);
      return { created: false };
    }
    await this.ctx.engine.createTopic(topic, caps);
    this.ctx.waiters.notify(topic);
    return { created: true };
  }

  private async deleteTopic(topic: string): Promise<object> {
    if (!this.ctx.engine.hasTopic(topic)) throw new ProtocolError(ErrorCode.NOT_FOUND, `topic "${topic}" does not exist`);
    await this.ctx.engine.deleteTopic(topic);
    this.ctx.groups.dropTopic(topic);
    this.ctx.highWatermarks.forget(topic);
    this.ctx.waiters.forgetTopic(topic);
    this.ctx.metrics.topicDeleted(topic);
    return {};
  }

  private async describeTopic(topic: string): Promise<DescribeTopicResult> {
    if (!this.ctx.engine.hasTopic(topic)) throw new ProtocolError(ErrorCode.NOT_FOUND, `topic "${topic}" does not exist`);
    const stats = await this.ctx.engine.topicStats(topic);
    this.ctx.highWatermarks.advance(topic, stats.nextOffset);
    const next = stats.nextOffset;
    const groups: GroupDescription[] = [];
    const seen = new Set<string>();
    for (const g of this.ctx.groups.loadedGroups(topic)) {
      seen.add(g.name);
      groups.push({ group: g.name, committed: g.persisted, inFlight: g.inFlight, lag: Math.max(0, next - g.persisted) });
    }
    for (const [name, position] of Object.entries(stats.cursors)) {
      if (seen.has(name) || name.startsWith('__')) continue;
      groups.push({ group: name, committed: position, inFlight: 0, lag: Math.max(0, next - position) });
    }
    groups.sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0));
    return { topic, firstOffset: stats.firstOffset, nextOffset: next, bytes: stats.bytes, ...stats.config, groups };
  }

  private async seek(request: SeekRequest): Promise<object> {
    this.requireTopic(request.topic, request.id);
    const stats = await this.ctx.engine.topicStats(request.topic);
    const to = request.to;
    const target = to === 'earliest' ? stats.firstOffset : to === 'latest' ? stats.nextOffset : Math.min(Math.max(to, stats.firstOffset), stats.nextOffset);
    const entry = await this.ctx.groups.get(request.topic, request.group);
    entry.group.seek(target);
    await this.ctx.groups.persist(entry);
    this.ctx.waiters.notify(request.topic);
    return { offset: target };
  }

  private async nack(request: NackRequest, session: Session): Promise<object> {
    this.requireTopic(request.topic, request.id);
    const entry = await this.ctx.groups.get(request.topic, request.group);
    if (!this.ctx.groups.nack(entry, session.id, request.offset, request.delayMs ?? 0, request.reason)) {
      throw notLeased(request.topic, request.group, request.offset, request.id);
    }
    return {};
  }

  private async extend(request: ExtendRequest, session: Session): Promise<ExtendResult> {
    this.requireTopic(request.topic, request.id);
    const entry = await this.ctx.groups.get(request.topic, request.group);
    const expiresAtMs = this.ctx.groups.extend(entry, session.id, request.offset, request.ms);
    if (expiresAtMs === undefined) throw notLeased(request.topic, request.group, request.offset, request.id);
    return { expiresAtMs };
  }

  private async configureGroup(request: ConfigureGroupRequest): Promise<ConfigureGroupResult> {
    this.requireTopic(request.topic, request.id);
    requireOtherTopic(request.topic, request.deadLetterTopic, request.id);
    const entry = await this.ctx.groups.get(request.topic, request.group);
    const policy = entry.group.configure(request.maxDeliveries, request.deadLetterTopic);
    return { maxDeliveries: policy.maxDeliveries, deadLetterTopic: policy.deadLetterTopic };
  }

  private requireTopic(topic: string, requestId: number): void {
    if (!this.ctx.engine.hasTopic(topic)) {
      throw new ProtocolError(ErrorCode.NOT_FOUND, `topic "${topic}" does not exist`, { requestId });
    }
  }
}

function notLeased(topic: string, group: string, offset: number, requestId: number): ProtocolError {
  return new ProtocolError(ErrorCode.NOT_LEASED, `${topic}@${offset} is not leased to this connection in group "${group}"`, { requestId });
}
