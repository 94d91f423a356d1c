/**
 * Full disk, for real: the engine and the broker on a small tmpfs, a ballast file taking part of it.
 * Appends go on until STORAGE_FULL; everything acknowledged before must stay intact and readable
 * (reads keep working while the disk is full); after the ballast is deleted appends work again, and a
 * restart recovers it all. Skips with a clear message where mounting a tmpfs is not permitted.
 *
 * Under SyncEach segments are zero-filled at creation, so ENOSPC shows up there; under the other
 * schedules they are sparse and ENOSPC shows up inside a data write, which the engine rolls back.
 * Both paths are driven here.
 */
import fs from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { Walrus } from '../../src/engine/walrus.js';
import { FsyncSchedule } from '../../src/engine/consistency.js';
import { mountTmpfs, writeBallast, type Tmpfs } from '../support/tmpfs.js';
import { decodePayload, encodePayload } from '../support/payload.js';
import { BrokerDaemon } from '../support/broker-daemon.js';
import { RawPeer } from '../support/raw-peer.js';

const silent = pino({ level: 'silent' });
const mounts: Tmpfs[] = [];
const daemons: BrokerDaemon[] = [];

afterAll(async () => {
  for (const d of daemons) await d.kill9();
  for (const m of mounts) if ('path' in m) m.unmount();
});

function mount(sizeMiB: number): Tmpfs {
  const m = mountTmpfs(sizeMiB);
  mounts.push(m);
  if ('skip' in m) console.warn(`full-disk: SKIPPED: ${m.skip}`);
  return m;
}

const probe = mountTmpfs(1);
const canMount = 'path' in probe;
if ('path' in probe) probe.unmount();
else console.warn(`full-disk suite SKIPPED: ${probe.skip}`);

interface Acked {
  offset: number;
  seq: number;
  index: number;
}

/** Reads the whole topic; every entry must be whole, dense, and where its acknowledgement said. */
async function verifyTopic(wal: Walrus, topic: string, acked: Acked[]): Promise<number> {
  const entries = [];
  for (let at = 0; ; ) {
    const got = await wal.readFrom(topic, at, { maxEntries: 2000, maxBytes: 8 * 1024 * 1024 });
    if (got.length === 0) break;
    entries.push(...got);
    at = got[got.length - 1].offset + 1;
  }
  entries.forEach((e, i) => expect(e.offset).toBe(i));
  for (const e of entries) expect(typeof decodePayload(e.data), `entry ${e.offset}`).toBe('object');
  for (const a of acked) {
    const id = decodePayload(entries[a.offset]?.data ?? Buffer.alloc(0));
    expect(id, `acknowledged offset ${a.offset}`).toMatchObject({ seq: a.seq, index: a.index });
  }
  return entries.length;
}

describe.skipIf(!canMount)('full disk (tmpfs): engine', () => {
  for (const [name, fsync] of [
    ['SyncEach (zero-filled segments)', FsyncSchedule.SyncEach],
    ['NoFsync (sparse segments)', FsyncSchedule.NoFsync],
  ] as const) {
    it(`${name}: STORAGE_FULL, acknowledged data intact and readable, appends resume once space is freed`, async () => {
      const m = mount(8);
      if (!('path' in m)) return;
      const ballast = join(m.path, 'ballast');
      writeBallast(ballast, 2 * 1024 * 1024);
      const dataDir = join(m.path, 'wal');
      const options = { dataDir, fsync, logger: silent, blockBytes: 65536, blocksPerSegment: 4 };
      let wal = await Walrus.open(options);
      const acked: Acked[] = [];
      let seq = 0;
      let full = 0;
      for (let i = 0; i < 10_000 && full < 3; i++) {
        seq++;
        try {
          if (i % 10 === 9) {
            const payloads = [0, 1, 2, 3, 4].map((index) => encodePayload({ stream: 0, seq, index, count: 5 }, 1500 + index * 300));
            const { baseOffset } = await wal.batchAppendForTopic('t', payloads);
            payloads.forEach((_, index) => acked.push({ offset: baseOffset + index, seq, index }));
          } else {
            const offset = await wal.appendForTopic('t', encodePayload({ stream: 0, seq, index: 0, count: 1 }, 3000 + (i % 7) * 700));
            acked.push({ offset, seq, index: 0 });
          }
        } catch (error) {
          expect((error as { code?: string }).code, (error as Error).message).toBe('STORAGE_FULL');
          full++; // a few more tries: every one must fail cleanly too (or fit in what is left)
        }
      }
      expect(full, 'the disk never filled up').toBeGreaterThan(0);
      expect(acked.length).toBeGreaterThan(100);
      // Reads keep working on a full disk, and nothing acknowledged was damaged.
      await verifyTopic(wal, 't', acked);

      fs.rmSync(ballast);
      for (let k = 0; k < 20; k++) {
        seq++;
        const offset = await wal.appendForTopic('t', encodePayload({ stream: 0, seq, index: 0, count: 1 }, 4000));
        acked.push({ offset, seq, index: 0 });
      }
      const count = await verifyTopic(wal, 't', acked);
      await wal.close();
      wal = await Walrus.open(options);
      expect(await verifyTopic(wal, 't', acked)).toBe(count);
      await wal.close();
      console.log(`full-disk engine ${name}: acked ${acked.length} entries, ${full} STORAGE_FULL refusals, ${count} entries after recovery`);
    });
  }
});

describe.skipIf(!canMount)('full disk (tmpfs): broker', () => {
  it('the producer gets STORAGE_FULL, the broker keeps serving reads, and produce works again once space is freed', async () => {
    // The daemon uses the engine's default 64 MiB segments: room for one segment, not its spare.
    const m = mount(150);
    if (!('path' in m)) return;
    const ballast = join(m.path, 'ballast');
    writeBallast(ballast, 80 * 1024 * 1024);
    const daemon = new BrokerDaemon(join(m.path, 'data'), ['--fsync', 'sync-each']);
    daemons.push(daemon);
    await daemon.start();
    const peer = await RawPeer.connect(daemon.port, 'full-disk');
    const acked: Acked[] = [];
    let refused: Record<string, any> | null = null;
    for (let seq = 1; seq < 5000 && !refused; seq++) {
      const reply = await peer.request({ op: 'produce', topic: 'big', value: encodePayload({ stream: 0, seq, index: 0, count: 1 }, 256 * 1024) });
      if (reply.ok === true) acked.push({ offset: reply.offset as number, seq, index: 0 });
      else refused = reply;
    }
    expect(refused?.error?.code, JSON.stringify(refused?.error)).toBe('STORAGE_FULL');
    expect(acked.length).toBeGreaterThan(10);

    // Still up, still serving reads of everything acknowledged.
    const reader = await RawPeer.connect(daemon.port, 'full-disk-reader');
    const readAll = async (): Promise<number> => {
      let count = 0;
      for (let at = 0; ; ) {
        const reply = await reader.request({ op: 'fetch', topic: 'big', offset: at, maxRecords: 100, maxBytes: 8 * 1024 * 1024 });
        expect(reply.ok, JSON.stringify(reply.error)).toBe(true);
        const records = reply.records as { offset: number; value: Uint8Array }[];
        if (records.length === 0) return count;
        for (const r of records) {
          expect(r.offset).toBe(count++);
          expect(typeof decodePayload(r.value)).toBe('object');
        }
        at = records[records.length - 1].offset + 1;
      }
    };
    expect(await readAll()).toBeGreaterThanOrEqual(acked.length);

    fs.rmSync(ballast);
    const again = await peer.request({ op: 'produce', topic: 'big', value: encodePayload({ stream: 0, seq: 99_999, index: 0, count: 1 }, 1024) });
    expect(again.ok, JSON.stringify(again.error)).toBe(true);
    expect(await readAll()).toBe((again.offset as number) + 1);
    peer.close();
    reader.close();
    expect(await daemon.stop()).toBe(0);
    console.log(`full-disk broker: acked ${acked.length} records of 256 KiB before STORAGE_FULL`);
  });
});
