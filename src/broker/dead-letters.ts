/**
 * Copies a record that exhausted its group's `maxDeliveries` into the group's dead-letter topic:
 * the original value and key, its headers plus `DeadLetterHeader` ones naming where it came from, how
 * often it was delivered and why it last came back. The registry acknowledges the record on its
 * group only after `write` resolved, i.e. once the copy is as durable as a produce reply promises.
 */
import { DeadLetterHeader, ErrorCode, ProtocolError } from '../protocol/index.js';
import type { Headers } from '../protocol/index.js';
import type { DeadLetterInfo } from './consumer-group.js';
import type { BrokerEngine } from './engine-port.js';
import type { HighWatermarks } from './high-watermarks.js';
import type { TopicWaiters } from './long-poll.js';
import type { RecordCodec } from './record-codec.js';

/** One record to dead-letter. */
export interface DeadLetter extends DeadLetterInfo {
  readonly topic: string;
  readonly group: string;
  readonly offset: number;
  readonly deadLetterTopic: string;
}

/** What the registry needs: copy one record, resolve once durable. */
export interface DeadLetterSink {
  /** Resolves with false when the source record is no longer in the log (nothing to copy). */
  write(letter: DeadLetter): Promise<boolean>;
}

/** What `DeadLetterWriter` needs from the broker. */
export interface DeadLetterContext {
  readonly engine: BrokerEngine;
  readonly codec: RecordCodec;
  readonly highWatermarks: HighWatermarks;
  readonly waiters: TopicWaiters;
}

/** Writes dead letters through the engine, like a produce. */
export class DeadLetterWriter implements DeadLetterSink {
  private readonly ctx: DeadLetterContext;

  constructor(ctx: DeadLetterContext) {
    this.ctx = ctx;
  }

  async write(letter: DeadLetter): Promise<boolean> {
    const { engine, codec } = this.ctx;
    if (!engine.hasTopic(letter.topic)) return false;
    const entries = await engine.readFrom(letter.topic, letter.offset, { maxEntries: 1 });
    const entry = entries[0];
    if (entry === undefined || entry.offset !== letter.offset) return false; // gone (retention)
    const record = codec.decode(entry.offset, entry.timestamp, entry.data);
    const headers: Headers = { ...record.headers };
    headers[DeadLetterHeader.topic] = letter.topic;
    headers[DeadLetterHeader.group] = letter.group;
    headers[DeadLetterHeader.offset] = String(letter.offset);
    headers[DeadLetterHeader.timestamp] = String(entry.timestamp);
    headers[DeadLetterHeader.deliveries] = String(letter.deliveries);
    headers[DeadLetterHeader.reason] = letter.reason;
    const data = codec.encode({ value: record.value, key: record.key, headers });
    const offset = await engine.appendForTopic(letter.deadLetterTopic, data);
    this.ctx.highWatermarks.advance(letter.deadLetterTopic, offset + 1);
    this.ctx.waiters.notify(letter.deadLetterTopic);
    return true;
  }
}

/** A dead-letter topic equal to its source would feed exhausted records back to their own group. */
export function requireOtherTopic(topic: string, deadLetterTopic: string | undefined, requestId: number): void {
  if (deadLetterTopic === topic) {
    throw new ProtocolError(ErrorCode.INVALID_REQUEST, 'deadLetterTopic must differ from topic', { requestId });
  }
}
