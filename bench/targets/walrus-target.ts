import { connect, type Consumer, type Producer, type WalrusClient } from '../../src/client/index.js';
import type { ConsumerClient, ProducerClient, TargetDriver, TargetSpec } from './types.js';

/** Records per consumer batch, matching the Redis consumer's XREADGROUP COUNT. */
export const WALRUS_BATCH_RECORDS = 100;

/**
 * Producer linger (WALRUS_LINGER_MS); unset = the SDK's default. The window of sends in flight
 * already gathers batches, so linger mostly adds latency here.
 */
function lingerMs(): number | undefined {
  const raw = process.env.WALRUS_LINGER_MS;
  return raw === undefined || raw === '' ? undefined : Number(raw);
}

function open(spec: TargetSpec, clientId: string): Promise<WalrusClient> {
  // No reconnect: a broker that goes away should fail the run, not stall it.
  return connect({ host: spec.host, port: spec.port, clientId, reconnect: false });
}

class WalrusProducer implements ProducerClient {
  private readonly producer: Producer;

  constructor(
    private readonly client: WalrusClient,
    private readonly topic: string,
    linger: number | undefined,
  ) {
    this.producer = client.producer(linger === undefined ? {} : { lingerMs: linger });
  }

  send(value: Buffer): Promise<unknown> {
    return this.producer.send(this.topic, value);
  }

  async close(): Promise<void> {
    await this.client.close({ timeoutMs: 5000 });
  }
}

class WalrusConsumer implements ConsumerClient {
  private readonly consumer: Consumer;

  constructor(
    private readonly client: WalrusClient,
    spec: TargetSpec,
  ) {
    this.consumer = client.consumer({ topic: spec.topic, group: spec.group });
  }

  async run(onMessage: (value: Uint8Array) => void, signal: AbortSignal): Promise<void> {
    let commit: Promise<void> | undefined;
    let commitError: unknown;
    try {
      // maxWaitMs 0: take what is buffered; the SDK's prefetch long-polls underneath.
      for await (const batch of this.consumer.batches({ maxRecords: WALRUS_BATCH_RECORDS, maxWaitMs: 0, signal })) {
        for (const message of batch.messages) onMessage(message.value);
        // Group commit: not awaited per batch. The SDK keeps one commit request in flight and folds
        // the batches committed meanwhile into the next one, so one cursor write covers many batches.
        commit = batch.commit();
        commit.catch((error: unknown) => (commitError ??= error));
        if (commitError !== undefined) throw commitError;
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

/** walrus-broker through our SDK: auto-batched `producer.send`, group consumer committing per batch. */
export const walrusDriver: TargetDriver = {
  async prepare(spec) {
    const client = await open(spec, 'bench-prepare');
    await client.admin.createTopic(spec.topic);
    // The group reads from the first message, so a consume case sees what was prefilled.
    await client.admin.seek(spec.topic, spec.group, 'earliest');
    await client.close({ timeoutMs: 5000 });
  },
  async producer(spec) {
    return new WalrusProducer(await open(spec, 'bench-producer'), spec.topic, spec.lingerMs ?? lingerMs());
  },
  async consumer(spec, memberName) {
    return new WalrusConsumer(await open(spec, `bench-${memberName}`), spec);
  },
};
