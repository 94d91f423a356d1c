/**
 * Every op against the real daemon over raw frames, pipelining with out-of-order replies, long-poll
 * wake-up, and integer encoding of offsets/timestamps on the wire.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { createUnpackr, encodeFrame, MsgpackWriter, readRecordsBlob, writeProduceBlob } from '../../src/protocol/index.js';
import type { ProduceRecord } from '../../src/protocol/index.js';
import { bin, lazyTempDir, RawClient, startDaemon, text } from './harness.js';
import type { Daemon } from './harness.js';

describe('broker ops over raw frames', () => {
  const dir = lazyTempDir();
  let daemon: Daemon;
  let client: RawClient;

  beforeAll(async () => {
    daemon = await startDaemon(dir.path);
    client = await RawClient.connect(daemon.port);
  });

  afterAll(async () => {
    client?.close();
    if (daemon) expect(await daemon.terminate()).toBe(0);
    dir.cleanup();
  });

  it('logs the bound port and the durability mode at start', () => {
    const listening = daemon.lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'listening');
    expect(listening).toMatchObject({ port: daemon.port, fsync: 'sync-each', consistency: 'strict' });
  });

  it('hello reports version, broker and limits', async () => {
    const fresh = await RawClient.connect(daemon.port, { hello: false });
    const reply = await fresh.request({ op: 'hello', version: 1, clientId: 'x' });
    expect(reply).toMatchObject({ ok: true, version: 1, maxFrameBytes: 16 * 1024 * 1024, batchRecordsMax: 2000 });
    expect(reply.features).toContain('produceRecordsBlob');
    expect(reply.broker).toMatch(/^walrus-broker/);
    fresh.close();
  });

  it('produce, produceBatch and fetch round-trip values, keys and headers', async () => {
    const p0 = await client.request({ op: 'produce', topic: 'orders', value: bin('a') });
    expect(p0).toMatchObject({ ok: true, offset: 0 });
    expect(Number.isInteger(p0.timestamp)).toBe(true);
    const p1 = await client.request({ op: 'produce', topic: 'orders', value: bin('b'), key: bin('k1'), headers: { trace: 'x', raw: bin('y') } });
    expect(p1.offset).toBe(1);
    const batch = await client.request({
      op: 'produceBatch',
      topic: 'orders',
      records: [{ value: bin('c') }, { value: bin('d'), key: bin('k2') }, { value: Buffer.alloc(0) }],
    });
    expect(batch).toMatchObject({ ok: true, baseOffset: 2, count: 3 });

    const fetched = await client.request({ op: 'fetch', topic: 'orders', offset: 0 });
    expect(fetched.ok).toBe(true);
    expect(fetched.highWatermark).toBe(5);
    expect(fetched.records.map((r: any) => r.offset)).toEqual([0, 1, 2, 3, 4]);
    expect(fetched.records.map((r: any) => text(r.value))).toEqual(['a', 'b', 'c', 'd', '']);
    expect(text(fetched.records[1].key)).toBe('k1');
    expect(fetched.records[1].headers.trace).toBe('x');
    expect(text(fetched.records[1].headers.raw)).toBe('y');
    expect(fetched.records[0].key).toBeUndefined();
    expect(text(fetched.records[3].key)).toBe('k2');
    for (const r of fetched.records) expect(r.timestamp).toBeGreaterThan(1_600_000_000_000);

    // The same records as one recordsBlob bin (what the SDK asks for), plain read and group fetch.
    const unpackr = createUnpackr();
    for (const request of [{ offset: 0 }, { group: 'blob-readers' }]) {
      const asBlob = await client.request({ op: 'fetch', topic: 'orders', ...request, recordsBlob: true });
      expect(asBlob.records).toBeUndefined();
      expect(Buffer.isBuffer(asBlob.recordsBlob)).toBe(true);
      const fromBlob: any[] = [];
      readRecordsBlob(asBlob.recordsBlob, (b) => unpackr.unpack(b), (offset, timestamp, value, key, headers) => {
        fromBlob.push({ offset, timestamp, value, ...(key === undefined ? {} : { key }), ...(headers === undefined ? {} : { headers }) });
      });
      expect(fromBlob).toEqual(fetched.records);
    }

    const from3 = await client.request({ op: 'fetch', topic: 'orders', offset: 3, maxRecords: 1 });
    expect(from3.records.map((r: any) => r.offset)).toEqual([3]);
    const budget = await client.request({ op: 'fetch', topic: 'orders', offset: 0, maxBytes: 1 });
    expect(budget.records.length).toBe(1);
  });

  it('produceBatch with recordsBlob stores exactly what records stores: values, keys, headers, empty values', async () => {
    const batch: ProduceRecord[] = [
      { value: bin('c') },
      { value: bin('d'), key: bin('k2') },
      { value: Buffer.alloc(0) },
      { value: bin('e'), key: bin('k3'), headers: { trace: 'x', raw: bin('y') } },
      { value: Buffer.alloc(3000, 7), headers: { only: 'h' } },
    ];
    const viaRecords = await client.request({ op: 'produceBatch', topic: 'blob-a', records: batch });
    const viaBlob = await client.request({ op: 'produceBatch', topic: 'blob-b', recordsBlob: produceBlob(batch) });
    expect(viaRecords).toMatchObject({ ok: true, baseOffset: 0, count: 5 });
    expect(viaBlob).toMatchObject({ ok: true, baseOffset: 0, count: 5 });
    const a = await client.request({ op: 'fetch', topic: 'blob-a', offset: 0 });
    const b = await client.request({ op: 'fetch', topic: 'blob-b', offset: 0 });
    const strip = (records: any[]) => records.map(({ timestamp: _, ...rest }) => rest);
    expect(strip(b.records)).toEqual(strip(a.records));
    expect(b.records.map((r: any) => text(r.value))).toEqual(['c', 'd', '', 'e', '\u0007'.repeat(3000)]);
    expect(text(b.records[3].key)).toBe('k3');
    expect(b.records[3].headers.trace).toBe('x');
    expect(text(b.records[3].headers.raw)).toBe('y');
    expect(b.records[4].key).toBeUndefined();
    // Both forms in one topic, interleaved and pipelined: offsets follow the order sent.
    const first = client.send({ op: 'produceBatch', topic: 'blob-b', recordsBlob: produceBlob([{ value: bin('f') }]) });
    const second = client.send({ op: 'produceBatch', topic: 'blob-b', records: [{ value: bin('g') }] });
    expect((await client.replyTo(first)).baseOffset).toBe(5);
    expect((await client.replyTo(second)).baseOffset).toBe(6);
  });

  it('produceBatch refuses a malformed recordsBlob, 0 or 2,001 records, or both forms, and appends nothing', async () => {
    const good = produceBlob([{ value: bin('ok') }]);
    expect((await client.request({ op: 'produceBatch', topic: 'blob-bad', recordsBlob: good })).ok).toBe(true);
    const length = (n: number) => Buffer.from([n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['truncated length', { recordsBlob: Buffer.concat([good, Buffer.from([0, 0])]) }, 'INVALID_REQUEST'],
      ['body past the end', { recordsBlob: Buffer.concat([good, length(9), Buffer.from([0, 1])]) }, 'INVALID_REQUEST'],
      ['trailing bytes after the META map', { recordsBlob: Buffer.concat([good, length(9), Buffer.from([1, 0, 0, 0, 3, 0x80, 0xc0, 0xc0, 0x61])]) }, 'INVALID_REQUEST'],
      ['bad tag', { recordsBlob: Buffer.concat([good, length(2), Buffer.from([7, 0x61])]) }, 'INVALID_REQUEST'],
      ['key that is a str', { recordsBlob: Buffer.concat([good, length(10), Buffer.from([1, 0, 0, 0, 4, 0x81, 0xa1, 0x6b, 0xa0, 0x61])]) }, 'INVALID_REQUEST'],
      ['0 records', { recordsBlob: Buffer.alloc(0) }, 'INVALID_REQUEST'],
      ['2,001 records', { recordsBlob: produceBlob(Array.from({ length: 2001 }, () => ({ value: bin('v') }))) }, 'BATCH_TOO_LARGE'],
      ['both forms', { recordsBlob: good, records: [{ value: bin('v') }] }, 'INVALID_REQUEST'],
      ['neither form', {}, 'INVALID_REQUEST'],
    ];
    for (const [what, fields, code] of cases) {
      const reply = await client.request({ op: 'produceBatch', topic: 'blob-bad', ...fields });
      expect(reply.ok, what).toBe(false);
      expect(reply.error.code, what).toBe(code);
    }
    // Nothing of any refused batch was appended (the good record of a bad blob included).
    const described = await client.request({ op: 'describeTopic', topic: 'blob-bad' });
    expect(described.nextOffset).toBe(1);
    expect((await client.request({ op: 'produceBatch', topic: 'blob-bad', recordsBlob: produceBlob(Array.from({ length: 2000 }, () => ({ value: bin('v') }))) })).count).toBe(2000);
  });

  it('writes offsets and timestamps as msgpack integers (uint64 0xcf for a ms timestamp)', async () => {
    const raw = connect({ host: '127.0.0.1', port: daemon.port });
    const chunks: Buffer[] = [];
    raw.on('data', (c) => chunks.push(c));
    raw.write(encodeFrame({ op: 'hello', id: 1, version: 1 }));
    raw.write(encodeFrame({ op: 'produce', id: 2, topic: 'ints', value: bin('v') }));
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no reply')), 10_000);
      const check = () => {
        const all = Buffer.concat(chunks);
        if (all.includes(Buffer.from('timestamp'))) {
          clearTimeout(t);
          resolve();
        } else setTimeout(check, 10);
      };
      check();
    });
    const all = Buffer.concat(chunks);
    const at = all.indexOf(Buffer.from('timestamp'));
    expect(all[at + 'timestamp'.length]).toBe(0xcf);
    expect(all.includes(0xcb)).toBe(false);
    raw.destroy();
  });

  it('fetch on a missing topic returns no records, not an error', async () => {
    const reply = await client.request({ op: 'fetch', topic: 'nothing-here', offset: 0 });
    expect(reply).toMatchObject({ ok: true, records: [], highWatermark: 0 });
    const grouped = await client.request({ op: 'fetch', topic: 'nothing-here', group: 'g' });
    expect(grouped).toMatchObject({ ok: true, records: [] });
  });

  it('admin ops: createTopic, listTopics, describeTopic, deleteTopic', async () => {
    expect(await client.request({ op: 'createTopic', topic: 'admin-t' })).toMatchObject({ ok: true, created: true });
    expect(await client.request({ op: 'createTopic', topic: 'admin-t' })).toMatchObject({ ok: true, created: false });
    const list = await client.request({ op: 'listTopics' });
    expect(list.topics).toContain('admin-t');
    await client.request({ op: 'produceBatch', topic: 'admin-t', records: [{ value: bin('1') }, { value: bin('2') }, { value: bin('3') }] });
    await client.request({ op: 'fetch', topic: 'admin-t', group: 'workers', maxRecords: 2 });
    await client.request({ op: 'commit', topic: 'admin-t', group: 'workers', offset: 1 });
    const described = await client.request({ op: 'describeTopic', topic: 'admin-t' });
    expect(described).toMatchObject({ ok: true, topic: 'admin-t', firstOffset: 0, nextOffset: 3 });
    expect(described.bytes).toBeGreaterThan(0);
    expect(described.groups).toEqual([{ group: 'workers', committed: 1, inFlight: 1, lag: 2 }]);

    expect(await client.request({ op: 'deleteTopic', topic: 'admin-t' })).toMatchObject({ ok: true });
    expect((await client.request({ op: 'listTopics' })).topics).not.toContain('admin-t');
    expect((await client.request({ op: 'describeTopic', topic: 'admin-t' })).error.code).toBe('NOT_FOUND');
    expect((await client.request({ op: 'deleteTopic', topic: 'admin-t' })).error.code).toBe('NOT_FOUND');
  });

  it('seek moves a group to earliest, latest or an offset', async () => {
    await client.request({ op: 'produceBatch', topic: 'seek-t', records: [0, 1, 2, 3, 4].map((i) => ({ value: bin(String(i)) })) });
    const first = await client.request({ op: 'fetch', topic: 'seek-t', group: 'g', maxRecords: 5 });
    expect(first.records.length).toBe(5);
    await client.request({ op: 'commit', topic: 'seek-t', group: 'g', offset: 5 });
    expect(await client.request({ op: 'seek', topic: 'seek-t', group: 'g', to: 'earliest' })).toMatchObject({ ok: true, offset: 0 });
    const again = await client.request({ op: 'fetch', topic: 'seek-t', group: 'g', maxRecords: 2 });
    expect(again.records.map((r: any) => r.offset)).toEqual([0, 1]);
    expect(await client.request({ op: 'seek', topic: 'seek-t', group: 'g', to: 3 })).toMatchObject({ offset: 3 });
    const at3 = await client.request({ op: 'fetch', topic: 'seek-t', group: 'g', maxRecords: 1 });
    expect(at3.records.map((r: any) => r.offset)).toEqual([3]);
    expect(await client.request({ op: 'seek', topic: 'seek-t', group: 'g', to: 'latest' })).toMatchObject({ offset: 5 });
    expect((await client.request({ op: 'fetch', topic: 'seek-t', group: 'g' })).records).toEqual([]);
    const described = await client.request({ op: 'describeTopic', topic: 'seek-t' });
    expect(described.groups).toEqual([{ group: 'g', committed: 5, inFlight: 0, lag: 0 }]);
    expect((await client.request({ op: 'seek', topic: 'no-such', group: 'g', to: 0 })).error.code).toBe('NOT_FOUND');
  });

  it('pipelines: a waiting fetch does not block a later produce, replies come out of order', async () => {
    const c = await RawClient.connect(daemon.port);
    const fetchId = c.send({ op: 'fetch', topic: 'pipe', offset: 0, maxWaitMs: 20_000 });
    const produceIds = [c.send({ op: 'produce', topic: 'pipe', value: bin('x') }), c.send({ op: 'produce', topic: 'pipe', value: bin('y') })];
    const produced = await Promise.all(produceIds.map((id) => c.replyTo(id)));
    expect(produced.map((r) => r.offset)).toEqual([0, 1]); // pipelined produces keep their order
    const fetched = await c.replyTo(fetchId);
    const order = c.received.map((r) => r.id);
    expect(order.indexOf(produceIds[0])).toBeLessThan(order.indexOf(fetchId));
    expect(fetched.records.length).toBeGreaterThanOrEqual(1);
    expect(text(fetched.records[0].value)).toBe('x');
    c.close();
  });

  it('hello and requests pipelined behind it in one write are all served', async () => {
    const c = await RawClient.connect(daemon.port, { hello: false });
    c.writeRaw(
      Buffer.concat([
        encodeFrame({ op: 'hello', id: 1, version: 1 }),
        encodeFrame({ op: 'produce', id: 2, topic: 'eager', value: bin('early') }),
        encodeFrame({ op: 'listTopics', id: 3 }),
      ]),
    );
    expect((await c.replyTo(1)).ok).toBe(true);
    expect(await c.replyTo(2)).toMatchObject({ ok: true, offset: 0 });
    expect((await c.replyTo(3)).topics).toContain('eager');
    c.close();
  });

  it('many pipelined requests written in one chunk all get answered', async () => {
    const c = await RawClient.connect(daemon.port);
    const frames: Buffer[] = [];
    const ids: number[] = [];
    for (let i = 0; i < 500; i++) {
      const id = c.id();
      ids.push(id);
      frames.push(encodeFrame({ op: 'produce', id, topic: 'burst', value: bin(`m${i}`) }));
    }
    c.writeRaw(Buffer.concat(frames));
    const replies = await Promise.all(ids.map((id) => c.replyTo(id)));
    expect(replies.every((r) => r.ok)).toBe(true);
    expect(replies.map((r) => r.offset)).toEqual(ids.map((_, i) => i));
    c.close();
  });

  it('long-poll wakes on a produce from another connection', async () => {
    const consumer = await RawClient.connect(daemon.port);
    const producer = await RawClient.connect(daemon.port);
    const fetchId = consumer.send({ op: 'fetch', topic: 'lp', group: 'lp-group', maxWaitMs: 30_000 });
    // Let the fetch reach the broker and start waiting; the reply must not have come yet.
    await new Promise((r) => setTimeout(r, 200));
    expect(consumer.received.find((r) => r.id === fetchId)).toBeUndefined();
    await producer.request({ op: 'produce', topic: 'lp', value: bin('wake') });
    const reply = await consumer.replyTo(fetchId);
    expect(reply.records.map((r: any) => text(r.value))).toEqual(['wake']);
    const plain = consumer.send({ op: 'fetch', topic: 'lp', offset: 1, maxWaitMs: 30_000 });
    await new Promise((r) => setTimeout(r, 100));
    await producer.request({ op: 'produce', topic: 'lp', value: bin('second') });
    expect((await consumer.replyTo(plain)).records.map((r: any) => r.offset)).toEqual([1]);
    consumer.close();
    producer.close();
  });

  it('long-poll answers empty at the deadline', async () => {
    const reply = await client.request({ op: 'fetch', topic: 'quiet', offset: 0, maxWaitMs: 150 });
    expect(reply).toMatchObject({ ok: true, records: [] });
  });
});

/** The `recordsBlob` bytes (bin payload, no header) of `records`. */
function produceBlob(records: readonly ProduceRecord[]): Buffer {
  const w = new MsgpackWriter(64);
  writeProduceBlob(w, records);
  return Buffer.from(w.buffer.subarray(5, w.position));
}
