import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { connect, isRetriable, WalrusError, type WalrusClient } from '../../src/client/index.js';
import { BrokerProcess } from './broker-process.js';

/**
 * The SDK against a broker that dies (kill -9) and comes back on the same port and data dir, and
 * shutdown and abort while a long-poll is waiting. No timing assertions: only "it happens".
 */

const brokers: BrokerProcess[] = [];
const clients: WalrusClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close({ timeoutMs: 1_000 })));
  await Promise.all(brokers.splice(0).map((b) => b.dispose()));
});

async function startBroker(): Promise<BrokerProcess> {
  const broker = await BrokerProcess.start();
  brokers.push(broker);
  return broker;
}

async function open(broker: BrokerProcess, clientId: string): Promise<WalrusClient> {
  const client = await connect({ port: broker.port, clientId, reconnect: { initialDelayMs: 20, maxDelayMs: 200 } });
  clients.push(client);
  return client;
}

/** Sends, retrying only retriable failures; counts them. */
async function sendWithRetry(send: () => Promise<unknown>, failures: WalrusError[]): Promise<void> {
  for (;;) {
    try {
      await send();
      return;
    } catch (error) {
      if (!isRetriable(error)) throw error;
      failures.push(error as WalrusError);
      await sleep(20);
    }
  }
}

describe('broker restarts', () => {
  it('a consumer iterating through a kill -9 and restart resumes from its committed cursor with no loss', async () => {
    const broker = await startBroker();
    const producerClient = await open(broker, 'restart-producer');
    const consumerClient = await open(broker, 'restart-consumer');
    const events: string[] = [];
    consumerClient.on('disconnected', () => events.push('disconnected'));
    consumerClient.on('reconnecting', () => events.push('reconnecting'));
    consumerClient.on('connected', (e) => events.push(e.reconnected ? 'reconnected' : 'connected'));

    const count = 4_000;
    const producer = producerClient.producer();
    const failures: WalrusError[] = [];
    const seen = new Set<number>();
    let delivered = 0;
    const consumer = consumerClient.consumer({ topic: 'restart', group: 'g', maxBufferedBytes: 16 * 1024, autoCommit: true });
    let onHalf!: () => void;
    const half = new Promise<void>((resolve) => (onHalf = resolve));
    const consuming = (async () => {
      for await (const message of consumer.messages()) {
        seen.add(Number(message.value.toString()));
        delivered += 1;
        if (seen.size >= count / 2) onHalf();
        if (seen.size === count) {
          await message.commit(); // autoCommit covers the others; a break leaves the last one to us
          break;
        }
      }
    })();

    // Windows of concurrent sends (one batch each); a window that fails retriably is sent again.
    const sendRange = async (from: number, to: number): Promise<void> => {
      for (let start = from; start < to; start += 200) {
        const window = Array.from({ length: Math.min(200, to - start) }, (_, k) => Buffer.from(String(start + k)));
        await sendWithRetry(() => Promise.all(window.map((value) => producer.send('restart', value))), failures);
      }
    };
    await sendRange(0, count / 2);
    await half;
    await broker.stop('SIGKILL');
    await broker.restart();
    await sendRange(count / 2, count);

    await consuming;
    expect(seen.size).toBe(count);
    expect(delivered).toBeGreaterThanOrEqual(count); // at-least-once: a record in flight at the kill may come twice
    expect(events).toContain('disconnected');
    expect(events).toContain('reconnected');
    const lag = await consumerClient.admin.groupLag('restart', 'g');
    expect(lag).toMatchObject({ committed: count, lag: 0 });
  });

  it('a producer facing a stopped broker gets retriable errors, then succeeds once it is back', async () => {
    const broker = await startBroker();
    const client = await open(broker, 'stopped-producer');
    const producer = client.producer();
    expect((await producer.send('down', Buffer.from('before'))).offset).toBe(0);

    const disconnected = new Promise((resolve) => client.once('disconnected', resolve));
    await broker.stop('SIGKILL');
    await disconnected;
    const error = await producer.send('down', Buffer.from('during')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WalrusError);
    expect(error).toMatchObject({ code: 'NOT_CONNECTED', retriable: true });
    const failures: WalrusError[] = [];
    const retrying = sendWithRetry(() => producer.send('down', Buffer.from('after')), failures);
    await sleep(100); // let it fail a few times against the dead port
    await broker.restart();
    await retrying;
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.every((f) => f.retriable)).toBe(true);
    expect((await client.admin.describeTopic('down')).nextOffset).toBe(2);
  });

  it('a request in flight when the broker dies fails as CONNECTION_LOST (retriable)', async () => {
    const broker = await startBroker();
    const client = await open(broker, 'in-flight');
    const consumer = client.consumer({ topic: 'idle', group: 'g' });
    // Make a long-poll the request in flight; the admin call below is pipelined next to it.
    const iterator = consumer.messages();
    const pending = iterator.next();
    await sleep(50);
    const lag = client.admin.listTopics().then(
      () => undefined,
      (e: unknown) => e,
    );
    await broker.stop('SIGKILL');
    const error = await lag;
    expect(error).toBeInstanceOf(WalrusError);
    expect(error).toMatchObject({ code: 'CONNECTION_LOST', retriable: true });
    await client.close();
    await expect(pending).resolves.toEqual({ done: true, value: undefined });
  });
});

describe('shutdown and abort', () => {
  it('close() during a long-poll resolves and ends the loop', async () => {
    const broker = await startBroker();
    const client = await open(broker, 'close-during-poll');
    const consumer = client.consumer({ topic: 'empty', group: 'g' });
    let ended = false;
    const loop = (async () => {
      for await (const _ of consumer.messages()) {
        // nothing is ever produced
      }
      ended = true;
    })();
    await sleep(100); // the first fetch is now parked in the broker's long-poll
    await client.close({ timeoutMs: 30_000 });
    await loop;
    expect(ended).toBe(true);
    // Idempotent: later calls return the same settled promise.
    await client.close();
    expect(() => client.producer()).toThrow(expect.objectContaining({ code: 'CLIENT_CLOSED' }));
  });

  it('close() lets a running handler finish and its commit land', async () => {
    const broker = await startBroker();
    const client = await open(broker, 'close-with-handler');
    await client.producer().send('handler', Buffer.from('x'));
    const consumer = client.consumer({ topic: 'handler', group: 'g' });
    let closing!: Promise<void>;
    for await (const message of consumer.messages()) {
      closing = client.close({ timeoutMs: 30_000 });
      await sleep(50);
      await message.commit();
    }
    await closing;
    const check = await open(broker, 'checker');
    expect(await check.admin.groupLag('handler', 'g')).toMatchObject({ committed: 1 });
  });

  it('an AbortSignal aborts the iterator with ABORTED and the consumer can iterate again', async () => {
    const broker = await startBroker();
    const client = await open(broker, 'abort');
    const consumer = client.consumer({ topic: 'abortable', group: 'g' });
    const controller = new AbortController();
    const loop = (async () => {
      for await (const _ of consumer.messages({ signal: controller.signal })) {
        // nothing is ever produced before the abort
      }
    })();
    await sleep(100);
    controller.abort(new Error('user stop'));
    await expect(loop).rejects.toMatchObject({ code: 'ABORTED', retriable: false });

    await client.producer().send('abortable', Buffer.from('after'));
    for await (const message of consumer.messages({ signal: AbortSignal.timeout(30_000) })) {
      expect(message.value.toString()).toBe('after');
      break;
    }
  });

  it('an aborted connect() rejects with ABORTED', async () => {
    const broker = await startBroker();
    const port = broker.port;
    await broker.stop('SIGKILL');
    const controller = new AbortController();
    const connecting = connect({ port, signal: controller.signal, reconnect: { initialDelayMs: 10, maxDelayMs: 50 } });
    await sleep(50);
    controller.abort();
    await expect(connecting).rejects.toMatchObject({ code: 'ABORTED' });
  });
});
