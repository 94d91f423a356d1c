/**
 * Hostile clients against the real daemon: many concurrent connections sending fast-check-generated
 * garbage (random bytes, huge or truncated length prefixes, wrong types, path-like topic names,
 * stalls, abrupt closes) while one good client produces and consumes through a group. The good client
 * must be unaffected, no file may appear outside the data dir, and the broker's memory must stay
 * bounded. Then a client that fetches without ever reading its socket must not grow broker memory
 * past the per-connection reply cap.
 *
 * Memory bounds are generous multiples of the configured caps (not timing): an unbounded broker
 * would exceed them by an order of magnitude. Sizes: GARBAGE_CONNECTIONS (60; 400 under WALRUS_SOAK=1).
 */
import fs from 'node:fs';
import os from 'node:os';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder } from '../../src/protocol/index.js';
import { BrokerDaemon } from '../support/broker-daemon.js';
import { decodePayload, encodePayload } from '../support/payload.js';
import { RawPeer } from '../support/raw-peer.js';

const SOAK = process.env.WALRUS_SOAK === '1';
const GARBAGE_CONNECTIONS = SOAK ? 400 : 60;
const FRAME_BYTES_MAX = 1024 * 1024;
const MiB = 1024 * 1024;

const work = fs.mkdtempSync(join(os.tmpdir(), 'walrus-hostile-'));
const dataDir = join(work, 'data');
let daemon: BrokerDaemon;

beforeAll(async () => {
  daemon = new BrokerDaemon(dataDir, ['--fsync', 'sync-each', '--max-frame-bytes', String(FRAME_BYTES_MAX)]);
  await daemon.start();
});

afterAll(async () => {
  await daemon?.kill9();
  fs.rmSync(work, { recursive: true, force: true });
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function rssBytes(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

function frameWithLength(length: number, body: Buffer = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(length >>> 0);
  return Buffer.concat([header, body]);
}

const hostileName = fc.constantFrom('../escape', '..', '.', '/etc/passwd', 'a/../../b', 'nul\u0000byte', 'ünï', '', 'x'.repeat(300), '__default', '..\\..\\win');
const hello = encodeFrame({ id: 1, op: 'hello', version: 1, clientId: 'garbage' });

/** One garbage connection's script: what it writes, and how it ends. */
const scriptArb = fc.record({
  greet: fc.boolean(),
  parts: fc.array(
    fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 512 }).map((b) => Buffer.from(b)),
      fc.integer({ min: FRAME_BYTES_MAX + 1, max: 2 ** 32 - 1 }).map((n) => frameWithLength(n)),
      fc.integer({ min: 16, max: FRAME_BYTES_MAX }).map((n) => frameWithLength(n, Buffer.alloc(Math.min(n - 1, 4096), 0x91))),
      fc.record({ op: fc.constantFrom('produce', 'produceBatch', 'fetch', 'commit', 'createTopic', 'deleteTopic', 'seek', 'nope'), topic: hostileName, group: hostileName, id: fc.integer({ min: 2, max: 1e6 }) })
        .map((r) => encodeFrame({ ...r, value: Buffer.from('x'), offset: 0, records: [{ value: 'not-bin' }], to: 'earliest' })),
      fc.record({ id: fc.oneof(fc.constant(-1), fc.string(), fc.constant(2 ** 60)), op: fc.oneof(fc.integer(), fc.constant(null), fc.string()) }).map((r) => encodeFrame(r)),
      fc.constant(encodeFrame({ id: 3, op: 'fetch', topic: 'good', offset: 0, maxBytes: 2 ** 40, maxWaitMs: 10 })),
    ),
    { maxLength: 8 },
  ),
  end: fc.constantFrom('destroy', 'end', 'linger'),
});

async function runGarbage(port: number, script: { greet: boolean; parts: Buffer[]; end: string }): Promise<void> {
  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  }).catch(() => null);
  if (!socket) return;
  socket.on('error', () => {});
  socket.on('data', () => {});
  if (script.greet) socket.write(hello);
  for (const p of script.parts) {
    if (socket.destroyed) break;
    socket.write(p);
    await sleep(1);
  }
  if (script.end === 'destroy') socket.destroy();
  else if (script.end === 'end') socket.end();
  else {
    await sleep(200);
    socket.destroy();
  }
}

function listTree(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    out.push(path);
    if (entry.isDirectory()) out.push(...listTree(path));
  }
  return out;
}

describe('hostile clients against the daemon', () => {
  it(`${GARBAGE_CONNECTIONS} garbage connections do not disturb a good producer and consumer`, async () => {
    const pid = daemon.child!.pid!;
    const rssBefore = rssBytes(pid);
    const good = await RawPeer.connect(daemon.port, 'good');
    expect((await good.request({ op: 'createTopic', topic: 'good' })).ok).toBe(true);

    const scripts = fc.sample(scriptArb, { numRuns: GARBAGE_CONNECTIONS, seed: Number(process.env.WALRUS_FUZZ_SEED ?? 7) });
    const WAVE = 20;
    let rssPeak = rssBefore;
    const garbage = (async () => {
      for (let i = 0; i < scripts.length; i += WAVE) {
        await Promise.all(scripts.slice(i, i + WAVE).map((s) => runGarbage(daemon.port, s)));
        rssPeak = Math.max(rssPeak, rssBytes(pid));
      }
    })();

    // Meanwhile the good client produces and consumes; every reply must be a success.
    const RECORDS = 300;
    const offsets: number[] = [];
    for (let seq = 1; seq <= RECORDS; seq++) {
      const reply = await good.request({ op: 'produce', topic: 'good', value: encodePayload({ stream: 9, seq, index: 0, count: 1 }, 200 + seq) });
      expect(reply.ok, JSON.stringify(reply.error)).toBe(true);
      offsets.push(reply.offset as number);
    }
    const seen: number[] = [];
    while (seen.length < RECORDS) {
      const reply = await good.request({ op: 'fetch', topic: 'good', group: 'g', maxRecords: 100, maxWaitMs: 1000 });
      expect(reply.ok, JSON.stringify(reply.error)).toBe(true);
      const records = reply.records as { offset: number; value: Uint8Array }[];
      for (const r of records) {
        const id = decodePayload(r.value);
        expect(typeof id, `record ${r.offset}`).toBe('object');
        seen.push((id as { seq: number }).seq);
      }
      if (records.length > 0) {
        const commit = await good.request({ op: 'commit', topic: 'good', group: 'g', offset: records[records.length - 1].offset + 1 });
        expect(commit.ok, JSON.stringify(commit.error)).toBe(true);
      }
    }
    await garbage;
    expect(seen).toEqual(Array.from({ length: RECORDS }, (_, i) => i + 1));
    expect(offsets).toEqual(Array.from({ length: RECORDS }, (_, i) => i));

    // Still alive and answering after the barrage.
    expect(daemon.child?.exitCode).toBeNull();
    const topics = await good.request({ op: 'listTopics' });
    expect(topics.ok).toBe(true);
    for (const t of topics.topics as string[]) expect(t).toMatch(/^[A-Za-z0-9._-]{1,249}$/);
    good.close();

    // Nothing outside the data dir; inside it, only the engine's own files.
    expect(fs.readdirSync(work)).toEqual(['data']);
    for (const path of listTree(dataDir)) expect(path.startsWith(dataDir + '/')).toBe(true);
    for (const name of fs.readdirSync(dataDir)) expect(name).toMatch(/^(\d{20}\.seg|checkpoint\.json(\.tmp)?|cursors\.log(\.tmp)?|LOCK|[A-Za-z0-9._-]+)$/);

    // Each garbage connection may hold at most one frame (1 MiB) plus socket buffers; allow all of a wave at once, twice over.
    const growth = rssPeak - rssBefore;
    console.log(`hostile figures: connections ${GARBAGE_CONNECTIONS}, rss before ${(rssBefore / MiB).toFixed(1)} MiB, peak ${(rssPeak / MiB).toFixed(1)} MiB`);
    expect(growth).toBeLessThan(2 * WAVE * FRAME_BYTES_MAX + 64 * MiB);
  }, 120_000);

  it('a client that fetches without reading its socket cannot grow broker memory past the per-connection cap', async () => {
    const pid = daemon.child!.pid!;
    const producer = await RawPeer.connect(daemon.port, 'filler');
    // 8 MiB of data to fetch over and over.
    const chunk = Buffer.alloc(256 * 1024, 0x42);
    for (let i = 0; i < 32; i++) expect((await producer.request({ op: 'produce', topic: 'big', value: chunk })).ok).toBe(true);
    const rssBefore = rssBytes(pid);

    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port: daemon.port }, () => resolve(s));
      s.once('error', reject);
    });
    socket.on('error', () => {});
    socket.pause(); // never read a byte of the replies
    socket.write(hello);
    // 400 fetches of up to 1 MiB each: ~400 MiB of replies if the broker queued them all.
    const FETCHES = 400;
    for (let i = 0; i < FETCHES; i++) socket.write(encodeFrame({ id: 100 + i, op: 'fetch', topic: 'big', offset: (i * 3) % 32, maxBytes: FRAME_BYTES_MAX - 64 * 1024 }));
    let rssPeak = rssBefore;
    for (let i = 0; i < 20; i++) {
      await sleep(100);
      rssPeak = Math.max(rssPeak, rssBytes(pid));
    }
    // Others are still served while that connection is stuck.
    const reply = await producer.request({ op: 'fetch', topic: 'big', offset: 0, maxRecords: 1 });
    expect(reply.ok).toBe(true);
    producer.close();
    // Reading again, the stuck client gets every one of its replies: the broker paused, it did not drop.
    let answered = 0;
    const decoder = new FrameDecoder({
      maxFrameBytes: 2 * FRAME_BYTES_MAX,
      onMessage: (m) => {
        if (typeof m.id === 'number' && m.id >= 100 && m.ok === true) answered++;
      },
      onError: (e) => {
        throw e;
      },
    });
    const allAnswered = new Promise<void>((resolve) =>
      socket.on('data', (chunk: Buffer) => {
        decoder.push(chunk);
        if (answered === FETCHES) resolve();
      }),
    );
    socket.resume();
    await allAnswered;
    socket.destroy();
    const growth = rssPeak - rssBefore;
    console.log(`slow-reader figures: ${FETCHES} fetches queued, broker rss before ${(rssBefore / MiB).toFixed(1)} MiB, peak ${(rssPeak / MiB).toFixed(1)} MiB`);
    // Cap: 8 MiB queued replies + one frame + socket buffers; 64 MiB leaves room for the heap's own slack.
    expect(growth).toBeLessThan(64 * MiB);
  }, 60_000);
});
