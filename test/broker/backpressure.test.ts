/**
 * A client that pipelines requests and never reads: the broker must stop reading from it once its
 * queued replies pass the cap, instead of buffering replies without bound, and must deliver every
 * reply once the client reads again. Runs the broker in-process (real engine, real loopback socket)
 * so the per-connection queue can be inspected.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { startBroker } from '../../src/broker/index.js';
import type { Broker } from '../../src/broker/index.js';
import { encodeFrame } from '../../src/protocol/index.js';
import { lazyTempDir, RawClient } from './harness.js';

const QUEUED_BYTES_MAX = 1024 * 1024;
const VALUE_BYTES = 256 * 1024;
const REQUESTS = 400; // ~100 MiB of replies if nothing pushed back

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('backpressure', () => {
  const dir = lazyTempDir();
  let broker: Broker;

  beforeAll(async () => {
    broker = await startBroker({ dataDir: dir.path, port: 0, fsync: 'none', queuedBytesMax: QUEUED_BYTES_MAX, logger: pino({ level: 'silent' }) });
  });

  afterAll(async () => {
    await broker?.stop();
    dir.cleanup();
  });

  it('pauses reading from a client that does not read, bounds its queue, then delivers everything', async () => {
    const producer = await RawClient.connect(broker.port);
    expect((await producer.request({ op: 'produce', topic: 'big', value: Buffer.alloc(VALUE_BYTES, 1) })).ok).toBe(true);
    producer.close();

    const slow = await RawClient.connect(broker.port);
    slow.socket.pause(); // stop reading replies
    const frames: Buffer[] = [];
    const ids: number[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      const id = slow.id();
      ids.push(id);
      frames.push(encodeFrame({ op: 'fetch', id, topic: 'big', offset: 0 }));
    }
    slow.writeRaw(Buffer.concat(frames));

    const mine = () => broker.stats().connections.find((c) => c.clientId === 'test' && c.requestsInFlight + c.queuedBytes > 0);
    await until(() => mine()?.readPaused === true, 'reading to pause');
    // Give the broker time to (wrongly) keep serving; the queue must stay near the cap.
    await new Promise((r) => setTimeout(r, 300));
    const stats = mine()!;
    expect(stats.readPaused).toBe(true);
    expect(stats.queuedBytes).toBeLessThan(QUEUED_BYTES_MAX + 4 * (VALUE_BYTES + 1024));

    slow.socket.resume();
    const replies = await Promise.all(ids.map((id) => slow.replyTo(id)));
    expect(replies.every((r) => r.ok && r.records.length === 1)).toBe(true);
    slow.close();
  });
});
