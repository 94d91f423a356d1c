import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connect,
  jsonDeserializer,
  jsonSerializer,
  msgpackDeserializer,
  msgpackSerializer,
  WalrusError,
  type Message,
  type WalrusClient,
} from '../../src/client/index.js';
import { BrokerProcess } from './broker-process.js';

/** Produce, consume, commit and admin against the real daemon. */
describe('round trip', () => {
  let broker: BrokerProcess;
  let client: WalrusClient;

  beforeAll(async () => {
    broker = await BrokerProcess.start();
    client = await connect({ port: broker.port, clientId: 'round-trip' });
  });

  afterAll(async () => {
    await client?.close();
    await broker?.dispose();
  });

  async function take<T>(iterator: AsyncIterableIterator<Message<T>>, n: number): Promise<Message<T>[]> {
    const out: Message<T>[] = [];
    for await (const message of iterator) {
      out.push(message);
      if (out.length === n) break;
    }
    return out;
  }

  it('sends values, keys and headers and reads them back in order', async () => {
    const producer = client.producer();
    const first = await producer.send('rt', Buffer.from('one'));
    const second = await producer.send('rt', { value: Buffer.from('two'), key: 'k2', headers: { trace: 'abc', raw: Buffer.from([1, 2]) } });
    expect(second.offset).toBe(first.offset + 1);
    const batch = await producer.sendBatch('rt', [Buffer.from('three'), Buffer.from('four')]);
    expect(batch).toEqual({ baseOffset: second.offset + 1, count: 2 });

    const consumer = client.consumer({ topic: 'rt', group: 'readers' });
    const messages = await take(consumer.messages(), 4);
    expect(messages.map((m) => m.value.toString())).toEqual(['one', 'two', 'three', 'four']);
    expect(messages.map((m) => m.offset)).toEqual([0, 1, 2, 3]);
    expect(messages[1].key?.toString()).toBe('k2');
    expect(Buffer.from(messages[1].headers!.trace as Uint8Array).toString()).toBe('abc');
    expect(messages[0].timestamp).toBeGreaterThan(1_600_000_000_000);
    expect(messages[0].topic).toBe('rt');

    // Committing the last acknowledges all: the group's cursor moves past it, no offset arithmetic.
    await messages[3].commit();
    expect(await client.admin.groupLag('rt', 'readers')).toMatchObject({ committed: 4, lag: 0, inFlight: 0 });
    await consumer.close();
  });

  it('turns many concurrent sends into few batches with consecutive offsets', async () => {
    const producer = client.producer({ lingerMs: 5 });
    const results = await Promise.all(Array.from({ length: 3_000 }, (_, i) => producer.send('burst', Buffer.from(String(i)))));
    const offsets = results.map((r) => r.offset).sort((a, b) => a - b);
    expect(offsets).toEqual(Array.from({ length: 3_000 }, (_, i) => i));
    await producer.flush();
    expect(producer.inFlightBytes).toBe(0);
  });

  it('waits for room instead of buffering past inFlightBytesMax', async () => {
    const producer = client.producer({ batchBytesMax: 1_024, inFlightBytesMax: 4_096 });
    let peak = 0;
    const sends = Array.from({ length: 200 }, async (_, i) => {
      const sent = producer.send('backpressure', Buffer.alloc(100, i));
      peak = Math.max(peak, producer.inFlightBytes);
      return sent;
    });
    await Promise.all(sends);
    expect(peak).toBeLessThanOrEqual(4_096);
    expect((await client.admin.describeTopic('backpressure')).nextOffset).toBe(200);
  });

  it('round-trips objects through the JSON and msgpack hooks', async () => {
    const jsonProducer = client.producer({ serializer: jsonSerializer });
    await jsonProducer.send('objects-json', { order: 1, items: ['a'] });
    const jsonConsumer = client.consumer({ topic: 'objects-json', group: 'g', deserializer: jsonDeserializer, autoCommit: true });
    const [jsonMessage] = await take(jsonConsumer.messages(), 1);
    expect(jsonMessage.value).toEqual({ order: 1, items: ['a'] });

    const packProducer = client.producer({ serializer: msgpackSerializer });
    await packProducer.send('objects-pack', { value: { nested: true } });
    const packConsumer = client.consumer({ topic: 'objects-pack', group: 'g', deserializer: msgpackDeserializer });
    const [packMessage] = await take(packConsumer.messages(), 1);
    expect(packMessage.value).toEqual({ nested: true });
    await Promise.all([jsonConsumer.close(), packConsumer.close()]);
  });

  it('reports a deserializer failure with the record, which can be committed to skip it', async () => {
    const producer = client.producer();
    await producer.sendBatch('poison', [Buffer.from('{bad'), Buffer.from('{"ok":true}')]);
    const consumer = client.consumer({ topic: 'poison', group: 'g', deserializer: jsonDeserializer });
    const error = await take(consumer.messages(), 1).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'DESERIALIZE_FAILED', retriable: false });
    await (error as { record: Message }).record.commit();
    const [next] = await take(consumer.messages(), 1);
    expect(next.value).toEqual({ ok: true });
    await next.commit();
    expect(await client.admin.groupLag('poison', 'g')).toMatchObject({ committed: 2 });
    await consumer.close();
  });

  it('yields batches and commits them whole', async () => {
    const producer = client.producer();
    await producer.sendBatch('batched', Array.from({ length: 250 }, (_, i) => Buffer.from(String(i))));
    const consumer = client.consumer({ topic: 'batched', group: 'g' });
    let seen = 0;
    for await (const batch of consumer.batches({ maxRecords: 100, maxWaitMs: 20 })) {
      expect(batch.messages.length).toBeLessThanOrEqual(100);
      seen += batch.messages.length;
      await batch.commit();
      if (seen === 250) break;
    }
    expect(await client.admin.groupLag('batched', 'g')).toMatchObject({ committed: 250, lag: 0 });
    await consumer.close();
  });

  it('administers topics and groups', async () => {
    expect(await client.admin.createTopic('admin-t')).toEqual({ created: true });
    expect(await client.admin.createTopic('admin-t')).toEqual({ created: false });
    expect(await client.admin.listTopics()).toContain('admin-t');
    const producer = client.producer();
    await producer.sendBatch('admin-t', [Buffer.from('a'), Buffer.from('b'), Buffer.from('c')]);
    expect(await client.admin.seek('admin-t', 'g', 'latest')).toEqual({ offset: 3 });
    expect(await client.admin.groupLag('admin-t', 'g')).toMatchObject({ committed: 3, lag: 0 });
    expect(await client.admin.seek('admin-t', 'g', 1)).toEqual({ offset: 1 });
    const consumer = client.consumer({ topic: 'admin-t', group: 'g' });
    const [message] = await take(consumer.messages(), 1);
    expect(message.value.toString()).toBe('b');
    await consumer.close();
    const description = await client.admin.describeTopic('admin-t');
    expect(description).toMatchObject({ topic: 'admin-t', firstOffset: 0, nextOffset: 3 });
    await client.admin.deleteTopic('admin-t');
    expect(await client.admin.listTopics()).not.toContain('admin-t');
  });

  it('fails with stable codes, never with bare errors', async () => {
    const producer = client.producer();
    await expect(producer.send('../etc', Buffer.from('x'))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', retriable: false });
    await expect(client.admin.describeTopic('never-made')).rejects.toBeInstanceOf(WalrusError);
    await expect(client.admin.describeTopic('never-made')).rejects.toMatchObject({ code: 'NOT_FOUND', retriable: false });
    client.consumer({ topic: 'dup', group: 'g' });
    expect(() => client.consumer({ topic: 'dup', group: 'g' })).toThrow(expect.objectContaining({ code: 'CONSUMER_EXISTS' }));
    await expect(connect({ port: broker.port, reconnect: { jitter: 2 } })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
  });
});
