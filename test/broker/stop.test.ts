/**
 * Graceful stop, in-process (`startBroker`): requests arriving while stopping get SHUTTING_DOWN and
 * the connection closes; in-flight long-polls are answered; a stopped broker releases its data dir
 * so a new one can open it.
 */
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { startBroker } from '../../src/broker/index.js';
import { bin, RawClient, tempDir } from './harness.js';

describe('Broker.stop()', () => {
  it('answers long-polls, refuses new requests with SHUTTING_DOWN, and frees the data dir', async () => {
    const dir = tempDir();
    try {
      const options = { dataDir: dir.path, port: 0, logger: pino({ level: 'silent' }), queuedBytesMax: 64 * 1024, shutdownGraceMs: 1500 };
      const broker = await startBroker(options);
      const c = await RawClient.connect(broker.port);
      expect((await c.request({ op: 'produce', topic: 't', value: bin('x') })).ok).toBe(true);
      expect((await c.request({ op: 'produce', topic: 'big', value: Buffer.alloc(1024 * 1024) })).ok).toBe(true);
      // A client that does not read keeps fetches in flight (waiting for reply budget), so the stop
      // stays in its grace period while other connections are still open.
      const stuck = await RawClient.connect(broker.port);
      stuck.socket.pause();
      for (let i = 0; i < 8; i++) stuck.send({ op: 'fetch', topic: 'big', offset: 0 });
      for (let i = 0; i < 200 && !broker.stats().connections.some((s) => s.readPaused || s.requestsInFlight > 1); i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      const longPoll = c.send({ op: 'fetch', topic: 't', offset: 1, maxWaitMs: 60_000 });
      await new Promise((r) => setTimeout(r, 50));
      const stopping = broker.stop();
      expect(await c.replyTo(longPoll)).toMatchObject({ ok: true, records: [] });
      const late = await c.request({ op: 'listTopics' });
      expect(late).toMatchObject({ ok: false, error: { code: 'SHUTTING_DOWN' } });
      await c.closed;
      await stopping;
      await broker.stop(); // idempotent
      stuck.close();

      const again = await startBroker({ ...options, shutdownGraceMs: 10_000 });
      const c2 = await RawClient.connect(again.port);
      expect((await c2.request({ op: 'fetch', topic: 't', offset: 0 })).records.length).toBe(1);
      c2.close();
      await again.stop();
    } finally {
      dir.cleanup();
    }
  });

  it('validates options before opening anything', async () => {
    await expect(startBroker({ port: 0 })).rejects.toThrow(/dataDir/);
    await expect(startBroker({ dataDir: '/nonexistent-never-created', port: 70000 })).rejects.toThrow(/port/);
    await expect(startBroker({ dataDir: '/nonexistent-never-created', ackTimeoutMs: 1 })).rejects.toThrow(/ackTimeoutMs/);
  });
});
