import { afterEach, describe, expect, it } from 'vitest';
import { startScriptedPeer, type ScriptedPeer } from '../../test/client/scripted-peer.js';
import { MsgpackWriter, readProduceBlob, writeProduceBlob, type ProduceRecord } from '../protocol/index.js';
import { connect, type WalrusClient } from './index.js';
import { BATCH_RECORDS_MAX, RECORD_OVERHEAD_BYTES } from './limits.js';

/** Batching, backpressure and failure of the producer against a scripted peer that logs frames. */

interface LogPeer {
  peer: ScriptedPeer;
  batches: Array<{ topic: string; count: number }>;
  /** Each batch's form on the wire and its records as the broker would store them (record bodies). */
  frames: Array<{ form: 'records' | 'recordsBlob'; bodies: Buffer[] }>;
  /** When set, replies are held until `release()`. */
  hold: boolean;
  release(): void;
}

const peers: ScriptedPeer[] = [];
const clients: WalrusClient[] = [];

/** Record bodies (stored layout) of `records`, through the blob codec (src/broker/record-codec.test.ts pins it to the broker's). */
function bodiesOf(records: ProduceRecord[]): Buffer[] {
  const w = new MsgpackWriter(64);
  writeProduceBlob(w, records);
  return readProduceBlob(w.buffer.subarray(5, w.position), 1).bodies.map((b) => Buffer.from(b));
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close({ timeoutMs: 100 })));
  await Promise.all(peers.splice(0).map((p) => p.close()));
});

async function logPeer(helloFields?: object, port?: number): Promise<LogPeer> {
  const offsets = new Map<string, number>();
  const held: Array<() => void> = [];
  const state: LogPeer = {
    peer: undefined as never,
    batches: [],
    frames: [],
    hold: false,
    release: () => {
      state.hold = false;
      for (const reply of held.splice(0)) reply();
    },
  };
  state.peer = await startScriptedPeer((request, reply) => {
    if (request.op !== 'produceBatch') return;
    const topic = request.topic as string;
    const bodies = request.recordsBlob !== undefined ? readProduceBlob(request.recordsBlob as Uint8Array, 1).bodies : bodiesOf(request.records as ProduceRecord[]);
    const count = bodies.length;
    state.batches.push({ topic, count });
    state.frames.push({ form: request.recordsBlob !== undefined ? 'recordsBlob' : 'records', bodies });
    const baseOffset = offsets.get(topic) ?? 0;
    offsets.set(topic, baseOffset + count);
    const send = (): void => reply({ id: request.id, ok: true, baseOffset, count, timestamp: Date.now() });
    if (state.hold) held.push(send);
    else send();
  }, { helloFields, port });
  peers.push(state.peer);
  return state;
}

async function client(port: number, extra: object = {}): Promise<WalrusClient> {
  const c = await connect({ port, ...extra });
  clients.push(c);
  return c;
}

describe('Producer', () => {
  it('gathers concurrent sends into one batch per topic and maps offsets back in call order', async () => {
    const log = await logPeer();
    const producer = (await client(log.peer.port)).producer({ lingerMs: 20 });
    const a = Array.from({ length: 50 }, (_, i) => producer.send('a', Buffer.from([i])));
    const b = Array.from({ length: 30 }, (_, i) => producer.send('b', Buffer.from([i])));
    expect((await Promise.all(a)).map((r) => r.offset)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect((await Promise.all(b)).map((r) => r.offset)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(log.batches).toEqual([
      { topic: 'a', count: 50 },
      { topic: 'b', count: 30 },
    ]);
  });

  it('ships a batch at exactly 2,000 records or batchBytesMax without waiting for linger', async () => {
    const log = await logPeer();
    const recordBytes = RECORD_OVERHEAD_BYTES + 10;
    const producer = (await client(log.peer.port)).producer({ lingerMs: 1_000, batchBytesMax: 5 * recordBytes });
    await Promise.all(Array.from({ length: 10 }, () => producer.send('bytes', Buffer.alloc(10))));
    expect(log.batches.map((b) => b.count)).toEqual([5, 5]);

    const many = (await client(log.peer.port)).producer({ lingerMs: 1_000 });
    const sends = Array.from({ length: BATCH_RECORDS_MAX + 1 }, () => many.send('count', Buffer.alloc(1)));
    await Promise.all(sends.slice(0, BATCH_RECORDS_MAX)); // shipped at the cap, not after a second of linger
    await many.flush();
    await Promise.all(sends);
    expect(log.batches.filter((b) => b.topic === 'count').map((b) => b.count)).toEqual([BATCH_RECORDS_MAX, 1]);
  });

  it('waits for room when inFlightBytesMax is reached, and resumes as replies free it', async () => {
    const log = await logPeer();
    const recordBytes = RECORD_OVERHEAD_BYTES + 100;
    const producer = (await client(log.peer.port)).producer({ lingerMs: 0, batchBytesMax: recordBytes, inFlightBytesMax: 2 * recordBytes });
    log.hold = true;
    const first = producer.send('bp', Buffer.alloc(100));
    const second = producer.send('bp', Buffer.alloc(100));
    let thirdDone = false;
    const third = producer.send('bp', Buffer.alloc(100)).then((r) => ((thirdDone = true), r));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(thirdDone).toBe(false);
    expect(producer.inFlightBytes).toBe(2 * recordBytes);
    log.release();
    expect((await Promise.all([first, second, third])).map((r) => r.offset)).toEqual([0, 1, 2]);
    expect(producer.inFlightBytes).toBe(0);
  });

  it('aborts a send waiting for room with ABORTED', async () => {
    const log = await logPeer();
    const recordBytes = RECORD_OVERHEAD_BYTES + 100;
    const producer = (await client(log.peer.port)).producer({ lingerMs: 0, batchBytesMax: recordBytes, inFlightBytesMax: recordBytes });
    log.hold = true;
    const first = producer.send('ab', Buffer.alloc(100));
    const controller = new AbortController();
    const waiting = producer.send('ab', Buffer.alloc(100), { signal: controller.signal });
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'ABORTED' });
    log.release();
    await first;
  });

  it('sendBatch ships lingering sends first, so call order holds', async () => {
    const log = await logPeer();
    const producer = (await client(log.peer.port)).producer({ lingerMs: 1_000 });
    const lingering = producer.send('order', Buffer.from('first'));
    const batch = await producer.sendBatch('order', [Buffer.from('second'), Buffer.from('third')]);
    expect((await lingering).offset).toBe(0);
    expect(batch).toEqual({ baseOffset: 1, count: 2 });
  });

  it('fails sends with NOT_CONNECTED (retriable) while the broker is away', async () => {
    const log = await logPeer();
    const c = await client(log.peer.port, { reconnect: { initialDelayMs: 1_000, maxDelayMs: 1_000 } });
    const producer = c.producer({ lingerMs: 0 });
    const disconnected = new Promise((resolve) => c.once('disconnected', resolve));
    await log.peer.close();
    await disconnected;
    await expect(producer.send('down', Buffer.from('x'))).rejects.toMatchObject({ code: 'NOT_CONNECTED', retriable: true });
  });

  it('refuses a record larger than the broker frame and oversize or empty batches', async () => {
    const log = await logPeer(); // the scripted hello announces 1 MiB frames
    const producer = (await client(log.peer.port)).producer();
    await expect(producer.send('big', Buffer.alloc(1 << 20))).rejects.toMatchObject({ code: 'RECORD_TOO_LARGE', retriable: false });
    await expect(producer.sendBatch('big', [])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(producer.sendBatch('big', Array.from({ length: BATCH_RECORDS_MAX + 1 }, () => Buffer.alloc(1)))).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
  });

  it('close() flushes what lingers, then refuses new sends', async () => {
    const log = await logPeer();
    const c = await client(log.peer.port);
    const producer = c.producer({ lingerMs: 1_000 });
    const pending = producer.send('closing', Buffer.from('x'));
    await c.close();
    expect((await pending).offset).toBe(0);
    await expect(producer.send('closing', Buffer.from('y'))).rejects.toMatchObject({ code: 'CLIENT_CLOSED' });
  });

  it('sends batches as recordsBlob to a broker that announced produceRecordsBlob, as records to one that did not', async () => {
    const inputs = [
      { value: Buffer.from('a') },
      { value: Buffer.alloc(0), key: 'k1' },
      { value: Buffer.from('c'), key: Buffer.from([0, 255]), headers: { trace: 'x', raw: Buffer.from([1, 2]) } },
    ];
    const forms: Record<string, LogPeer> = { old: await logPeer(), new: await logPeer({ features: ['produceRecordsBlob', 'someFutureFeature'] }) };
    for (const log of Object.values(forms)) {
      const producer = (await client(log.peer.port)).producer({ lingerMs: 5 });
      expect(await Promise.all(inputs.map((input) => producer.send('t', input)))).toEqual([{ offset: 0 }, { offset: 1 }, { offset: 2 }]);
      expect(await producer.sendBatch('t', inputs)).toEqual({ baseOffset: 3, count: 3 });
    }
    expect(forms.old.frames.map((f) => f.form)).toEqual(['records', 'records']);
    expect(forms.new.frames.map((f) => f.form)).toEqual(['recordsBlob', 'recordsBlob']);
    // The same records either way, keys and headers included.
    expect(forms.new.frames).toEqual(forms.old.frames.map((f) => ({ ...f, form: 'recordsBlob' })));
    const stored = bodiesOf([{ value: Buffer.from('c'), key: Buffer.from([0, 255]), headers: { trace: 'x', raw: Buffer.from([1, 2]) } }])[0];
    expect(forms.new.frames[0].bodies[2]).toEqual(stored);
    expect(forms.new.frames[1].bodies[1]).toEqual(bodiesOf([{ value: Buffer.alloc(0), key: Buffer.from('k1') }])[0]);
  });

  it('chooses the form from the current hello: after reconnecting to a broker without the feature it sends records', async () => {
    const first = await logPeer({ features: ['produceRecordsBlob'] });
    const c = await client(first.peer.port, { reconnect: { initialDelayMs: 10, maxDelayMs: 50 } });
    const producer = c.producer({ lingerMs: 0 });
    expect(await producer.send('t', Buffer.from('before'))).toEqual({ offset: 0 });
    expect(first.frames.map((f) => f.form)).toEqual(['recordsBlob']);
    const port = first.peer.port;
    const reconnected = new Promise<void>((resolve) => c.on('connected', (e) => e.reconnected && resolve()));
    await first.peer.close();
    const second = await logPeer(undefined, port); // same port, a broker that predates the feature
    await reconnected;
    expect(await producer.send('t', Buffer.from('after'))).toEqual({ offset: 0 });
    expect(second.frames.map((f) => f.form)).toEqual(['records']);
    expect(second.frames[0].bodies).toEqual(bodiesOf([{ value: Buffer.from('after') }]));
  });
});
