import type { ProduceRecord } from '../protocol/index.js';
import { BATCH_RECORDS_MAX, FRAME_BYTES_MAX, FRAME_OVERHEAD_BYTES } from './limits.js';
import { ByteBudget } from './byte-budget.js';
import type { Connection } from './connection.js';
import { AbortedError, clientError, ClientErrorCode } from './errors.js';
import { validateName } from './options.js';
import type { ProducerSettings } from './options.js';
import { toWireRecord, type SizedRecord } from './producer-record.js';
import type { CallOptions, SendBatchResult, SendInput, SendResult } from './types.js';

/**
 * Producer: turns concurrent `send`s into `produceBatch` frames.
 *
 * Per topic one open batch gathers records until it holds `batchBytesMax` bytes or 2,000 records, or
 * until `lingerMs` passes since its first record; then it ships as one request. A caller doing
 * `await Promise.all(many sends)` thus gets batch throughput, and a lone `send` waits at most linger.
 *
 * Memory: every accepted record holds its bytes in a `ByteBudget` of `inFlightBytesMax` from `send`
 * until its batch is answered; when the budget is spent, `send` waits (backpressure) instead of
 * buffering more. Records of one topic ship in call order.
 *
 * Failures: produce is not idempotent, so nothing is re-sent automatically. A batch that could not be
 * sent fails with `NOT_CONNECTED` (retriable, nothing written); one whose connection dropped in flight
 * fails with `CONNECTION_LOST` (retriable, may have been written: retrying may duplicate).
 */
export class Producer<T = Uint8Array> {
  readonly #connection: Connection;
  readonly #settings: ProducerSettings<T>;
  readonly #budget: ByteBudget;
  readonly #open = new Map<string, OpenBatch>();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #knownTopics = new Set<string>();
  #closed = false;

  /** Made by `client.producer()`. */
  constructor(connection: Connection, settings: ProducerSettings<T>) {
    this.#connection = connection;
    this.#settings = settings;
    this.#budget = new ByteBudget(settings.inFlightBytesMax);
  }

  /** Bytes accepted and not yet acknowledged (lingering or in flight). */
  get inFlightBytes(): number {
    return this.#budget.usedBytes;
  }

  /**
   * Appends one record to `topic` (created on first use). Resolves with its offset once the broker
   * acknowledged it (durably, per the broker's fsync mode). Waits while the in-flight byte cap is
   * reached; `signal` aborts that wait (a record already batched is sent regardless).
   */
  send(topic: string, input: SendInput<T>, options?: CallOptions): Promise<SendResult> {
    let sized: SizedRecord;
    try {
      this.#checkTopic(topic);
      sized = toWireRecord(input, this.#settings.serializer);
      this.#checkRecordBytes(sized.bytes);
    } catch (error) {
      return Promise.reject(error);
    }
    // Room now (the usual case): the batch's own promise, without an async wrapper and its extra
    // promise and microtask per send.
    if (this.#budget.tryAcquire(sized.bytes)) return this.#append(topic, sized.record, sized.bytes);
    return this.#sendWhenRoom(topic, sized, options?.signal);
  }

  /** `send` once the in-flight budget has room for it (backpressure). */
  async #sendWhenRoom(topic: string, sized: SizedRecord, signal: AbortSignal | undefined): Promise<SendResult> {
    await this.#budget.acquire(sized.bytes, signal);
    if (this.#closed) {
      this.#budget.release(sized.bytes);
      throw clientError(ClientErrorCode.CLIENT_CLOSED, 'the producer is closed');
    }
    return this.#append(topic, sized.record, sized.bytes);
  }

  /**
   * Appends up to 2,000 records to `topic` as one atomic `produceBatch`: all get consecutive offsets
   * or none is written. Earlier `send`s to the topic still lingering ship first, so call order holds.
   */
  async sendBatch(topic: string, inputs: readonly SendInput<T>[], options?: CallOptions): Promise<SendBatchResult> {
    this.#checkTopic(topic);
    if (!Array.isArray(inputs) || inputs.length === 0 || inputs.length > BATCH_RECORDS_MAX) {
      throw clientError(ClientErrorCode.INVALID_ARGUMENT, `sendBatch takes 1..${BATCH_RECORDS_MAX} records`);
    }
    const records: ProduceRecord[] = new Array(inputs.length);
    let bytes = 0;
    for (let i = 0; i < inputs.length; i++) {
      const sized = toWireRecord(inputs[i], this.#settings.serializer);
      records[i] = sized.record;
      bytes += sized.bytes;
    }
    this.#checkRecordBytes(bytes, 'batch');
    if (!this.#budget.tryAcquire(bytes)) await this.#budget.acquire(bytes, options?.signal);
    if (this.#closed) {
      this.#budget.release(bytes);
      throw clientError(ClientErrorCode.CLIENT_CLOSED, 'the producer is closed');
    }
    const lingering = this.#open.get(topic);
    if (lingering !== undefined) this.#dispatch(lingering);
    const request = this.#connection.produceBatch(topic, records, { signal: options?.signal });
    const done = request.then(
      () => this.#budget.release(bytes),
      () => this.#budget.release(bytes),
    );
    this.#track(done);
    const result = await request;
    return { baseOffset: result.baseOffset, count: result.count };
  }

  /** Ships every lingering batch now and waits until all sends made so far are answered (or failed). */
  async flush(options?: CallOptions): Promise<void> {
    for (const batch of [...this.#open.values()]) this.#dispatch(batch);
    const waiting = Promise.all([...this.#inFlight]).then(() => undefined);
    const signal = options?.signal;
    if (signal === undefined) return waiting;
    if (signal.aborted) throw new AbortedError(signal.reason);
    let onAbort!: () => void;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(new AbortedError(signal.reason));
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      await Promise.race([waiting, aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Flushes and stops accepting sends (part of `client.close()`). */
  async close(): Promise<void> {
    if (this.#closed) return this.flush();
    this.#closed = true;
    this.#budget.rejectAll(clientError(ClientErrorCode.CLIENT_CLOSED, 'the producer was closed while this send waited for room'));
    return this.flush();
  }

  #checkTopic(topic: string): void {
    if (this.#closed) throw clientError(ClientErrorCode.CLIENT_CLOSED, 'the producer is closed');
    if (this.#knownTopics.has(topic)) return;
    validateName('topic', topic);
    this.#knownTopics.add(topic);
  }

  /** Records must fit one frame the broker accepts; larger would make it close the connection. */
  #checkRecordBytes(bytes: number, what = 'record'): void {
    const frameBytesMax = this.#connection.hello?.maxFrameBytes ?? FRAME_BYTES_MAX;
    if (bytes + FRAME_OVERHEAD_BYTES > frameBytesMax) {
      throw clientError(ClientErrorCode.RECORD_TOO_LARGE, `${what} of ~${bytes} bytes does not fit the broker's ${frameBytesMax}-byte frames`);
    }
  }

  #append(topic: string, record: ProduceRecord, bytes: number): Promise<SendResult> {
    let batch = this.#open.get(topic);
    if (batch !== undefined && batch.bytes + bytes > this.#batchBytesMax()) {
      this.#dispatch(batch);
      batch = undefined;
    }
    if (batch === undefined) {
      batch = new OpenBatch(topic);
      this.#open.set(topic, batch);
    }
    const result = batch.add(record, bytes);
    if (batch.records.length >= BATCH_RECORDS_MAX || batch.bytes >= this.#batchBytesMax()) this.#dispatch(batch);
    else if (batch.timer === undefined) batch.timer = this.#armLinger(batch);
    return result;
  }

  #batchBytesMax(): number {
    const frameBytesMax = this.#connection.hello?.maxFrameBytes ?? FRAME_BYTES_MAX;
    return Math.min(this.#settings.batchBytesMax, frameBytesMax - FRAME_OVERHEAD_BYTES);
  }

  #armLinger(batch: OpenBatch): NodeJS.Timeout | NodeJS.Immediate {
    const fire = (): void => {
      batch.timer = undefined;
      if (this.#open.get(batch.topic) === batch) this.#dispatch(batch);
    };
    return this.#settings.lingerMs === 0 ? setImmediate(fire) : setTimeout(fire, this.#settings.lingerMs);
  }

  #dispatch(batch: OpenBatch): void {
    if (this.#open.get(batch.topic) === batch) this.#open.delete(batch.topic);
    if (batch.timer !== undefined) {
      clearTimeout(batch.timer as NodeJS.Timeout);
      clearImmediate(batch.timer as NodeJS.Immediate);
      batch.timer = undefined;
    }
    const done = this.#connection.produceBatch(batch.topic, batch.records).then(
      (result) => {
        this.#budget.release(batch.bytes);
        batch.resolveAll(result.baseOffset);
      },
      (error: Error) => {
        this.#budget.release(batch.bytes);
        batch.rejectAll(error);
      },
    );
    this.#track(done);
  }

  #track(done: Promise<void>): void {
    this.#inFlight.add(done);
    void done.then(() => this.#inFlight.delete(done));
  }
}

/** Records gathered for one topic, with the callers waiting on them (index i ↔ offset base + i). */
class OpenBatch {
  readonly topic: string;
  readonly records: ProduceRecord[] = [];
  readonly #resolvers: Array<(result: SendResult) => void> = [];
  readonly #rejecters: Array<(error: Error) => void> = [];
  bytes = 0;
  timer: NodeJS.Timeout | NodeJS.Immediate | undefined = undefined;

  constructor(topic: string) {
    this.topic = topic;
  }

  add(record: ProduceRecord, bytes: number): Promise<SendResult> {
    this.records.push(record);
    this.bytes += bytes;
    return new Promise<SendResult>((resolve, reject) => {
      this.#resolvers.push(resolve);
      this.#rejecters.push(reject);
    });
  }

  resolveAll(baseOffset: number): void {
    for (let i = 0; i < this.#resolvers.length; i++) this.#resolvers[i]({ offset: baseOffset + i });
  }

  rejectAll(error: Error): void {
    for (const reject of this.#rejecters) reject(error);
  }
}
