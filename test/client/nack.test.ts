import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Message, type WalrusClient } from '../../src/client/index.js';
import { BrokerProcess } from './broker-process.js';

/** `msg.nack()`, `msg.extend()` and dead letters through the SDK against the real daemon. */
describe('nack, extend and dead letters (SDK)', () => {
  let broker: BrokerProcess;
  let client: WalrusClient;

  beforeAll(async () => {
    broker = await BrokerProcess.start();
    client = await connect({ port: broker.port, clientId: 'nack' });
  });

  afterAll(async () => {
    await client?.close();
    await broker?.dispose();
  });

  it('a message nacked maxDeliveries times lands in <topic>.dlq with its headers and leaves the group', async () => {
    const producer = client.producer();
    await producer.sendBatch('payments', [Buffer.from('ok-0'), Buffer.from('poison'), Buffer.from('ok-2')]);
    const consumer = client.consumer({ topic: 'payments', group: 'billing', maxDeliveries: 3 });
    const seen: string[] = [];
    let handled = 0;
    for await (const message of consumer.messages()) {
      const value = message.value.toString();
      seen.push(`${message.offset}:${value}`);
      if (value === 'poison') {
        await message.nack({ reason: `declined ${seen.length}` });
      } else {
        await message.commit();
        handled += 1;
      }
      if (handled === 2 && seen.filter((s) => s === '1:poison').length === 3) break;
    }
    await consumer.close();
    expect(seen.filter((s) => s === '1:poison')).toHaveLength(3);

    const dead = client.consumer({ topic: 'payments.dlq', group: 'inspect' });
    let letter: Message | undefined;
    for await (const message of dead.messages()) {
      letter = message;
      await message.commit();
      break;
    }
    await dead.close();
    expect(letter!.value.toString()).toBe('poison');
    const headers = Object.fromEntries(Object.entries(letter!.headers!).map(([k, v]) => [k, Buffer.from(v).toString()]));
    expect(headers).toMatchObject({
      'walrus.dlq.topic': 'payments',
      'walrus.dlq.group': 'billing',
      'walrus.dlq.offset': '1',
      'walrus.dlq.deliveries': '3',
    });
    expect(headers['walrus.dlq.reason']).toMatch(/^declined \d+$/);
    let lag = await client.admin.groupLag('payments', 'billing');
    for (let i = 0; i < 200 && lag?.lag !== 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      lag = await client.admin.groupLag('payments', 'billing');
    }
    expect(lag).toBeDefined();
    expect(lag).toMatchObject({ committed: 3, lag: 0, inFlight: 0 });
  });

  it('a nack with delayMs is redelivered to the loop; commits after it do not acknowledge it', async () => {
    const producer = client.producer();
    await producer.sendBatch('retry', [Buffer.from('a'), Buffer.from('b')]);
    const consumer = client.consumer({ topic: 'retry', group: 'g' });
    const order: string[] = [];
    for await (const message of consumer.messages()) {
      const value = message.value.toString();
      order.push(value);
      if (value === 'a' && order.length === 1) await message.nack({ delayMs: 100, reason: 'not yet' });
      else await message.commit();
      if (order.length === 3) break;
    }
    await consumer.close();
    expect(order).toEqual(['a', 'b', 'a']);
    expect(await client.admin.groupLag('retry', 'g')).toMatchObject({ committed: 2, lag: 0 });
  });

  it('extend keeps a message past its fetch lease; extend after commit is NOT_LEASED', async () => {
    const producer = client.producer();
    await producer.sendBatch('long', [Buffer.from('slow'), Buffer.from('fast')]);
    const consumer = client.consumer({ topic: 'long', group: 'g', ackTimeoutMs: 300, maxBufferedBytes: 1 });
    const other = await connect({ port: broker.port, clientId: 'other' });
    try {
      const iterator = consumer.messages();
      const first = (await iterator.next()).value as Message;
      expect(first.value.toString()).toBe('slow');
      await first.extend(600_000);
      // Another member gets 'fast' once the lease of the buffered copy (not extended) ends; by then
      // the original 300 ms lease of 'slow' has passed too, yet nobody else is handed it.
      const rival = other.consumer({ topic: 'long', group: 'g' });
      const got: string[] = [];
      for await (const message of rival.messages()) {
        got.push(message.value.toString());
        await message.commit();
        break;
      }
      await rival.close();
      expect(got).toEqual(['fast']);
      await first.commit();
      await expect(first.extend(1000)).rejects.toMatchObject({ code: 'NOT_LEASED' });
      await iterator.return!();
    } finally {
      await consumer.close();
      await other.close();
    }
    expect(await client.admin.groupLag('long', 'g')).toMatchObject({ committed: 2, lag: 0 });
  });
});
