import { afterEach, describe, expect, it } from 'vitest';
import { startScriptedPeer, type ScriptedPeer } from '../../test/client/scripted-peer.js';
import { connect, type WalrusClient } from './index.js';
import { RECORD_OVERHEAD_BYTES } from './limits.js';

/**
 * The consumer's buffering and commit arithmetic against a scripted peer that plays a one-topic group:
 * records are handed out in order, honouring `maxBytes` (at least one record per reply).
 */

const VALUE_BYTES = 1_000;

interface GroupPeer {
  peer: ScriptedPeer;
  fetches: Array<{ maxBytes: number }>;
  commits: number[];
  /** Offsets to hand out again before new ones (simulated lease expiry). */
  redeliver: number[];
}

const peers: ScriptedPeer[] = [];
const clients: WalrusClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close({ timeoutMs: 100 })));
  await Promise.all(peers.splice(0).map((p) => p.close()));
});

async function groupPeer(recordCount: number): Promise<GroupPeer> {
  const state: GroupPeer = { peer: undefined as never, fetches: [], commits: [], redeliver: [] };
  let next = 0;
  const record = (offset: number) => ({ offset, timestamp: 1_700_000_000_000 + offset, value: Buffer.alloc(VALUE_BYTES, offset % 256) });
  state.peer = await startScriptedPeer((request, reply) => {
    if (request.op === 'commit') {
      state.commits.push(request.offset as number);
      reply({ id: request.id, ok: true, committed: request.offset });
      return;
    }
    if (request.op !== 'fetch') return;
    const maxBytes = request.maxBytes as number;
    state.fetches.push({ maxBytes });
    const records: Array<ReturnType<typeof record>> = [];
    let bytes = 0;
    while (state.redeliver.length > 0) records.push(record(state.redeliver.shift()!));
    while (next < recordCount && (records.length === 0 || bytes + VALUE_BYTES <= maxBytes)) {
      records.push(record(next++));
      bytes += VALUE_BYTES;
    }
    // An empty long-poll answers a little later, as the broker's would at its deadline.
    setTimeout(() => reply({ id: request.id, ok: true, records, highWatermark: next }), records.length === 0 ? 20 : 0);
  });
  peers.push(state.peer);
  return state;
}

async function client(port: number): Promise<WalrusClient> {
  const c = await connect({ port, reconnect: { initialDelayMs: 5, maxDelayMs: 20 } });
  clients.push(c);
  return c;
}

const settle = (ms = 30): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('Consumer', () => {
  it('prefetches no more than maxBufferedBytes (plus one record) and stops fetching while full', async () => {
    const group = await groupPeer(1_000);
    const c = await client(group.peer.port);
    const maxBufferedBytes = 10 * (VALUE_BYTES + RECORD_OVERHEAD_BYTES);
    const consumer = c.consumer({ topic: 't', group: 'g', maxBufferedBytes });
    const iterator = consumer.messages();
    await iterator.next(); // the reader now holds one message and asks for nothing more
    await settle(50);
    const fetchesWhileFull = group.fetches.length;
    expect(consumer.bufferedBytes).toBeLessThanOrEqual(maxBufferedBytes + VALUE_BYTES + RECORD_OVERHEAD_BYTES);
    expect(consumer.bufferedBytes).toBeGreaterThan(0);
    for (const fetch of group.fetches) expect(fetch.maxBytes).toBeLessThanOrEqual(maxBufferedBytes);
    await settle(50);
    expect(group.fetches.length).toBe(fetchesWhileFull);
    await iterator.return!();
  });

  it('commits one past the message, cumulatively, without the caller doing offset arithmetic', async () => {
    const group = await groupPeer(5);
    const c = await client(group.peer.port);
    const consumer = c.consumer({ topic: 't', group: 'g' });
    const seen: number[] = [];
    for await (const message of consumer.messages()) {
      seen.push(message.offset);
      if (message.offset === 2) await message.commit(); // acknowledges 0, 1 and 2
      if (message.offset === 4) {
        await consumer.commit(message);
        break;
      }
    }
    expect(seen).toEqual([0, 1, 2, 3, 4]);
    expect(group.commits).toEqual([3, 5]);
  });

  it('delivers a record handed out again while still held only once', async () => {
    const group = await groupPeer(3);
    const c = await client(group.peer.port);
    const consumer = c.consumer({ topic: 't', group: 'g', maxBufferedBytes: 1 });
    const seen: number[] = [];
    for await (const message of consumer.messages()) {
      seen.push(message.offset);
      if (message.offset === 0) group.redeliver.push(0); // its lease "expired" while we hold it
      if (message.offset === 2) {
        await message.commit();
        break;
      }
    }
    expect(seen).toEqual([0, 1, 2]);
    expect(group.commits.at(-1)).toBe(3);
  });

  it('after a reconnect drops what it buffered, ignores stale commits and carries on', async () => {
    const group = await groupPeer(100);
    const c = await client(group.peer.port);
    const reconnected = new Promise((resolve) => c.once('connected', resolve));
    const consumer = c.consumer({ topic: 't', group: 'g', maxBufferedBytes: 5 * VALUE_BYTES });
    const iterator = consumer.messages();
    const first = (await iterator.next()).value!;
    expect(first.offset).toBe(0);
    group.peer.sockets[0].destroy();
    await reconnected;
    await first.commit(); // its lease died with the old connection: nothing to send
    expect(group.commits).toEqual([]);
    const after = (await iterator.next()).value!;
    // The scripted peer does not redeliver, so the consumer continues with fresh records.
    expect(after.offset).toBeGreaterThan(0);
    await after.commit();
    expect(group.commits).toEqual([after.offset + 1]);
    await iterator.return!();
  });

  it('with reconnect disabled, a lost connection ends the loop with CONNECTION_LOST, not quietly', async () => {
    const group = await groupPeer(0);
    const c = await connect({ port: group.peer.port, reconnect: false });
    clients.push(c);
    const consumer = c.consumer({ topic: 't', group: 'g' });
    const loop = (async () => {
      for await (const _ of consumer.messages()) {
        // nothing to read
      }
    })();
    await settle();
    group.peer.sockets[0].destroy();
    await expect(loop).rejects.toMatchObject({ code: 'CONNECTION_LOST', retriable: true });
  });

  it('refuses a new consumer for a group whose last one closed holding leases, until the connection changes', async () => {
    const group = await groupPeer(10);
    const c = await client(group.peer.port);
    const first = c.consumer({ topic: 't', group: 'g' });
    const iterator = first.messages();
    await iterator.next(); // leased and buffered records stay unfinished
    await iterator.return!();
    await first.close();
    expect(() => c.consumer({ topic: 't', group: 'g' })).toThrow(expect.objectContaining({ code: 'CONSUMER_EXISTS' }));
    c.consumer({ topic: 't', group: 'other' }).close();

    const reconnected = new Promise((resolve) => c.once('connected', resolve));
    group.peer.sockets[0].destroy(); // the broker releases the old connection's leases
    await reconnected;
    const second = c.consumer({ topic: 't', group: 'g' });
    await second.close();

    // A consumer that finished everything it was given leaves nothing behind.
    const clean = await groupPeer(1);
    const c2 = await client(clean.peer.port);
    const done = c2.consumer({ topic: 't', group: 'g' });
    for await (const message of done.messages()) {
      await message.commit();
      break;
    }
    await done.close();
    await c2.consumer({ topic: 't', group: 'g' }).close();
  });

  it('batches() yields up to maxRecords and batch.commit() covers the batch', async () => {
    const group = await groupPeer(25);
    const c = await client(group.peer.port);
    const consumer = c.consumer({ topic: 't', group: 'g' });
    const sizes: number[] = [];
    for await (const batch of consumer.batches({ maxRecords: 10, maxWaitMs: 5 })) {
      sizes.push(batch.messages.length);
      await batch.commit();
      if (sizes.reduce((a, b) => a + b, 0) === 25) break;
    }
    expect(Math.max(...sizes)).toBeLessThanOrEqual(10);
    expect(group.commits.at(-1)).toBe(25);
  });

  it('refuses a second concurrent loop and options out of range', async () => {
    const group = await groupPeer(0);
    const c = await client(group.peer.port);
    const consumer = c.consumer({ topic: 't', group: 'g' });
    const first = consumer.messages();
    expect(() => consumer.messages()).toThrow(expect.objectContaining({ code: 'ITERATOR_ACTIVE' }));
    expect(() => consumer.batches({ maxRecords: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    await first.return!();
    const second = consumer.batches({ maxRecords: 2_000 });
    await second.return!();
  });

  it('keeps a second fetch in flight while records flow, and accepts replies in the order it sent them', async () => {
    // The peer numbers hand-outs in arrival order, as the broker does, and answers the second fetch
    // of each pair before the first: replies come back out of order.
    const fetches: Array<{ maxWaitMs: number; maxBytes: number; answered: boolean; recordsBlob: unknown }> = [];
    /** Commits whose seenHandOutId covers a hand-out not answered yet (the client cannot have seen it). */
    const unseenCovered: number[] = [];
    let next = 0;
    let handOutIdLast = 0;
    let held: (() => void) | undefined;
    const total = 300;
    const peer = await startScriptedPeer((request, reply) => {
      if (request.op === 'commit') {
        const seenHandOutId = request.seenHandOutId as number;
        if (fetches.some((f, i) => i + 1 <= seenHandOutId && !f.answered)) unseenCovered.push(seenHandOutId);
        reply({ id: request.id, ok: true, committed: request.offset });
        return;
      }
      if (request.op !== 'fetch') return;
      const fetch = { maxWaitMs: request.maxWaitMs as number, maxBytes: request.maxBytes as number, answered: false, recordsBlob: request.recordsBlob };
      fetches.push(fetch);
      const handOutId = ++handOutIdLast;
      const records: Array<{ offset: number; timestamp: number; value: Buffer }> = [];
      while (next < total && records.length < 50) records.push({ offset: next, timestamp: 1, value: Buffer.alloc(8, next++ % 256) });
      const send = (): void => {
        fetch.answered = true;
        reply({ id: request.id, ok: true, records, highWatermark: next, handOutId: records.length > 0 ? handOutId : undefined });
      };
      if (records.length === 0) setTimeout(send, 20);
      else if (held === undefined) {
        // Held until the next fetch arrives (or 30 ms pass, when none does).
        held = send;
        setTimeout(() => {
          if (held === send) {
            held = undefined;
            send();
          }
        }, 30);
      } else {
        send(); // the later fetch first
        const first = held;
        held = undefined;
        setTimeout(first, 20);
      }
    });
    peers.push(peer);
    const c = await client(peer.port);
    const consumer = c.consumer({ topic: 't', group: 'g' });
    const seen: number[] = [];
    let inFlightMax = 0;
    for await (const batch of consumer.batches({ maxRecords: 10, maxWaitMs: 0 })) {
      inFlightMax = Math.max(inFlightMax, fetches.filter((f) => !f.answered).length);
      seen.push(...batch.messages.map((m) => m.offset));
      await settle(2); // still handling earlier records when the later reply comes in
      await batch.commit();
      if (seen.length >= total) break;
    }
    expect(seen).toEqual(Array.from({ length: total }, (_, i) => i));
    // A later fetch answered first must not be covered by a commit before the earlier one is in.
    expect(unseenCovered).toEqual([]);
    expect(inFlightMax).toBe(2);
    // Only the oldest fetch long-polls; both together ask for no more than the buffer cap.
    expect(fetches.filter((f) => f.maxWaitMs > 0).length).toBeLessThan(fetches.length);
    for (const f of fetches) expect(f.maxBytes).toBeLessThanOrEqual(4 * 1024 * 1024 / 2);
    // It asks for recordsBlob; this peer, like a broker that predates it, answers with `records`.
    for (const f of fetches) expect(f.recordsBlob).toBe(true);
  });

  it('a nacked record handed back before the nack reply is delivered again, and no commit passes it unseen', async () => {
    const commits: number[] = [];
    const redeliver: number[] = [];
    let heldNack: (() => void) | undefined;
    let next = 0;
    const record = (offset: number) => ({ offset, timestamp: 1_700_000_000_000, value: Buffer.from([offset]) });
    const peer = await startScriptedPeer((request, reply) => {
      if (request.op === 'commit') {
        commits.push(request.offset as number);
        reply({ id: request.id, ok: true, committed: request.offset });
      } else if (request.op === 'nack') {
        // The broker hands the record straight back; this reply arrives after that fetch reply.
        redeliver.push(request.offset as number);
        heldNack = () => reply({ id: request.id, ok: true });
      } else if (request.op === 'fetch') {
        const records = redeliver.splice(0).map(record);
        if (records.length === 0 && next < 1) records.push(record(next++));
        const send = () => {
          reply({ id: request.id, ok: true, records, highWatermark: 1, handOutId: records.length > 0 ? 7 : undefined });
          if (records.length > 0 && heldNack !== undefined) setTimeout(heldNack, 5);
        };
        setTimeout(send, records.length === 0 ? 20 : 0);
      }
    });
    peers.push(peer);
    const c = await client(peer.port);
    const consumer = c.consumer({ topic: 't', group: 'g' });
    const seen: number[] = [];
    for await (const message of consumer.messages()) {
      seen.push(message.offset);
      if (seen.length === 1) {
        await message.nack();
        expect(commits).toEqual([]);
      } else {
        await message.commit();
        break;
      }
    }
    expect(seen).toEqual([0, 0]);
    expect(commits).toEqual([1]);
  });
});
