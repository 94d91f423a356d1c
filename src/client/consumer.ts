import { createUnpackr, readRecordsBlob, type FetchReply, type MetaUnpacker } from '../protocol/index.js';
import { CommitScheduler } from './commit-scheduler.js';
import { ConsumedMessage, DeserializeError, type MessageOwner } from './consumed-message.js';
import { ConnectionState, type Connection } from './connection.js';
import { AbortedError, clientError, ClientErrorCode, isRetriable, WalrusError } from './errors.js';
import {
  ACK_TIMEOUT_MS_MAX,
  ACK_TIMEOUT_MS_MIN,
  BATCH_RECORDS_DEFAULT,
  BATCH_WAIT_MS_DEFAULT,
  CLOSE_TIMEOUT_MS_DEFAULT,
  FETCH_RECORDS_MAX,
  FETCH_RETRY_DELAY_MS,
  FETCH_WAIT_MS,
  FETCHES_IN_FLIGHT_MAX,
  NACK_DELAY_MS_MAX,
  NACK_REASON_LENGTH_MAX,
  RECORD_OVERHEAD_BYTES,
} from './limits.js';
import type { ConsumerSettings } from './options.js';
import { RecordQueue } from './record-queue.js';
import type { BatchesOptions, CloseOptions, Headers, Message, MessageBatch, MessagesOptions, NackOptions } from './types.js';

/**
 * Group consumer: a long-poll fetch loop filling a byte-bounded buffer, drained by one reader at a
 * time (`messages()` or `batches()`).
 *
 * - Prefetch: fetches in flight ask for at most `maxBufferedBytes − buffered` bytes together, and none
 *   is issued while the buffer is full, so memory stays within the cap plus one record per fetch in
 *   flight. Fetching runs only while a reader is active: prefetched records hold broker leases that
 *   tick whether or not anyone reads.
 * - Pipelining: while records flow, up to FETCHES_IN_FLIGHT_MAX fetches are in flight (the later
 *   ones do not wait on the broker), and their replies are accepted in the order they were sent.
 *   That keeps records in order, and it is what makes `seenHandOutId` safe: the broker numbers a
 *   connection's hand-outs in the order the fetches arrive, so every reply not accepted yet has a
 *   higher id than any accepted one, and a commit never acknowledges a record this loop has not seen.
 *   A drained topic gets a single long-poll.
 * - Leases belong to a connection. When it drops, the broker releases them and will hand the records
 *   out again, so the buffer is emptied and commit bookkeeping restarts; the loop then waits for the
 *   reconnect and continues from the group's committed cursor without user code.
 * - Close: stops fetching (an in-flight long-poll is abandoned at once; a pipelined fetch is let
 *   finish and its records count as unfinished), lets a running handler finish, waits for commits in
 *   flight, then ends every reader.
 */
export class Consumer<T = Buffer> implements MessageOwner {
  readonly topic: string;
  readonly group: string;
  readonly #connection: Connection;
  readonly #settings: ConsumerSettings<T>;
  readonly #onClosed: () => void;
  readonly #buffer = new RecordQueue<ConsumedMessage<T>>();
  /** Decodes the key/headers map of a `recordsBlob` record. */
  readonly #unpackMeta: MetaUnpacker;
  readonly #commits: CommitScheduler;
  /** Generation of the connection whose leases the buffer and commit state describe. */
  #generation = 0;
  #sequence = 0;
  /** Highest `handOutId` of a fetch reply accepted on this generation; every commit carries it. */
  #seenHandOutId = 0;
  /** Offsets with a nack in flight, and those of them whose copy came back before the reply. */
  readonly #nacking = new Set<number>();
  readonly #backDuringNack = new Set<number>();
  #readerActive = false;
  /** A message was yielded and the reader has not asked for the next one yet. */
  #handlerActive = false;
  #handlerDone: (() => void) | undefined;
  /** Last message yielded, for autoCommit. */
  #lastYielded: ConsumedMessage<T> | undefined;
  #fetching = false;
  /** Settles when the running fetch loop has ended. */
  #fetchLoopDone: Promise<void> = Promise.resolve();
  /** Aborts the long-poll in flight (a pipelined fetch is not aborted: see `#close`). */
  #fetchAbort: AbortController | undefined;
  /** Wakes a reader waiting for records; wakes the fetch loop waiting for space. */
  #wakeReader: (() => void) | undefined;
  #wakeFetcher: ((value?: undefined) => void) | undefined;
  /** A non-retriable error from fetch or autoCommit, thrown to the reader once. */
  #failure: Error | undefined;
  #closing = false;
  #closePromise: Promise<void> | undefined;

  /** Made by `client.consumer()`; `onClosed` unregisters it from the client. */
  constructor(connection: Connection, settings: ConsumerSettings<T>, onClosed: () => void) {
    this.#connection = connection;
    this.#settings = settings;
    this.topic = settings.topic;
    this.group = settings.group;
    this.#onClosed = onClosed;
    const unpackr = createUnpackr();
    this.#unpackMeta = (bytes) => unpackr.unpack(bytes);
    // seenHandOutId: a record given back by nack may already be on its way back to this connection;
    // the broker must not count that unseen lease as acknowledged by a commit past its offset.
    this.#commits = new CommitScheduler((offset) =>
      this.#connection
        .request('commit', { topic: this.topic, group: this.group, offset, seenHandOutId: this.#seenHandOutId })
        .then(() => undefined),
    );
  }

  /**
   * Records this consumer's connection was given and that are not done: still buffered, in a
   * handler, or dropped by `close()`. Their leases end only when they expire or the connection closes.
   */
  get unfinishedCount(): number {
    return this.#commits.unfinishedCount;
  }

  /** Generation of the connection whose leases `unfinishedCount` describes. */
  get leaseGeneration(): number {
    return this.#generation;
  }

  /** Payload bytes fetched and not yet handed to the reader. */
  get bufferedBytes(): number {
    return this.#buffer.bytes;
  }

  /**
   * Messages one at a time, for `for await`. Ends when the consumer or client closes; `signal` makes
   * the pending step reject with `ABORTED`. With `autoCommit`, each message is committed when the loop
   * asks for the next one (a `break` or `throw` leaves the last one uncommitted, to be redelivered).
   */
  messages(options: MessagesOptions = {}): AsyncIterableIterator<Message<T>> {
    const reader = this.#openReader(options.signal);
    const iterator: AsyncIterableIterator<Message<T>> = {
      next: async () => {
        const taken = await reader.take(1, 0);
        return taken === undefined ? { done: true, value: undefined } : { done: false, value: taken[0] };
      },
      return: async () => {
        reader.end();
        return { done: true, value: undefined };
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  /**
   * Messages in batches of up to `maxRecords`: waits for a first message, then up to `maxWaitMs` for
   * the batch to fill. `batch.commit()` commits the whole batch.
   */
  batches(options: BatchesOptions = {}): AsyncIterableIterator<MessageBatch<T>> {
    const maxRecords = options.maxRecords ?? BATCH_RECORDS_DEFAULT;
    const maxWaitMs = options.maxWaitMs ?? BATCH_WAIT_MS_DEFAULT;
    if (!Number.isSafeInteger(maxRecords) || maxRecords < 1 || maxRecords > FETCH_RECORDS_MAX) {
      throw clientError(ClientErrorCode.INVALID_OPTION, `maxRecords must be an integer in 1..${FETCH_RECORDS_MAX}`);
    }
    if (!Number.isSafeInteger(maxWaitMs) || maxWaitMs < 0 || maxWaitMs > 60_000) {
      throw clientError(ClientErrorCode.INVALID_OPTION, 'maxWaitMs must be an integer in 0..60000');
    }
    const reader = this.#openReader(options.signal);
    const topic = this.topic;
    const iterator: AsyncIterableIterator<MessageBatch<T>> = {
      next: async () => {
        const taken = await reader.take(maxRecords, maxWaitMs);
        if (taken === undefined) return { done: true, value: undefined };
        const last = taken[taken.length - 1];
        return { done: false, value: { topic, messages: taken, commit: () => last.commit() } };
      },
      return: async () => {
        reader.end();
        return { done: true, value: undefined };
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  /** "Done with this one" (and every message yielded before it); same as `msg.commit()`. */
  commit(message: Message<T>): Promise<void> {
    if (!(message instanceof ConsumedMessage) || !message.isOwnedBy(this)) {
      return Promise.reject(clientError(ClientErrorCode.INVALID_ARGUMENT, 'commit() takes a message this consumer yielded'));
    }
    return this.commitMessage(message as ConsumedMessage<unknown>);
  }

  /** @internal The commit path shared by `msg.commit()` and `consumer.commit(msg)`. */
  commitMessage(message: ConsumedMessage<unknown>): Promise<void> {
    // A lease from an earlier connection is already released: the broker will redeliver the record.
    if (message.generation !== this.#generation || message.sequence < 0) return Promise.resolve();
    return this.#commits.done(message.sequence);
  }

  /**
   * @internal The nack path of `msg.nack()`. The record stays "held" (the commit offset cannot pass
   * it) until the broker answered, so a commit racing the nack can never acknowledge it.
   */
  async nackMessage(message: ConsumedMessage<unknown>, options: NackOptions): Promise<void> {
    if (typeof options !== 'object' || options === null) throw clientError(ClientErrorCode.INVALID_ARGUMENT, 'nack() takes an options object');
    const { delayMs, reason } = options;
    if (delayMs !== undefined && (!Number.isSafeInteger(delayMs) || delayMs < 0 || delayMs > NACK_DELAY_MS_MAX)) {
      throw clientError(ClientErrorCode.INVALID_ARGUMENT, `delayMs must be an integer in 0..${NACK_DELAY_MS_MAX}`);
    }
    if (reason !== undefined && (typeof reason !== 'string' || reason.length > NACK_REASON_LENGTH_MAX)) {
      throw clientError(ClientErrorCode.INVALID_ARGUMENT, `reason must be a string of at most ${NACK_REASON_LENGTH_MAX} characters`);
    }
    // A lease from an earlier connection is already released: the broker will redeliver the record.
    if (message.generation !== this.#generation || message.sequence < 0) return;
    const generation = this.#generation;
    this.#nacking.add(message.offset);
    try {
      await this.#connection.request('nack', { topic: this.topic, group: this.group, offset: message.offset, delayMs, reason });
    } finally {
      if (generation === this.#generation) this.#nacking.delete(message.offset);
    }
    if (generation !== this.#generation) return;
    // A copy that came back before this reply is held as a new message: the offset stays pending for it.
    this.#commits.release(message.sequence, message.offset, this.#backDuringNack.delete(message.offset));
    // The commit offset may move now that this record no longer holds it down.
    this.#commits.flush().catch((error: Error) => (this.#failure ??= error));
  }

  /** @internal The extend path of `msg.extend()`. */
  async extendMessage(message: ConsumedMessage<unknown>, ms: number): Promise<void> {
    if (!Number.isSafeInteger(ms) || ms < ACK_TIMEOUT_MS_MIN || ms > ACK_TIMEOUT_MS_MAX) {
      throw clientError(ClientErrorCode.INVALID_ARGUMENT, `ms must be an integer in ${ACK_TIMEOUT_MS_MIN}..${ACK_TIMEOUT_MS_MAX}`);
    }
    if (message.generation !== this.#generation || message.sequence < 0) {
      throw new WalrusError('NOT_LEASED', `${this.topic}@${message.offset}: the connection that leased it is gone`, false);
    }
    await this.#connection.request('extend', { topic: this.topic, group: this.group, offset: message.offset, ms });
  }

  /**
   * Stops fetching, waits (up to `timeoutMs`, default 5 s) for a running handler to ask for its next
   * message and for commits in flight, then ends the readers. Records still buffered are not delivered
   * (the broker redelivers them once their lease ends, at once when the client closes). Idempotent.
   * Do not await it inside the loop body: that handler cannot finish while it waits for itself, so
   * close would take the whole timeout. Break out of the loop, then close.
   */
  close(options: CloseOptions = {}): Promise<void> {
    this.#closePromise ??= this.#close(options.timeoutMs ?? CLOSE_TIMEOUT_MS_DEFAULT);
    return this.#closePromise;
  }

  /** @internal The connection that held our leases dropped: they are gone, forget them. */
  onConnectionLost(): void {
    this.#resetLeases(this.#generation);
  }

  /** @internal The client gave up (reconnect disabled): the reader gets `error` instead of a quiet end. */
  fail(error: Error): void {
    this.#failure ??= error;
    this.#wakeReader?.();
  }

  async #close(timeoutMs: number): Promise<void> {
    this.#closing = true;
    this.#fetchAbort?.abort();
    this.#wakeFetcher?.();
    if (this.#handlerActive) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.#handlerDone = resolve;
        timer = setTimeout(resolve, timeoutMs);
      });
      clearTimeout(timer);
    }
    this.#buffer.clear();
    this.#wakeReader?.();
    // A pipelined fetch does not wait on the broker: let it land, so its records count as
    // unfinished (leased to this connection) instead of vanishing with a dropped reply.
    await this.#fetchLoopDone;
    await this.#commits.drain();
    this.#onClosed();
  }

  #openReader(signal: AbortSignal | undefined): Reader<T> {
    if (this.#readerActive) throw clientError(ClientErrorCode.ITERATOR_ACTIVE, 'this consumer already has a running messages()/batches() loop');
    this.#readerActive = true;
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      this.#handlerFinished();
      this.#readerActive = false;
      this.#wakeFetcher?.();
    };
    const take = async (max: number, waitMs: number): Promise<ConsumedMessage<T>[] | undefined> => {
      if (ended) return undefined;
      this.#handlerFinished();
      try {
        if (this.#settings.autoCommit && this.#lastYielded !== undefined) {
          const last = this.#lastYielded;
          this.#lastYielded = undefined;
          this.commitMessage(last as ConsumedMessage<unknown>).catch((error: Error) => (this.#failure ??= error));
        }
        const taken = await this.#take(max, waitMs, signal);
        if (taken === undefined) end();
        return taken;
      } catch (error) {
        end();
        throw error;
      }
    };
    this.#startFetching();
    return { take, end };
  }

  #handlerFinished(): void {
    this.#handlerActive = false;
    const done = this.#handlerDone;
    this.#handlerDone = undefined;
    done?.();
  }

  /** Waits for records and takes up to `max`; undefined when the consumer is closing. */
  async #take(max: number, waitMs: number, signal: AbortSignal | undefined): Promise<ConsumedMessage<T>[] | undefined> {
    let deadline = -1;
    for (;;) {
      if (this.#failure !== undefined) {
        const failure = this.#failure;
        this.#failure = undefined;
        throw failure;
      }
      if (this.#closing) return undefined;
      if (signal?.aborted) throw new AbortedError(signal.reason);
      const available = this.#buffer.length;
      if (available >= max || (available > 0 && (waitMs === 0 || (deadline >= 0 && Date.now() >= deadline)))) break;
      if (available > 0 && deadline < 0) deadline = Date.now() + waitMs;
      await this.#waitForRecords(signal, deadline < 0 ? -1 : deadline - Date.now());
    }
    let count = Math.min(max, this.#buffer.length);
    const taken: ConsumedMessage<T>[] = [];
    for (let i = 0; i < count; i++) {
      const head = this.#buffer.peek()!;
      // A record the deserializer refused ends the batch before it, or is thrown on its own.
      if (head.deserializeFailure !== undefined && i > 0) break;
      const message = this.#buffer.shift()!;
      message.sequence = this.#sequence++;
      this.#commits.yielded(message.sequence, message.offset);
      if (message.deserializeFailure !== undefined) {
        this.#wakeFetcher?.();
        throw new DeserializeError(message as unknown as ConsumedMessage<Buffer>, message.deserializeFailure);
      }
      taken.push(message);
    }
    count = taken.length;
    this.#wakeFetcher?.();
    this.#lastYielded = taken[count - 1];
    this.#handlerActive = true;
    return taken;
  }

  /** Resolves when records arrive, the consumer closes, `signal` aborts or `timeoutMs` (≥ 0) passes. */
  #waitForRecords(signal: AbortSignal | undefined, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const wake = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', wake);
        if (this.#wakeReader === wake) this.#wakeReader = undefined;
        resolve();
      };
      this.#wakeReader = wake;
      signal?.addEventListener('abort', wake, { once: true });
      if (timeoutMs >= 0) timer = setTimeout(wake, timeoutMs);
    });
  }

  #startFetching(): void {
    if (this.#fetching || this.#closing) return;
    this.#fetching = true;
    this.#fetchLoopDone = this.#fetchLoop().finally(() => {
      this.#fetching = false;
      // A reader may have started while the last fetch was finishing (but after a failure, the
      // reader must see it and end first: restarting now would only repeat the failing fetch).
      if (this.#readerActive && !this.#closing && this.#failure === undefined) this.#startFetching();
    });
  }

  /**
   * Keeps fetches in flight (see the class comment) and accepts their replies in the order sent.
   * After a failure, or once the reader ended or the consumer closes, it sends no more and accepts
   * what is still in flight, so no record leased to this connection goes unaccounted for.
   */
  async #fetchLoop(): Promise<void> {
    const inFlight: FetchInFlight[] = [];
    /** The last reply had records: worth a second fetch in flight. */
    let flowing = false;
    let stopped = false;
    for (;;) {
      if (stopped || !this.#readerActive || this.#closing) stopped = true;
      else if (this.#connection.state === ConnectionState.connected) this.#topUp(inFlight, flowing);
      if (inFlight.length === 0) {
        if (stopped) return;
        if (!(await this.#waitToFetch())) return;
        continue;
      }
      let outcome: FetchOutcome | undefined;
      if (!stopped && flowing && inFlight.length < FETCHES_IN_FLIGHT_MAX) {
        // Room the reader frees meanwhile may allow another fetch: wake for that too.
        outcome = await Promise.race([inFlight[0].reply, new Promise<undefined>((resolve) => (this.#wakeFetcher = resolve))]);
        this.#wakeFetcher = undefined;
        if (outcome === undefined) continue;
      } else {
        outcome = await inFlight[0].reply;
      }
      const fetch = inFlight.shift()!;
      if (fetch.abort === this.#fetchAbort) this.#fetchAbort = undefined;
      if (outcome.error === undefined) {
        const result = outcome.result!;
        // A reply can only come on the connection it was sent on, so its leases are this generation's.
        if (fetch.generation !== this.#generation) continue;
        if (result.handOutId !== undefined && result.handOutId > this.#seenHandOutId) this.#seenHandOutId = result.handOutId;
        try {
          flowing = this.#accept(result) > 0;
        } catch (error) {
          // A recordsBlob that does not parse: what came before the bad record is taken, nothing after.
          this.#failure ??= clientError(ClientErrorCode.PROTOCOL_VIOLATION, `undecodable fetch reply from the broker: ${(error as Error).message}`, { cause: error });
          this.#wakeReader?.();
          flowing = false;
          stopped = true;
        }
        continue;
      }
      flowing = false;
      if (this.#closing || stopped) continue;
      if (!isRetriable(outcome.error)) {
        this.#failure ??= outcome.error as Error;
        this.#wakeReader?.();
        stopped = true;
        continue;
      }
      if (inFlight.length === 0) await delay(FETCH_RETRY_DELAY_MS);
    }
  }

  /** Sends fetches while the rules of the class comment allow: room in the buffer, records flowing. */
  #topUp(inFlight: FetchInFlight[], flowing: boolean): void {
    const capBytes = this.#settings.maxBufferedBytes;
    const shareBytes = Math.max(1, Math.floor(capBytes / FETCHES_IN_FLIGHT_MAX));
    while (inFlight.length < FETCHES_IN_FLIGHT_MAX && (inFlight.length === 0 || flowing)) {
      let roomBytes = capBytes - this.#buffer.bytes;
      for (const f of inFlight) roomBytes -= f.maxBytes;
      // A pipelined fetch is worth its round trip only with a fair share of the buffer to fill.
      if (roomBytes <= 0 || (inFlight.length > 0 && roomBytes < shareBytes / 2)) return;
      const generation = this.#connection.generation;
      if (generation !== this.#generation) this.#resetLeases(generation);
      const longPoll = inFlight.length === 0;
      const maxBytes = Math.min(roomBytes, shareBytes);
      const abort = longPoll ? new AbortController() : undefined;
      if (abort !== undefined) this.#fetchAbort = abort;
      const reply = this.#connection
        .request(
          'fetch',
          {
            topic: this.topic,
            group: this.group,
            maxBytes,
            maxRecords: FETCH_RECORDS_MAX,
            // Only the oldest fetch waits for records; a pipelined one answers at once.
            maxWaitMs: longPoll ? FETCH_WAIT_MS : 0,
            ackTimeoutMs: this.#settings.ackTimeoutMs,
            maxDeliveries: this.#settings.maxDeliveries,
            deadLetterTopic: this.#settings.deadLetterTopic,
            // One bin instead of a map per record; a broker that predates it sends `records`.
            recordsBlob: true,
          },
          abort === undefined ? undefined : { signal: abort.signal },
        )
        .then(
          (result): FetchOutcome => ({ result, error: undefined }),
          (error: unknown): FetchOutcome => ({ result: undefined, error: error ?? new Error('fetch failed') }),
        );
      inFlight.push({ reply, maxBytes, generation, abort });
    }
  }

  /**
   * Nothing in flight: waits for room in the buffer, or for the connection. False when the loop
   * should end (the reader ended, the consumer closes, or the client is closed).
   */
  async #waitToFetch(): Promise<boolean> {
    if (this.#connection.state !== ConnectionState.connected) {
      const abort = new AbortController();
      this.#fetchAbort = abort;
      try {
        await this.#connection.whenConnected(abort.signal);
      } catch (error) {
        if (this.#closing) return false;
        if (!isRetriable(error)) {
          this.#failure ??= error as Error;
          this.#wakeReader?.();
          return false;
        }
        await delay(FETCH_RETRY_DELAY_MS);
      } finally {
        if (this.#fetchAbort === abort) this.#fetchAbort = undefined;
      }
      return true;
    }
    await new Promise<void>((resolve) => (this.#wakeFetcher = resolve));
    this.#wakeFetcher = undefined;
    return true;
  }

  /**
   * Takes the records of an accepted reply (of the current generation) into the buffer, or, while
   * closing, only into the commit bookkeeping (leased to this connection: they count as unfinished).
   * Returns how many records the reply held.
   */
  #accept(reply: FetchReply): number {
    let count: number;
    if (reply.recordsBlob !== undefined) {
      count = readRecordsBlob(reply.recordsBlob, this.#unpackMeta, this.#acceptRecord);
    } else {
      const records = reply.records ?? [];
      for (const r of records) this.#acceptRecord(r.offset, r.timestamp, asBuffer(r.value), r.key === undefined ? undefined : asBuffer(r.key), r.headers);
      count = records.length;
    }
    if (count > 0) this.#wakeReader?.();
    return count;
  }

  /** One fetched record into the buffer (see `#accept`); made once, it is the blob reader's visitor. */
  readonly #acceptRecord = (offset: number, timestamp: number, value: Buffer, key: Buffer | undefined, headers: Headers | undefined): void => {
    // A record we still hold came back (its lease expired while buffered or in a handler): keep the
    // one copy we have; the commit bookkeeping now covers the new lease too.
    if (!this.#commits.give(offset)) {
      // Still pending here because its nack is unanswered: this is the broker's next delivery of
      // it, not a duplicate; keep it (nackMessage then leaves the offset pending for it).
      if (!this.#nacking.has(offset) || this.#backDuringNack.has(offset)) return;
      this.#backDuringNack.add(offset);
    }
    if (this.#closing) return;
    const bytes = RECORD_OVERHEAD_BYTES + value.byteLength + (key === undefined ? 0 : key.byteLength);
    const deserializer = this.#settings.deserializer;
    let decoded: T = value as unknown as T;
    let failure: unknown;
    if (deserializer !== undefined) {
      try {
        decoded = deserializer(value);
      } catch (error) {
        failure = error ?? new Error('deserializer threw');
      }
    }
    const message = new ConsumedMessage<T>(this, this.topic, offset, timestamp, decoded, key, headers, this.#generation, bytes);
    if (failure !== undefined) message.deserializeFailure = failure;
    this.#buffer.push(message, bytes);
  };

  #resetLeases(generation: number): void {
    this.#generation = generation;
    this.#seenHandOutId = 0;
    this.#nacking.clear();
    this.#backDuringNack.clear();
    this.#buffer.clear();
    this.#commits.reset();
    this.#lastYielded = undefined;
    this.#wakeFetcher?.(); // it may be waiting for room the clear just made
  }
}

/** What a fetch request came to. */
interface FetchOutcome {
  result: FetchReply | undefined;
  error: unknown;
}

/** A fetch request in flight. */
interface FetchInFlight {
  readonly reply: Promise<FetchOutcome>;
  /** Bytes it asked for; counted against the buffer cap until it is accepted. */
  readonly maxBytes: number;
  /** Connection generation it was sent on. */
  readonly generation: number;
  /** Set for the long-poll, which close() abandons. */
  readonly abort: AbortController | undefined;
}

/** One reader's handle on the consumer. */
interface Reader<T> {
  take(max: number, waitMs: number): Promise<ConsumedMessage<T>[] | undefined>;
  end(): void;
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
