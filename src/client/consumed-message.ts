import { WalrusError, ClientErrorCode } from './errors.js';
import type { Headers, Message, NackOptions } from './types.js';

/** What a message needs from its consumer: the commit, nack and extend paths. */
export interface MessageOwner {
  commitMessage(message: ConsumedMessage<unknown>): Promise<void>;
  nackMessage(message: ConsumedMessage<unknown>, options: NackOptions): Promise<void>;
  extendMessage(message: ConsumedMessage<unknown>, ms: number): Promise<void>;
}

/**
 * A fetched record as handed to the application. `generation` names the connection that leased it
 * (a commit from an older connection is meaningless: the broker already released that lease), and
 * `sequence` orders messages as this consumer yielded them, which is what cumulative commit follows.
 */
export class ConsumedMessage<T> implements Message<T> {
  readonly topic: string;
  readonly offset: number;
  readonly timestamp: number;
  readonly value: T;
  readonly key?: Buffer;
  readonly headers?: Headers;
  /** Connection generation that leased this record. */
  readonly generation: number;
  /** Bytes it counts against the consumer's buffer cap. */
  readonly bytes: number;
  /** Position in yield order; assigned when yielded. */
  sequence = -1;
  /** What the deserializer threw on this record (then `value` holds the raw bytes). */
  deserializeFailure: unknown = undefined;
  readonly #owner: MessageOwner;

  /** Positional, not an options object: one is made per fetched record. */
  constructor(
    owner: MessageOwner,
    topic: string,
    offset: number,
    timestamp: number,
    value: T,
    key: Buffer | undefined,
    headers: Headers | undefined,
    generation: number,
    bytes: number,
  ) {
    this.#owner = owner;
    this.topic = topic;
    this.offset = offset;
    this.timestamp = timestamp;
    this.value = value;
    if (key !== undefined) this.key = key;
    if (headers !== undefined) this.headers = headers;
    this.generation = generation;
    this.bytes = bytes;
  }

  /** True when `owner` is the consumer that produced this message. */
  isOwnedBy(owner: MessageOwner): boolean {
    return this.#owner === owner;
  }

  /** See `Message.commit`. */
  commit(): Promise<void> {
    return this.#owner.commitMessage(this as ConsumedMessage<unknown>);
  }

  /** See `Message.nack`. */
  nack(options: NackOptions = {}): Promise<void> {
    return this.#owner.nackMessage(this as ConsumedMessage<unknown>, options);
  }

  /** See `Message.extend`. */
  extend(ms: number): Promise<void> {
    return this.#owner.extendMessage(this as ConsumedMessage<unknown>, ms);
  }
}

/**
 * The deserializer threw on a record. `record` is that record with its raw bytes; commit it to skip
 * it, or leave it to be redelivered. The iterator that threw has ended; start a new one to go on.
 */
export class DeserializeError extends WalrusError {
  /** The record that failed, with `value` as raw bytes. */
  readonly record: Message<Buffer>;

  constructor(record: Message<Buffer>, cause: unknown) {
    super(
      ClientErrorCode.DESERIALIZE_FAILED.code,
      `deserializer failed on ${record.topic}@${record.offset}: ${(cause as Error)?.message ?? String(cause)}`,
      ClientErrorCode.DESERIALIZE_FAILED.retriable,
      { cause },
    );
    this.record = record;
  }
}
