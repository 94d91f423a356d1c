/**
 * Hostile and broken input against the real daemon: each gets its documented error (or a close),
 * and the broker keeps serving other clients. Also connection limits, auth and graceful stop.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame } from '../../src/protocol/index.js';
import { bin, lazyTempDir, RawClient, startDaemon, tempDir } from './harness.js';
import type { Daemon } from './harness.js';

function frameOf(body: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(body.length);
  return Buffer.concat([header, body]);
}

describe('hostile input', () => {
  const dir = lazyTempDir();
  let daemon: Daemon;
  let bystander: RawClient;

  beforeAll(async () => {
    daemon = await startDaemon(dir.path);
    bystander = await RawClient.connect(daemon.port);
  });

  afterAll(async () => {
    bystander?.close();
    if (daemon) expect(await daemon.terminate()).toBe(0);
    dir.cleanup();
  });

  /** The broker still serves a connection that did nothing wrong. */
  async function stillServing(): Promise<void> {
    const reply = await bystander.request({ op: 'produce', topic: 'bystander', value: bin('still here') });
    expect(reply.ok).toBe(true);
  }

  it('malformed msgpack gets BAD_FRAME (id 0) and the connection keeps working', async () => {
    const c = await RawClient.connect(daemon.port);
    c.writeRaw(frameOf(Buffer.from([0xc1])));
    c.writeRaw(frameOf(Buffer.from([0x82, 0xa1, 0x61]))); // truncated map
    c.writeRaw(frameOf(Buffer.from([0x93, 1, 2, 3]))); // an array, not a map
    c.writeRaw(frameOf(Buffer.alloc(0)));
    await c.waitFor(() => c.received.filter((r) => r.error?.code === 'BAD_FRAME').length === 4);
    for (const r of c.received.filter((x) => x.ok === false)) expect(r).toMatchObject({ id: 0, ok: false, error: { code: 'BAD_FRAME' } });
    expect((await c.request({ op: 'listTopics' })).ok).toBe(true);
    c.close();
    await stillServing();
  });

  it('unknown op gets UNKNOWN_OP with the request id', async () => {
    const c = await RawClient.connect(daemon.port);
    const reply = await c.request({ op: 'dropDatabase', topic: 'x' });
    expect(reply).toMatchObject({ ok: false, error: { code: 'UNKNOWN_OP' } });
    c.close();
    await stillServing();
  });

  it('missing fields and wrong types get INVALID_REQUEST', async () => {
    const c = await RawClient.connect(daemon.port);
    const bad: Record<string, unknown>[] = [
      { op: 'produce', topic: 't' },
      { op: 'produce', topic: 't', value: 'a string, not bin' },
      { op: 'produce', topic: 42, value: bin('v') },
      { op: 'fetch', topic: 't' },
      { op: 'fetch', topic: 't', offset: -5 },
      { op: 'fetch', topic: 't', offset: 1.5 },
      { op: 'fetch', topic: 't', offset: 0, maxRecords: 'ten' },
      { op: 'commit', topic: 't', group: 'g' },
      { op: 'produceBatch', topic: 't', records: 'nope' },
      { op: 'seek', topic: 't', group: 'g', to: 'sideways' },
    ];
    for (const message of bad) {
      const reply = await c.request(message);
      expect(reply, JSON.stringify(message)).toMatchObject({ ok: false, error: { code: 'INVALID_REQUEST' } });
      expect(typeof reply.error.message).toBe('string');
    }
    // A map without a usable id: answered with id 0.
    c.writeRaw(encodeFrame({ op: 'listTopics', id: 'seven' }));
    const noId = await c.waitFor((r) => r.id === 0 && r.error?.code === 'INVALID_REQUEST');
    expect(noId.ok).toBe(false);
    c.close();
    await stillServing();
  });

  it('path-like topic and group names get INVALID_TOPIC / INVALID_GROUP and touch nothing', async () => {
    const c = await RawClient.connect(daemon.port);
    for (const topic of ['../escape', '..', '.', 'a/b', '', 'x'.repeat(250)]) {
      const reply = await c.request({ op: 'produce', topic, value: bin('v') });
      expect(reply, topic).toMatchObject({ ok: false, error: { code: 'INVALID_TOPIC' } });
    }
    expect((await c.request({ op: 'fetch', topic: 't', group: '../g' })).error.code).toBe('INVALID_GROUP');
    expect((await c.request({ op: 'listTopics' })).topics.some((t: string) => t.includes('.'))).toBe(false);
    c.close();
    await stillServing();
  });

  it('a batch over 2,000 records gets BATCH_TOO_LARGE and writes nothing', async () => {
    const c = await RawClient.connect(daemon.port);
    const records = Array.from({ length: 2001 }, () => ({ value: bin('v') }));
    expect((await c.request({ op: 'produceBatch', topic: 'big-batch', records })).error.code).toBe('BATCH_TOO_LARGE');
    expect((await c.request({ op: 'listTopics' })).topics).not.toContain('big-batch');
    c.close();
  });

  it('a 1 GiB length prefix gets FRAME_TOO_LARGE, then the connection closes', async () => {
    const c = await RawClient.connect(daemon.port);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(2 ** 30);
    c.writeRaw(Buffer.concat([header, Buffer.alloc(1024, 0x41)]));
    const reply = await c.waitFor((r) => r.error?.code === 'FRAME_TOO_LARGE');
    expect(reply).toMatchObject({ id: 0, ok: false });
    await c.closed;
    await stillServing();
  });

  it('requests before hello get HELLO_REQUIRED; an unknown version gets UNSUPPORTED_VERSION', async () => {
    const c = await RawClient.connect(daemon.port, { hello: false });
    expect((await c.request({ op: 'listTopics' })).error.code).toBe('HELLO_REQUIRED');
    expect((await c.request({ op: 'hello', version: 99 })).error.code).toBe('UNSUPPORTED_VERSION');
    expect((await c.request({ op: 'listTopics' })).error.code).toBe('HELLO_REQUIRED');
    expect((await c.request({ op: 'hello', version: 1 })).ok).toBe(true);
    expect((await c.request({ op: 'listTopics' })).ok).toBe(true);
    c.close();
  });

  it('random garbage bytes never take the broker down', async () => {
    for (let round = 0; round < 5; round++) {
      const c = await RawClient.connect(daemon.port, { hello: false });
      const garbage = Buffer.alloc(4096);
      for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 131 + round * 17) & 0xff;
      c.writeRaw(garbage);
      c.close();
    }
    await stillServing();
  });
});

describe('limits, auth and graceful stop', () => {
  it('refuses connections past --max-connections with TOO_MANY_CONNECTIONS; enforces --max-frame-bytes', async () => {
    const dir = tempDir();
    const daemon = await startDaemon(dir.path, ['--max-connections', '2', '--max-frame-bytes', '65536']);
    try {
      const a = await RawClient.connect(daemon.port);
      // A record that fits the request frame but would not fit a fetch reply: RECORD_TOO_LARGE.
      const tooBig = await a.request({ op: 'produce', topic: 'sized', value: Buffer.alloc(65_000) });
      expect(tooBig.error.code).toBe('RECORD_TOO_LARGE');
      const fits = await a.request({ op: 'produce', topic: 'sized', value: Buffer.alloc(60_000) });
      expect(fits.ok).toBe(true);
      const back = await a.request({ op: 'fetch', topic: 'sized', offset: 0 });
      expect(back.records[0].value.length).toBe(60_000);
      const b = await RawClient.connect(daemon.port);
      const c = await RawClient.connect(daemon.port, { hello: false });
      const refused = await c.waitFor((r) => r.error?.code === 'TOO_MANY_CONNECTIONS');
      expect(refused.id).toBe(0);
      await c.closed;
      expect((await a.request({ op: 'listTopics' })).ok).toBe(true);
      b.close();
      await b.closed;
      // A slot is free again once the broker has seen the close.
      let d: RawClient | undefined;
      for (let attempt = 0; attempt < 100 && d === undefined; attempt++) {
        const candidate = await RawClient.connect(daemon.port, { hello: false });
        const helloId = candidate.send({ op: 'hello', version: 1 });
        const first = await candidate.waitFor((r) => r.id === helloId || r.id === 0);
        if (first.ok === true) d = candidate;
        else {
          expect(first.error.code).toBe('TOO_MANY_CONNECTIONS');
          candidate.close();
          await new Promise((r) => setTimeout(r, 20));
        }
      }
      expect(d).toBeDefined();
      a.close();
      d!.close();
    } finally {
      await daemon.terminate();
      dir.cleanup();
    }
  });

  it('with --auth-token, a wrong token gets UNAUTHORIZED and a close', async () => {
    const dir = tempDir();
    const daemon = await startDaemon(dir.path, ['--auth-token', 's3cret']);
    try {
      const bad = await RawClient.connect(daemon.port, { hello: false });
      expect((await bad.request({ op: 'hello', version: 1, token: 'nope' })).error.code).toBe('UNAUTHORIZED');
      await bad.closed;
      const good = await RawClient.connect(daemon.port, { hello: false });
      expect((await good.request({ op: 'hello', version: 1, token: 's3cret' })).ok).toBe(true);
      good.close();
    } finally {
      await daemon.terminate();
      dir.cleanup();
    }
  });

  it('SIGTERM during a burst of produces: every acknowledged record is there after restart', async () => {
    const dir = tempDir();
    const daemon = await startDaemon(dir.path);
    try {
      const c = await RawClient.connect(daemon.port);
      const frames: Buffer[] = [];
      const ids: number[] = [];
      for (let i = 0; i < 300; i++) {
        const id = c.id();
        ids.push(id);
        frames.push(encodeFrame({ op: 'produce', id, topic: 'burst-stop', value: bin(`v${i}`) }));
      }
      c.writeRaw(Buffer.concat(frames));
      const exit = daemon.terminate();
      expect(await exit).toBe(0);
      await c.closed;
      const produceIds = new Set(ids);
      const acked = c.received.filter((r) => r.ok === true && produceIds.has(r.id)).map((r) => r.offset as number);
      for (const r of c.received.filter((x) => x.ok === false)) expect(r.error.code).toBe('SHUTTING_DOWN');

      const again = await startDaemon(dir.path);
      const c2 = await RawClient.connect(again.port);
      const stored = await c2.request({ op: 'fetch', topic: 'burst-stop', offset: 0 });
      const storedOffsets = new Set((stored.records ?? []).map((r: any) => r.offset));
      expect(acked.filter((o) => !storedOffsets.has(o)), `stored ${storedOffsets.size} acked ${acked.length} received ${c.received.length}`).toEqual([]);
      c2.close();
      expect(await again.terminate()).toBe(0);
    } finally {
      daemon.process.kill('SIGKILL');
      dir.cleanup();
    }
  });

  it('SIGTERM answers pending long-polls, keeps acknowledged data, and exits 0', async () => {
    const dir = tempDir();
    const daemon = await startDaemon(dir.path);
    try {
      const c = await RawClient.connect(daemon.port);
      await c.request({ op: 'produce', topic: 'stop-t', value: bin('kept') });
      const pending = c.send({ op: 'fetch', topic: 'stop-t', offset: 1, maxWaitMs: 60_000 });
      await new Promise((r) => setTimeout(r, 100));
      const exit = daemon.terminate();
      const reply = await c.replyTo(pending);
      expect(reply).toMatchObject({ ok: true, records: [] });
      expect(await exit).toBe(0);
      const lines = daemon.lines.map((l) => JSON.parse(l));
      expect(lines.some((l) => l.msg === 'stopped')).toBe(true);
      const again = await startDaemon(dir.path);
      const c2 = await RawClient.connect(again.port);
      expect((await c2.request({ op: 'fetch', topic: 'stop-t', offset: 0 })).records.length).toBe(1);
      c2.close();
      expect(await again.terminate()).toBe(0);
    } finally {
      daemon.process.kill('SIGKILL');
      dir.cleanup();
    }
  });
});
