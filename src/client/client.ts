import { EventEmitter } from 'node:events';
import { Admin } from './admin.js';
import { Connection } from './connection.js';
import { Consumer } from './consumer.js';
import { clientError, ClientErrorCode } from './errors.js';
import { CLOSE_TIMEOUT_MS_DEFAULT } from './limits.js';
import { resolveConnectOptions, resolveConsumerOptions, resolveProducerOptions, type ConnectSettings } from './options.js';
import { Producer } from './producer.js';
import type { ClientEvents, CloseOptions, ConnectOptions, ConsumerOptions, ProducerOptions } from './types.js';

/**
 * A connected client: one TCP connection per client, shared by its producers, consumers and admin,
 * kept up by reconnecting with backoff. Emits `connected`, `disconnected` and `reconnecting`.
 */
export class WalrusClient extends EventEmitter<ClientEvents> {
  /** Topic and group administration. */
  readonly admin: Admin;
  readonly #connection: Connection;
  readonly #producers = new Set<Producer<never>>();
  readonly #consumers = new Map<string, Consumer<unknown>>();
  /**
   * Topic+group keys whose consumer closed while its connection still leased it unfinished records,
   * with that connection's generation. The broker acknowledges per connection and group, so a new
   * consumer's commits on the same connection would acknowledge those records too (a loss); it is
   * refused until the connection changes. (The protocol has no op to hand leases back early.)
   */
  readonly #leasesLeftBehind = new Map<string, number>();
  #closePromise: Promise<void> | undefined;

  /** Use `connect()`. */
  constructor(settings: ConnectSettings) {
    super();
    this.#connection = new Connection(settings, {
      onConnected: (event) => this.emit('connected', event),
      onDisconnected: (event) => {
        for (const consumer of this.#consumers.values()) consumer.onConnectionLost();
        this.emit('disconnected', event);
      },
      onReconnecting: (event) => this.emit('reconnecting', event),
      onGaveUp: (error) => {
        const lost = clientError(ClientErrorCode.CONNECTION_LOST, 'the connection to the broker was lost and reconnect is disabled', { cause: error });
        for (const consumer of this.#consumers.values()) consumer.fail(lost);
        void this.close({ timeoutMs: 0 });
      },
    });
    this.admin = new Admin(this.#connection);
  }

  /** @internal Runs the first connection; see `connect()`. */
  start(signal: AbortSignal | undefined): Promise<void> {
    return this.#connection.start(signal);
  }

  /** True while connected (false while reconnecting and after close). */
  get connected(): boolean {
    return this.#connection.state === 'connected';
  }

  /** A producer sharing this client's connection. See `ProducerOptions` for batching and backpressure. */
  producer<T = Uint8Array>(options?: ProducerOptions<T>): Producer<T> {
    this.#assertOpen();
    const producer = new Producer<T>(this.#connection, resolveProducerOptions(options));
    this.#producers.add(producer as Producer<never>);
    return producer;
  }

  /**
   * A group consumer for one topic. One per topic and group per client: members of a group on one
   * connection would share its leases (and each other's commits); use one client per worker instead.
   */
  consumer<T = Buffer>(options: ConsumerOptions<T>): Consumer<T> {
    this.#assertOpen();
    const settings = resolveConsumerOptions(options);
    const key = `${settings.topic}\u0000${settings.group}`;
    if (this.#consumers.has(key)) {
      throw clientError(ClientErrorCode.CONSUMER_EXISTS, `this client already consumes ${settings.topic} as group ${settings.group}`);
    }
    if (this.#leasesLeftBehind.get(key) === this.#connection.generation) {
      throw clientError(
        ClientErrorCode.CONSUMER_EXISTS,
        `an earlier consumer of ${settings.topic} as group ${settings.group} closed holding unfinished records on this connection; ` +
          'they go back to the group when their lease ends or the connection closes. Use another client, or close this one and connect again',
      );
    }
    this.#leasesLeftBehind.delete(key);
    const consumer: Consumer<T> = new Consumer<T>(this.#connection, settings, () => {
      this.#consumers.delete(key);
      if (consumer.unfinishedCount > 0 && consumer.leaseGeneration === this.#connection.generation) {
        this.#leasesLeftBehind.set(key, consumer.leaseGeneration);
      }
    });
    this.#consumers.set(key, consumer as Consumer<unknown>);
    return consumer;
  }

  /**
   * Closes gracefully, then the connection: consumers stop fetching (a long-poll is abandoned at
   * once), running handlers finish and their commits complete, producers flush. After `timeoutMs`
   * whatever is still pending fails with `CLIENT_CLOSED`. Idempotent: every call returns the same promise.
   */
  close(options: CloseOptions = {}): Promise<void> {
    this.#closePromise ??= this.#close(options.timeoutMs ?? CLOSE_TIMEOUT_MS_DEFAULT);
    return this.#closePromise;
  }

  async #close(timeoutMs: number): Promise<void> {
    const graceful = (async () => {
      await Promise.allSettled([...this.#consumers.values()].map((consumer) => consumer.close({ timeoutMs })));
      await Promise.allSettled([...this.#producers].map((producer) => producer.close()));
    })();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, timeoutMs))));
    try {
      await Promise.race([graceful, timeout]);
    } finally {
      clearTimeout(timer);
      this.#connection.close();
    }
    // Anything the grace period cut short has now failed with CLIENT_CLOSED; let it settle.
    await Promise.race([graceful, new Promise<void>((resolve) => setImmediate(resolve))]);
  }

  #assertOpen(): void {
    if (this.#closePromise !== undefined) throw clientError(ClientErrorCode.CLIENT_CLOSED, 'the client is closed');
  }
}

/**
 * Connects to a broker. Resolves once the first `hello` succeeded; until then it retries with the
 * reconnect backoff (bound it with `signal`, e.g. `AbortSignal.timeout(5000)`). Rejects with
 * `INVALID_OPTION` before any socket opens, with `ABORTED`, or with the broker's refusal
 * (`UNAUTHORIZED`, `UNSUPPORTED_VERSION`).
 */
export async function connect(options: ConnectOptions = {}): Promise<WalrusClient> {
  const client = new WalrusClient(resolveConnectOptions(options));
  await client.start(options.signal);
  return client;
}
