import { Redis } from 'ioredis';
import type { ConsumerClient, ProducerClient, TargetDriver, TargetSpec } from './types.js';

/** Entries per XREADGROUP, as the target states (XREADGROUP COUNT 100 + XACK). */
export const REDIS_READ_COUNT = 100;
/** How long one XREADGROUP blocks when the stream is drained, in ms; bounds the stop latency. */
const REDIS_BLOCK_MS = 200;

type StreamEntries = [Buffer, [Buffer, Buffer[]][]][] | null;

/** The stream commands used, with the reply shapes they have here (ioredis's own overloads are unwieldy). */
interface StreamCommands {
  xadd(key: string, id: string, field: string, value: Buffer): Promise<string | null>;
  xreadgroupBuffer(...args: (string | number)[]): Promise<StreamEntries>;
  xack(key: string, group: string, ...ids: Buffer[]): Promise<number>;
  xgroup(...args: string[]): Promise<unknown>;
  quit(): Promise<unknown>;
}

function connect(spec: TargetSpec): StreamCommands {
  // Auto-pipelining: every command issued in one event-loop turn goes out in one write; this is
  // how a Node service gets Redis's best throughput without managing pipelines by hand.
  const redis = new Redis({
    host: spec.host,
    port: spec.port,
    enableAutoPipelining: true,
    maxRetriesPerRequest: 1,
    lazyConnect: false,
  });
  return redis as unknown as StreamCommands;
}

class RedisProducer implements ProducerClient {
  constructor(
    private readonly redis: StreamCommands,
    private readonly key: string,
  ) {}

  send(value: Buffer): Promise<unknown> {
    return this.redis.xadd(this.key, '*', 'd', value);
  }

  async close(): Promise<void> {
    await this.redis.quit();
  }
}

class RedisConsumer implements ConsumerClient {
  constructor(
    private readonly redis: StreamCommands,
    private readonly spec: TargetSpec,
    private readonly memberName: string,
  ) {}

  async run(onMessage: (value: Uint8Array) => void, signal: AbortSignal): Promise<void> {
    const { topic, group } = this.spec;
    let ack: Promise<number> | undefined;
    while (!signal.aborted) {
      // The XACK of the previous batch rides in the same pipeline as the next XREADGROUP.
      const read = this.redis.xreadgroupBuffer(
        'GROUP', group, this.memberName, 'COUNT', REDIS_READ_COUNT, 'BLOCK', REDIS_BLOCK_MS, 'STREAMS', topic, '>',
      );
      if (ack !== undefined) await ack;
      const reply = await read;
      ack = undefined;
      const entries = reply?.[0]?.[1];
      if (entries === undefined || entries.length === 0) continue;
      const ids: Buffer[] = new Array(entries.length);
      for (let i = 0; i < entries.length; i += 1) {
        const [id, fields] = entries[i] as [Buffer, Buffer[]];
        ids[i] = id;
        onMessage(fields[1] as Buffer);
      }
      ack = this.redis.xack(topic, group, ...ids);
    }
    if (ack !== undefined) await ack;
  }

  async close(): Promise<void> {
    await this.redis.quit();
  }
}

/** Redis Streams: XADD to produce, XREADGROUP COUNT 100 + XACK to consume in a group. */
export const redisDriver: TargetDriver = {
  async prepare(spec) {
    const redis = connect(spec);
    // Group at id 0 so that consumers see everything produced before they started.
    await redis.xgroup('CREATE', spec.topic, spec.group, '0', 'MKSTREAM');
    await redis.quit();
  },
  async producer(spec) {
    return new RedisProducer(connect(spec), spec.topic);
  },
  async consumer(spec, memberName) {
    return new RedisConsumer(connect(spec), spec, memberName);
  },
};
