import {
  Feature,
  FRAME_BYTES_CEILING,
  FrameDecoder,
  FrameEncoder,
  PROTOCOL_VERSION,
  type HelloResult,
  type ProduceBatchResult,
  type ProduceRecord,
  type ProtocolError,
  type ResultByOp,
} from '../protocol/index.js';
import { backoffDelayMs } from './backoff.js';
import { AbortedError, clientError, ClientErrorCode, WalrusError } from './errors.js';
import { PENDING_REQUESTS_MAX } from './limits.js';
import { connectNodeTransport } from './node-transport.js';
import type { ConnectSettings } from './options.js';
import { RequestTable } from './request-table.js';
import type { Transport } from './transport.js';
import type { ConnectedEvent, DisconnectedEvent, ReconnectingEvent } from './types.js';

/**
 * One broker connection that keeps itself up: the state machine under `connect()`.
 *
 *   connecting ──hello ok──▶ connected ──socket lost──▶ waiting ──backoff elapsed──▶ connecting
 *        │                                                  ▲                              │
 *        └──────────────────── attempt failed ──────────────┴──────────────────────────────┘
 *   any state ──close()──▶ closed
 *
 * Requests are pipelined and matched to replies by `id` (replies may come out of order). Nothing is
 * ever re-sent silently: a request written on a connection that drops fails with `CONNECTION_LOST`
 * (retriable; it may or may not have taken effect), and one made while not connected fails at once
 * with `NOT_CONNECTED` (retriable; it was not sent). Callers that know a retry is safe (consumer
 * fetches, commits on a new lease set) retry after `whenConnected()`.
 *
 * Frames produced in one event-loop turn are encoded into one buffer and leave in one socket write.
 */

/** Connection state. */
export const ConnectionState = {
  connecting: 'connecting',
  connected: 'connected',
  waiting: 'waiting',
  closed: 'closed',
} as const;
/** A connection state. */
export type ConnectionState = (typeof ConnectionState)[keyof typeof ConnectionState];

/** Lifecycle callbacks (the client turns them into events). */
export interface ConnectionListener {
  onConnected(event: ConnectedEvent): void;
  onDisconnected(event: DisconnectedEvent): void;
  onReconnecting(event: ReconnectingEvent): void;
  /** Reconnecting is disabled and the connection dropped; the client closes itself. */
  onGaveUp(error: Error | undefined): void;
}

/** Options of one request. */
export interface RequestOptions {
  signal?: AbortSignal;
}

/** The self-healing broker connection described at the top of this file; one per client. */
export class Connection {
  readonly #settings: ConnectSettings;
  readonly #listener: ConnectionListener;
  readonly #requests = new RequestTable();
  readonly #encoder = new FrameEncoder();
  /** Aborted by close(): stops the reconnect loop, its sleeps and any connect attempt. */
  readonly #closing = new AbortController();
  #state: ConnectionState = ConnectionState.connecting;
  #transport: Transport | undefined;
  #flushScheduled = false;
  #generation = 0;
  #helloResult: HelloResult | undefined;
  /** The latest hello listed `produceRecordsBlob`: batches go out as `recordsBlob`, else as `records`. */
  #produceBlob = false;
  /** Waiters for the next `connected`. */
  #connectedWaiters: Array<() => void> = [];
  /** Settles when the current transport closes. */
  #transportClosed: (error: Error | undefined) => void = () => {};

  constructor(settings: ConnectSettings, listener: ConnectionListener) {
    this.#settings = settings;
    this.#listener = listener;
  }

  /** Current state. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** Increments on every successful (re)connection; leases belong to one generation. */
  get generation(): number {
    return this.#generation;
  }

  /** What the broker said in the latest `hello`. */
  get hello(): HelloResult | undefined {
    return this.#helloResult;
  }

  /**
   * Connects, retrying with backoff until it works, and then keeps the connection up in the
   * background. Rejects when `signal` aborts, when reconnecting is disabled and the first attempt
   * fails, or when the broker refuses us for good (`UNAUTHORIZED`, `UNSUPPORTED_VERSION`).
   */
  start(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const onAbort = (): void => {
        if (settled) return;
        settled = true;
        reject(new AbortedError(signal!.reason));
        this.close();
      };
      if (signal?.aborted) {
        onAbort();
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      void this.#run((error) => {
        signal?.removeEventListener('abort', onAbort);
        if (settled) return;
        settled = true;
        if (error === undefined) resolve();
        else reject(error);
      });
    });
  }

  /** Sends one request and resolves with the reply's fields. */
  request<O extends keyof ResultByOp>(op: O, fields: object, options?: RequestOptions): Promise<ResultByOp[O]> {
    if (this.#state === ConnectionState.closed) return Promise.reject(clientError(ClientErrorCode.CLIENT_CLOSED, 'the client is closed'));
    if (this.#state !== ConnectionState.connected) {
      return Promise.reject(clientError(ClientErrorCode.NOT_CONNECTED, `not connected to the broker (${op} was not sent)`));
    }
    return this.#send(op, fields, options);
  }

  /**
   * Sends `produceBatch` for `records`: as one `recordsBlob` when the broker we are connected to
   * announced `produceRecordsBlob` in hello (decided when the frame is encoded, so a reconnect to an
   * older broker gets `records`), else as `records`. Resolves with the reply's fields.
   */
  produceBatch(topic: string, records: readonly ProduceRecord[], options?: RequestOptions): Promise<ProduceBatchResult> {
    if (!this.#produceBlob || this.#state !== ConnectionState.connected) return this.request('produceBatch', { topic, records }, options);
    return this.#send('produceBatch', undefined, options, (id) => this.#encoder.pushProduceBatchBlob(id, topic, records));
  }

  /** Resolves once connected (at once if connected now); rejects when `signal` aborts or the client closes. */
  whenConnected(signal?: AbortSignal): Promise<void> {
    if (this.#state === ConnectionState.connected) return Promise.resolve();
    if (this.#state === ConnectionState.closed) return Promise.reject(clientError(ClientErrorCode.CLIENT_CLOSED, 'the client is closed'));
    if (signal?.aborted) return Promise.reject(new AbortedError(signal.reason));
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.#connectedWaiters = this.#connectedWaiters.filter((w) => w !== waiter);
        reject(this.#state === ConnectionState.closed ? clientError(ClientErrorCode.CLIENT_CLOSED, 'the client is closed') : new AbortedError(signal?.reason));
      };
      const waiter = (): void => {
        signal?.removeEventListener('abort', onAbort);
        this.#closing.signal.removeEventListener('abort', onAbort);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#closing.signal.addEventListener('abort', onAbort, { once: true });
      this.#connectedWaiters.push(waiter);
    });
  }

  /** Requests awaiting replies. */
  get pendingCount(): number {
    return this.#requests.size;
  }

  /** Tears everything down now: pending requests fail with `CLIENT_CLOSED`. Idempotent. */
  close(): void {
    if (this.#state === ConnectionState.closed) return;
    this.#state = ConnectionState.closed;
    this.#closing.abort();
    this.#failPending(clientError(ClientErrorCode.CLIENT_CLOSED, 'the client was closed before the reply arrived'));
    this.#transport?.destroy();
    this.#transport = undefined;
  }

  /** The reconnect loop; `onFirst` settles `start()`. Runs until close(). */
  async #run(onFirst: (error: Error | undefined) => void): Promise<void> {
    let first = true;
    let attempt = 0;
    let everConnected = false;
    for (;;) {
      let lastError: Error | undefined;
      try {
        const { closed } = await this.#open(everConnected);
        everConnected = true;
        attempt = 0;
        if (first) {
          first = false;
          onFirst(undefined);
        }
        lastError = await closed;
        if (this.#state === ConnectionState.closed) return;
        this.#state = ConnectionState.waiting;
        this.#listener.onDisconnected({ error: lastError });
      } catch (error) {
        if (this.#state === ConnectionState.closed) {
          if (first) onFirst(clientError(ClientErrorCode.CLIENT_CLOSED, 'the client was closed while connecting'));
          return;
        }
        lastError = error as Error;
        this.#state = ConnectionState.waiting;
        const fatal = error instanceof WalrusError && !error.retriable;
        if (first && (fatal || this.#settings.reconnect === undefined)) {
          this.close();
          onFirst(lastError);
          return;
        }
      }
      const policy = this.#settings.reconnect;
      if (policy === undefined) {
        this.close();
        this.#listener.onGaveUp(lastError);
        return;
      }
      const delayMs = backoffDelayMs(attempt, policy, this.#settings.random);
      attempt += 1;
      this.#listener.onReconnecting({ attempt, delayMs, error: lastError });
      if (!(await this.#sleep(delayMs))) return;
      this.#state = ConnectionState.connecting;
    }
  }

  /** Opens a transport and says hello; `closed` settles when that transport ends. (Boxed: an async
   * function returning a bare promise would wait for it.) */
  async #open(reconnected: boolean): Promise<{ closed: Promise<Error | undefined> }> {
    const attempt = AbortSignal.any([this.#closing.signal, AbortSignal.timeout(this.#settings.connectTimeoutMs)]);
    let closedResolve!: (error: Error | undefined) => void;
    const closed = new Promise<Error | undefined>((resolve) => (closedResolve = resolve));
    let decoderError: Error | undefined;
    const decoder = new FrameDecoder({
      maxFrameBytes: FRAME_BYTES_CEILING,
      onMessage: (message) => this.#requests.settle(message),
      onError: (error: ProtocolError) => {
        decoderError = clientError(ClientErrorCode.PROTOCOL_VIOLATION, `undecodable frame from the broker: ${error.message}`, { cause: error });
        this.#transport?.destroy(decoderError);
      },
    });
    const connector = this.#settings.transport ?? connectNodeTransport;
    let transport: Transport;
    try {
      transport = await connector(
        this.#settings.target,
        {
          onData: (chunk) => decoder.push(chunk),
          onClose: (error) => {
            if (this.#transport === transport) this.#transport = undefined;
            this.#failPending(clientError(ClientErrorCode.CONNECTION_LOST, 'the connection to the broker was lost before the reply arrived', { cause: error }));
            closedResolve(decoderError ?? error);
          },
        },
        attempt,
      );
    } catch (error) {
      throw this.#connectError(error, attempt);
    }
    if (this.#state === ConnectionState.closed) {
      transport.destroy();
      throw clientError(ClientErrorCode.CLIENT_CLOSED, 'the client was closed while connecting');
    }
    this.#transport = transport;
    const onTimeout = (): void => transport.destroy();
    attempt.addEventListener('abort', onTimeout, { once: true });
    try {
      const hello = await this.#send('hello', {
        version: PROTOCOL_VERSION,
        clientId: this.#settings.clientId,
        token: this.#settings.token,
      });
      this.#helloResult = hello;
      this.#produceBlob = Array.isArray(hello.features) && hello.features.includes(Feature.produceRecordsBlob);
    } catch (error) {
      transport.destroy();
      throw this.#connectError(error, attempt);
    } finally {
      attempt.removeEventListener('abort', onTimeout);
    }
    this.#state = ConnectionState.connected;
    this.#generation += 1;
    this.#listener.onConnected({ broker: this.#helloResult.broker, reconnected });
    for (const waiter of this.#connectedWaiters.splice(0)) waiter();
    return { closed };
  }

  #connectError(error: unknown, attempt: AbortSignal): Error {
    if (error instanceof WalrusError && error.code !== ClientErrorCode.CONNECTION_LOST.code) return error;
    if (this.#state === ConnectionState.closed) return clientError(ClientErrorCode.CLIENT_CLOSED, 'the client was closed while connecting');
    if (attempt.aborted) {
      return clientError(ClientErrorCode.CONNECT_TIMEOUT, `no connection to ${this.#describeTarget()} within ${this.#settings.connectTimeoutMs} ms`, { cause: error });
    }
    return clientError(ClientErrorCode.CONNECTION_LOST, `cannot connect to ${this.#describeTarget()}: ${(error as Error)?.message ?? String(error)}`, { cause: error });
  }

  #describeTarget(): string {
    return `${this.#settings.target.host}:${this.#settings.target.port}`;
  }

  /** Resolves true after `ms`, or false at once if the connection is closed meanwhile. */
  #sleep(ms: number): Promise<boolean> {
    const closing = this.#closing.signal;
    if (closing.aborted) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const onAbort = (): void => {
        clearTimeout(timer);
        resolve(false);
      };
      const timer = setTimeout(() => {
        closing.removeEventListener('abort', onAbort);
        resolve(true);
      }, ms);
      closing.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Encodes `fields` (or, when given, calls `encode` with the id) as one request frame and awaits its reply. */
  #send<O extends keyof ResultByOp>(op: O, fields: object | undefined, options?: RequestOptions, encode?: (id: number) => void): Promise<ResultByOp[O]> {
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(new AbortedError(signal.reason));
    if (!this.#requests.hasRoom) {
      return Promise.reject(clientError(ClientErrorCode.NOT_CONNECTED, `more than ${PENDING_REQUESTS_MAX} requests await replies (${op} was not sent)`));
    }
    const id = this.#requests.allocateId();
    const before = this.#encoder.pendingBytes;
    try {
      if (encode === undefined) this.#encoder.push({ ...fields, op, id });
      else encode(id);
    } catch (error) {
      this.#encoder.truncate(before);
      return Promise.reject(clientError(ClientErrorCode.INVALID_ARGUMENT, `cannot encode ${op}: ${(error as Error).message}`, { cause: error }));
    }
    this.#scheduleFlush();
    return this.#requests.add<ResultByOp[O]>(id, signal);
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(this.#flush);
  }

  readonly #flush = (): void => {
    this.#flushScheduled = false;
    if (this.#encoder.pendingBytes === 0) return;
    const bytes = this.#encoder.take();
    this.#transport?.write(bytes);
  };

  #failPending(error: WalrusError): void {
    // Frames still in the encoder were never written; they fail the same way.
    this.#encoder.truncate(0);
    this.#requests.failAll(error);
  }
}
