/**
 * Consumer groups against the real daemon: members sharing a topic without loss or double hand-out,
 * redelivery after lease expiry and after a connection closes, and a commit surviving kill -9.
 */
import { describe, expect, it } from 'vitest';
import { bin, offsetsOf, RawClient, startDaemon, tempDir, text, useDaemon } from './harness.js';
import type { Daemon } from './harness.js';

async function produceN(client: RawClient, topic: string, n: number): Promise<void> {
  const records = Array.from({ length: n }, (_, i) => ({ value: bin(`r${i}`) }));
  const reply = await client.request({ op: 'produceBatch', topic, records });
  expect(reply.ok).toBe(true);
}


describe('consumer groups (default 30 s leases)', () => {
  const shared = useDaemon();

  it('two members share a topic: every record handed out once, none lost', async () => {
    const producer = await RawClient.connect(shared.daemon.port);
    await produceN(producer, 'shared', 300);
    const members = [await RawClient.connect(shared.daemon.port), await RawClient.connect(shared.daemon.port)];
    const got: number[][] = [[], []];
    const work = async (i: number): Promise<void> => {
      const m = members[i];
      for (;;) {
        const reply = await m.request({ op: 'fetch', topic: 'shared', group: 'workers', maxRecords: 7 });
        expect(reply.ok).toBe(true);
        const offsets = offsetsOf(reply);
        if (offsets.length === 0) return;
        got[i].push(...offsets);
        const committed = await m.request({ op: 'commit', topic: 'shared', group: 'workers', offset: Math.max(...offsets) + 1 });
        expect(committed.ok).toBe(true);
      }
    };
    await Promise.all([work(0), work(1)]);
    const all = [...got[0], ...got[1]].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 300 }, (_, i) => i)); // no loss, no duplicates
    expect(got[0].length).toBeGreaterThan(0);
    expect(got[1].length).toBeGreaterThan(0);
    const described = await producer.request({ op: 'describeTopic', topic: 'shared' });
    expect(described.groups).toEqual([{ group: 'workers', committed: 300, inFlight: 0, lag: 0 }]);
    for (const c of [producer, ...members]) c.close();
  });

  it('commit acknowledges only what this connection was given; the cursor is the lowest unacknowledged', async () => {
    const producer = await RawClient.connect(shared.daemon.port);
    await produceN(producer, 'partial', 6);
    const a = await RawClient.connect(shared.daemon.port);
    const b = await RawClient.connect(shared.daemon.port);
    expect(offsetsOf(await a.request({ op: 'fetch', topic: 'partial', group: 'g', maxRecords: 3 }))).toEqual([0, 1, 2]);
    expect(offsetsOf(await b.request({ op: 'fetch', topic: 'partial', group: 'g', maxRecords: 3 }))).toEqual([3, 4, 5]);
    expect((await b.request({ op: 'commit', topic: 'partial', group: 'g', offset: 6 })).committed).toBe(0);
    expect((await a.request({ op: 'commit', topic: 'partial', group: 'g', offset: 2 })).committed).toBe(2);
    expect((await a.request({ op: 'commit', topic: 'partial', group: 'g', offset: 3 })).committed).toBe(6);
    for (const c of [producer, a, b]) c.close();
  });

  it('records held by a connection that closes are handed to another member', async () => {
    const producer = await RawClient.connect(shared.daemon.port);
    await produceN(producer, 'closing', 5);
    const a = await RawClient.connect(shared.daemon.port);
    const b = await RawClient.connect(shared.daemon.port);
    expect(offsetsOf(await a.request({ op: 'fetch', topic: 'closing', group: 'g', maxRecords: 3 }))).toEqual([0, 1, 2]);
    expect(offsetsOf(await b.request({ op: 'fetch', topic: 'closing', group: 'g', maxRecords: 10 }))).toEqual([3, 4]);
    expect(offsetsOf(await b.request({ op: 'fetch', topic: 'closing', group: 'g' }))).toEqual([]); // 0..2 leased to a
    const waiting = b.send({ op: 'fetch', topic: 'closing', group: 'g', maxWaitMs: 20_000 });
    a.close();
    const redelivered = await b.replyTo(waiting);
    expect(offsetsOf(redelivered)).toEqual([0, 1, 2]);
    expect(text(redelivered.records[0].value)).toBe('r0');
    expect((await b.request({ op: 'commit', topic: 'closing', group: 'g', offset: 5 })).committed).toBe(5);
    for (const c of [producer, b]) c.close();
  });

  it('a byte budget hands out fewer records; the rest follow in order, none lost or repeated', async () => {
    const producer = await RawClient.connect(shared.daemon.port);
    const records = Array.from({ length: 6 }, (_, i) => ({ value: Buffer.alloc(40_000, i) }));
    expect((await producer.request({ op: 'produceBatch', topic: 'budget', records })).ok).toBe(true);
    const m = await RawClient.connect(shared.daemon.port);
    const seen: number[] = [];
    for (let round = 0; round < 10; round++) {
      const reply = await m.request({ op: 'fetch', topic: 'budget', group: 'g', maxBytes: 90_000 });
      const offsets = offsetsOf(reply);
      if (offsets.length === 0) break;
      expect(offsets.length).toBeLessThanOrEqual(2);
      for (const r of reply.records) expect(r.value[0]).toBe(r.offset);
      seen.push(...offsets);
    }
    expect(seen).toEqual([0, 1, 2, 3, 4, 5]);
    expect((await m.request({ op: 'commit', topic: 'budget', group: 'g', offset: 6 })).committed).toBe(6);
    for (const c of [producer, m]) c.close();
  });

  it('1 KiB records: a fetch hands out all it reserved within its budget, and one member gets them in offset order', async () => {
    // Before: a fetch reserved 2,000 records, read ~1 MiB of them and put the rest back, so the
    // next fetch handed out those "redeliveries" before fresh records and the order broke.
    const producer = await RawClient.connect(shared.daemon.port);
    for (let batch = 0; batch < 3; batch++) {
      const records = Array.from({ length: 1000 }, () => ({ value: Buffer.alloc(1024, batch) }));
      expect((await producer.request({ op: 'produceBatch', topic: 'kib', records })).ok).toBe(true);
    }
    const m = await RawClient.connect(shared.daemon.port);
    const first = offsetsOf(await m.request({ op: 'fetch', topic: 'kib', group: 'g', maxBytes: 4 * 1024 * 1024 }));
    expect(first).toEqual(Array.from({ length: 2000 }, (_, i) => i));
    const seen: number[] = [];
    for (let round = 0; round < 20; round++) {
      // ~290 records per fetch: the budget cuts every reservation of 1,000 short.
      const offsets = offsetsOf(await m.request({ op: 'fetch', topic: 'kib', group: 'g', maxRecords: 1000, maxBytes: 300_000 }));
      if (offsets.length === 0) break;
      expect(offsets.length).toBeLessThan(1000);
      seen.push(...offsets);
    }
    expect(seen).toEqual(Array.from({ length: 1000 }, (_, i) => 2000 + i));
    const metrics = await producer.request({ op: 'describeTopic', topic: 'kib' });
    expect(metrics.groups).toEqual([{ group: 'g', committed: 0, inFlight: 3000, lag: 3000 }]);
    for (const c of [producer, m]) c.close();
  });

  it('fetches in flight together from one member get consecutive records in the order they were sent', async () => {
    const producer = await RawClient.connect(shared.daemon.port);
    const records = Array.from({ length: 1500 }, () => ({ value: Buffer.alloc(1024, 1) }));
    expect((await producer.request({ op: 'produceBatch', topic: 'piped', records })).ok).toBe(true);
    const m = await RawClient.connect(shared.daemon.port);
    const seen: number[] = [];
    for (let round = 0; round < 10 && seen.length < 1500; round++) {
      // Each reserves up to 1,000 but its budget covers ~290: the next must start at the first's tail.
      const ids = [0, 1, 2].map(() => m.send({ op: 'fetch', topic: 'piped', group: 'g', maxRecords: 1000, maxBytes: 300_000 }));
      for (const id of ids) seen.push(...offsetsOf(await m.replyTo(id)));
    }
    expect(seen).toEqual(Array.from({ length: 1500 }, (_, i) => i));
    for (const c of [producer, m]) c.close();
  });

  it('hand-out ids follow the order fetches arrive on a connection, not the order they finish', async () => {
    const producer = await RawClient.connect(shared.daemon.port);
    await produceN(producer, 'ids-ready', 3);
    const m = await RawClient.connect(shared.daemon.port);
    // The first fetch waits for its topic's first record; the second is answered at once.
    const waiting = m.send({ op: 'fetch', topic: 'ids-later', group: 'g', maxWaitMs: 20_000 });
    const ready = await m.request({ op: 'fetch', topic: 'ids-ready', group: 'g' });
    expect(offsetsOf(ready)).toEqual([0, 1, 2]);
    await produceN(producer, 'ids-later', 1);
    const later = await m.replyTo(waiting);
    expect(offsetsOf(later)).toEqual([0]);
    expect(later.handOutId).toBeLessThan(ready.handOutId);
    for (const c of [producer, m]) c.close();
  });

  it('a commit survives kill -9 and restart', async () => {
    const d2 = tempDir();
    let first: Daemon | undefined = await startDaemon(d2.path);
    try {
      const c = await RawClient.connect(first.port);
      await produceN(c, 'durable', 10);
      expect(offsetsOf(await c.request({ op: 'fetch', topic: 'durable', group: 'g', maxRecords: 10 })).length).toBe(10);
      expect((await c.request({ op: 'commit', topic: 'durable', group: 'g', offset: 6 })).committed).toBe(6);
      await first.kill9();
      first = undefined;
      const second = await startDaemon(d2.path);
      try {
        const c2 = await RawClient.connect(second.port);
        const described = await c2.request({ op: 'describeTopic', topic: 'durable' });
        expect(described).toMatchObject({ nextOffset: 10, groups: [{ group: 'g', committed: 6, inFlight: 0, lag: 4 }] });
        expect(offsetsOf(await c2.request({ op: 'fetch', topic: 'durable', group: 'g' }))).toEqual([6, 7, 8, 9]);
        c2.close();
      } finally {
        await second.terminate();
      }
    } finally {
      if (first) await first.kill9();
      d2.cleanup();
    }
  });
});

describe('consumer groups with short leases (--ack-timeout-ms 300)', () => {
  const shared = useDaemon(['--ack-timeout-ms', '300']);

  it('an expired lease is handed out again; the late member cannot acknowledge it', async () => {
    const producer = await RawClient.connect(shared.daemon.port);
    await produceN(producer, 'expiring', 3);
    const slow = await RawClient.connect(shared.daemon.port);
    const fast = await RawClient.connect(shared.daemon.port);
    expect(offsetsOf(await slow.request({ op: 'fetch', topic: 'expiring', group: 'g' }))).toEqual([0, 1, 2]);
    // Long-poll: answered once the lease expires and the records come back.
    const redelivered = await fast.request({ op: 'fetch', topic: 'expiring', group: 'g', maxWaitMs: 20_000 });
    expect(offsetsOf(redelivered)).toEqual([0, 1, 2]);
    // The slow member's lease is gone: its commit acknowledges nothing.
    expect((await slow.request({ op: 'commit', topic: 'expiring', group: 'g', offset: 3 })).committed).toBe(0);
    expect((await fast.request({ op: 'commit', topic: 'expiring', group: 'g', offset: 3 })).committed).toBe(3);
    for (const c of [producer, slow, fast]) c.close();
  });
});

describe('per-fetch lease length (fetch.ackTimeoutMs)', () => {
  const shared = useDaemon(); // broker default: 30 s leases

  it('a short lease asked for by the fetch expires and the records go to another member', async () => {
    const producer = await RawClient.connect(shared.daemon.port);
    await produceN(producer, 'short-lease', 2);
    const a = await RawClient.connect(shared.daemon.port);
    const b = await RawClient.connect(shared.daemon.port);
    expect(offsetsOf(await a.request({ op: 'fetch', topic: 'short-lease', group: 'g', ackTimeoutMs: 200 }))).toEqual([0, 1]);
    const again = await b.request({ op: 'fetch', topic: 'short-lease', group: 'g', maxWaitMs: 20_000 });
    expect(offsetsOf(again)).toEqual([0, 1]);
    const described = await producer.request({ op: 'describeTopic', topic: 'short-lease' });
    expect(described.groups).toEqual([{ group: 'g', committed: 0, inFlight: 2, lag: 2 }]);
    for (const c of [producer, a, b]) c.close();
  });
});
