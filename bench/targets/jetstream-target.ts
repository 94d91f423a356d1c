import { AckPolicy, connect, StorageType, type NatsConnection, type JetStreamClient } from 'nats';
import type { ConsumerClient, ProducerClient, TargetDriver, TargetSpec } from './types.js';

/** Messages the pull consumer keeps buffered (nats.js `consume()` default is 100). */
const JETSTREAM_CONSUME_MESSAGES = 1000;
/** Longest a pull request waits on the server when the stream is drained, in ms. */
const JETSTREAM_PULL_EXPIRES_MS = 1000;

async function open(spec: TargetSpec): Promise<NatsConnection> {
  return connect({ servers: `${spec.host}:${spec.port}`, maxReconnectAttempts: 0 });
}

class JetStreamProducer implements ProducerClient {
  private readonly js: JetStreamClient;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subject: string,
  ) {
    this.js = nc.jetstream();
  }

  send(value: Buffer): Promise<unknown> {
    return this.js.publish(this.subject, value);
  }

  async close(): Promise<void> {
    await this.nc.drain();
  }
}

class JetStreamConsumer implements ConsumerClient {
  constructor(
    private readonly nc: NatsConnection,
    private readonly spec: TargetSpec,
  ) {}

  async run(onMessage: (value: Uint8Array) => void, signal: AbortSignal): Promise<void> {
    const consumer = await this.nc.jetstream().consumers.get(this.spec.topic, this.spec.group);
    const messages = await consumer.consume({
      max_messages: JETSTREAM_CONSUME_MESSAGES,
      expires: JETSTREAM_PULL_EXPIRES_MS,
    });
    const onAbort = (): void => void messages.close();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const message of messages) {
        onMessage(message.data);
        message.ack();
        if (signal.aborted) break;
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      await messages.close();
    }
  }

  async close(): Promise<void> {
    await this.nc.drain();
  }
}

/** NATS JetStream: `js.publish` to produce, a durable pull consumer with `consume()` + ack to consume. */
export const jetStreamDriver: TargetDriver = {
  async prepare(spec) {
    const nc = await open(spec);
    const jsm = await nc.jetstreamManager();
    await jsm.streams.add({ name: spec.topic, subjects: [spec.topic], storage: StorageType.File });
    await jsm.consumers.add(spec.topic, { durable_name: spec.group, ack_policy: AckPolicy.Explicit });
    await nc.close();
  },
  async producer(spec) {
    return new JetStreamProducer(await open(spec), spec.topic);
  },
  async consumer(spec) {
    return new JetStreamConsumer(await open(spec), spec);
  },
};
