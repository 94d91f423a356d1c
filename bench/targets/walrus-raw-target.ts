/**
 * walrus-broker over raw protocol frames (src/protocol's codec), without the SDK: the broker's own
 * cost, with the thinnest client that still batches (`produceBatch` of every send issued in one
 * event-loop turn) and commits per fetched batch. Comparing it with the SDK target shows what the
 * SDK adds. docs/protocol.md describes the frames.
 */
import { connect as netConnect, type Socket } from 'node:net';
import {
  BATCH_RECORDS_MAX,
  FrameDecoder,
  FrameEncoder,
  PROTOCOL_VERSION,
  type FetchResult,
} from '../../src/protocol/index.js';
import type { ConsumerClient, ProducerClient, TargetDriver, TargetSpec } from './types.js';

/** Records per fetch, matching the Redis consumer's XREADGROUP COUNT. */
const FETCH_RECORDS = 100;
/** Fetches outstanding per consumer (each up to FETCH_RECORDS records). */
const FETCHES_IN_FLIGHT = 4;
/** Long-poll of one fetch when the topic is drained, in ms; bounds the stop latency. */
const FETCH_WAIT_MS = 200;
/** Payload bytes per produceBatch frame; far below the 16 MiB frame cap. */
const BATCH_BYTES_MAX = 1024 * 1024;

type Reply = Record<string, unknown>;
interface Pending {
  resolve: (reply: Reply) => void;
  reject: (error: Error) => void;
}

/** One TCP connection with pipelined requests; replies are matched by id. */
class RawConnection {
  private readonly pending = new Map<number, Pending>();
  private readonly encoder = new FrameEncoder();
  private nextId = 1;
  private flushScheduled = false;

  private constructor(private readonly socket: Socket) {
    const decoder = new FrameDecoder({
      onMessage: (message) => this.onReply(message),
      onError: (error) => this.failAll(error),
    });
    socket.on('data', (chunk: Buffer) => decoder.push(chunk));
    socket.on('error', (error) => this.failAll(error));
    socket.on('close', () => this.failAll(new Error('connection closed')));
  }

  static async open(spec: TargetSpec, clientId: string): Promise<RawConnection> {
    const socket = netConnect({ host: spec.host, port: spec.port, noDelay: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const connection = new RawConnection(socket);
    await connection.request({ op: 'hello', version: PROTOCOL_VERSION, clientId });
    return connection;
  }

  /** Queues a request; every request of one turn goes out in one socket write. */
  request(body: Record<string, unknown>): Promise<Reply> {
    const id = this.nextId;
    this.nextId += 1;
    this.encoder.push({ ...body, id });
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => {
        this.flushScheduled = false;
        this.socket.write(this.encoder.take());
      });
    }
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
  }

  close(): void {
    this.socket.end();
  }

  private onReply(message: Record<string, unknown>): void {
    const id = message.id as number;
    const pending = this.pending.get(id);
    if (pending === undefined) return;
    this.pending.delete(id);
    if (message.ok === true) pending.resolve(message);
    else {
      const error = message.error as { code?: string; message?: string } | undefined;
      pending.reject(new Error(`${error?.code ?? 'ERROR'}: ${error?.message ?? 'request failed'}`));
    }
  }

  private failAll(error: Error): void {
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }
}

/** Gathers the sends of one event-loop turn into produceBatch frames. */
class RawProducer implements ProducerClient {
  private records: { value: Buffer }[] = [];
  private waiters: Pending[] = [];
  private bytes = 0;
  private flushScheduled = false;

  constructor(
    private readonly connection: RawConnection,
    private readonly topic: string,
  ) {}

  send(value: Buffer): Promise<unknown> {
    this.records.push({ value });
    this.bytes += value.length;
    const promise = new Promise<Reply>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (this.records.length >= BATCH_RECORDS_MAX || this.bytes >= BATCH_BYTES_MAX) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
    return promise;
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.records.length === 0) return;
    const records = this.records;
    const waiters = this.waiters;
    this.records = [];
    this.waiters = [];
    this.bytes = 0;
    this.connection.request({ op: 'produceBatch', topic: this.topic, records }).then(
      (reply) => {
        for (const waiter of waiters) waiter.resolve(reply);
      },
      (error: Error) => {
        for (const waiter of waiters) waiter.reject(error);
      },
    );
  }

  async close(): Promise<void> {
    this.connection.close();
  }
}

/** fetch with the group (leased records) and a commit per batch, not awaited (group commit). */
class RawConsumer implements ConsumerClient {
  constructor(
    private readonly connection: RawConnection,
    private readonly spec: TargetSpec,
  ) {}

  async run(onMessage: (value: Uint8Array) => void, signal: AbortSignal): Promise<void> {
    const { topic, group } = this.spec;
    let commit: Promise<Reply> | undefined;
    let commitError: unknown;
    const fetches: Promise<Reply>[] = [];
    while (!signal.aborted) {
      // Keep FETCHES_IN_FLIGHT fetches outstanding so the next batch is on its way while one is handled;
      // the group leases each record to one fetch only.
      while (fetches.length < FETCHES_IN_FLIGHT) {
        fetches.push(this.connection.request({ op: 'fetch', topic, group, maxRecords: FETCH_RECORDS, maxWaitMs: FETCH_WAIT_MS }));
      }
      const reply = (await fetches.shift()) as unknown as FetchResult;
      if (commitError !== undefined) throw commitError;
      const records = reply.records;
      if (records.length === 0) continue;
      for (const record of records) onMessage(record.value);
      const last = records[records.length - 1] as FetchResult['records'][number];
      // Group commit: not awaited per batch; the broker acknowledges everything below the offset,
      // and commits that queue behind a cursor write are folded into it.
      commit = this.connection.request({ op: 'commit', topic, group, offset: last.offset + 1 });
      commit.catch((error: unknown) => (commitError ??= error));
    }
    // Records of fetches still in flight stay leased to this connection and go back to the group when it closes.
    await Promise.allSettled(fetches);
    if (commit !== undefined) await commit;
  }

  async close(): Promise<void> {
    this.connection.close();
  }
}

/** walrus-broker through raw frames: produceBatch per event-loop turn, fetch + commit per batch. */
export const walrusRawDriver: TargetDriver = {
  async prepare(spec) {
    const connection = await RawConnection.open(spec, 'bench-prepare');
    await connection.request({ op: 'createTopic', topic: spec.topic });
    await connection.request({ op: 'seek', topic: spec.topic, group: spec.group, to: 'earliest' });
    connection.close();
  },
  async producer(spec) {
    return new RawProducer(await RawConnection.open(spec, 'bench-raw-producer'), spec.topic);
  },
  async consumer(spec, memberName) {
    return new RawConsumer(await RawConnection.open(spec, `bench-raw-${memberName}`), spec);
  },
};

