import type { ConsumerClient, ProducerClient, TargetDriver, TargetSpec } from './types.js';

/** Records per consumer batch, matching the Redis consumer's XREADGROUP COUNT. */
export const WALRUS_BATCH_RECORDS = 100;
/** Longest long-poll of one fetch when the topic is drained, in ms; bounds the stop latency. */
const WALRUS_FETCH_WAIT_MS = 200;

/** The part of our SDK (src/client, issue 5) that the benchmark uses. */
interface SdkMessage {
  value: Uint8Array;
  commit(): Promise<unknown>;
}
interface SdkConsumer {
  messages(options?: { signal?: AbortSignal }): AsyncIterable<SdkMessage>;
  close?(): Promise<unknown>;
}
interface SdkClient {
  producer(): { send(topic: string, value: Buffer): Promise<unknown> };
  consumer(options: { topic: string; group: string }): SdkConsumer;
  admin: { createTopic(topic: string): Promise<unknown> };
  close(options?: { timeoutMs?: number }): Promise<unknown>;
}
interface Sdk {
  connect(options: { host: string; port: number; clientId?: string }): Promise<SdkClient>;
}

/** Loaded at run time so that bench/ typechecks while the SDK is still being written. */
async function loadSdk(): Promise<Sdk> {
  const url = new URL('../../src/client/index.js', import.meta.url).href;
  return (await import(url)) as Sdk;
}

async function open(spec: TargetSpec, clientId: string): Promise<SdkClient> {
  const sdk = await loadSdk();
  return sdk.connect({ host: spec.host, port: spec.port, clientId });
}

class WalrusProducer implements ProducerClient {
  private readonly producer: ReturnType<SdkClient['producer']>;

  constructor(
    private readonly client: SdkClient,
    private readonly topic: string,
  ) {
    this.producer = client.producer();
  }

  send(value: Buffer): Promise<unknown> {
    return this.producer.send(this.topic, value);
  }

  async close(): Promise<void> {
    await this.client.close({ timeoutMs: 5000 });
  }
}

class WalrusConsumer implements ConsumerClient {
  constructor(
    private readonly client: SdkClient,
    private readonly spec: TargetSpec,
  ) {}

  async run(onMessage: (value: Uint8Array) => void, signal: AbortSignal): Promise<void> {
    const consumer = this.client.consumer({ topic: this.spec.topic, group: this.spec.group });
    let commit: Promise<unknown> | undefined;
    try {
      for await (const message of consumer.messages({ signal })) {
        onMessage(message.value);
        // Commit without waiting per message: the broker acknowledges everything below the offset,
        // so the SDK may coalesce; the last commit is awaited before the run ends.
        commit = message.commit();
        commit.catch(() => undefined);
      }
    } catch (error) {
      if (!signal.aborted) throw error;
    }
    if (commit !== undefined) await commit.catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.client.close({ timeoutMs: 5000 });
  }
}

/** walrus-broker through our SDK: auto-batched `producer.send`, group consumer with `msg.commit()`. */
export const walrusDriver: TargetDriver = {
  async prepare(spec) {
    const client = await open(spec, 'bench-prepare');
    await client.admin.createTopic(spec.topic);
    await client.close({ timeoutMs: 5000 });
  },
  async producer(spec) {
    return new WalrusProducer(await open(spec, 'bench-producer'), spec.topic);
  },
  async consumer(spec, memberName) {
    return new WalrusConsumer(await open(spec, `bench-${memberName}`), spec);
  },
};

export { WALRUS_FETCH_WAIT_MS };
