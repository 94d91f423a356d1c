/**
 * Targeted power-loss cases on the PowerLossDisk double, each pinning one recovery rule with a
 * hand-chosen set of surviving sectors (the fast-check suite in power-loss.test.ts finds such cases
 * at random; these keep them as fixed regressions).
 */
import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { Walrus } from '../../src/engine/walrus.js';
import { FsyncSchedule } from '../../src/engine/consistency.js';
import { PowerLossDisk, mulberry32 } from '../support/power-loss-io.js';
import { decodePayload, encodePayload } from '../support/payload.js';

const silent = pino({ level: 'silent' });
/** WALRUS_KNOWN_BUGS=1 runs the cases below that reproduce open engine bugs (they fail until fixed). */
const KNOWN_BUGS = process.env.WALRUS_KNOWN_BUGS === '1';
const GEOMETRY = { blockBytes: 16384, blocksPerSegment: 4 };
/** File position of slot `n` of a segment: 4 KiB segment header, then slots. */
const slotAt = (n: number): number => 4096 + n * GEOMETRY.blockBytes;
const dirs: string[] = [];

function tempDir(): string {
  const dir = fs.mkdtempSync(join(os.tmpdir(), 'walrus-gaps-'));
  dirs.push(dir);
  return dir;
}

afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

async function reopenAfterCrash(disk: PowerLossDisk, dir: string, keep: (path: string, position: number) => boolean | undefined): Promise<Walrus> {
  disk.crash(mulberry32(1), 'random', keep);
  // The abandoned instance's real LOCK file: the power cut would have ended its process.
  fs.rmSync(join(dir, 'LOCK'), { force: true });
  return Walrus.open({ dataDir: dir, io: disk.afterCrash(), fsync: FsyncSchedule.NoFsync, logger: silent, ...GEOMETRY });
}

describe('recovery after a power cut (targeted)', () => {
  it('cuts a batch whose last entry did not reach the disk, and keeps what precedes it', async () => {
    const dir = tempDir();
    const disk = new PowerLossDisk();
    const wal = await Walrus.open({ dataDir: dir, io: disk.io(), fsync: FsyncSchedule.NoFsync, logger: silent, ...GEOMETRY });
    await wal.appendForTopic('t', encodePayload({ stream: 0, seq: 1, index: 0, count: 1 }, 100));
    const batch = [0, 1, 2, 3].map((index) => encodePayload({ stream: 0, seq: 2, index, count: 4 }, 1500));
    // Written, not synced (NoFsync); then the power cut loses the sectors holding the batch's end.
    await wal.batchAppendForTopic('t', batch);
    const batchEnd = slotAt(0) + 512 + (32 + 100) + 4 * (32 + 1500);
    const reopened = await reopenAfterCrash(disk, dir, (path, position) => (path.endsWith('.seg') ? position < batchEnd - 600 : undefined));
    const entries = await reopened.readFrom('t', 0);
    expect(entries.map((e) => e.offset)).toEqual([0]);
    expect(decodePayload(entries[0].data)).toMatchObject({ seq: 1 });
    await reopened.close();
  });

  it('rejects nothing and returns nothing torn when a block header survives without its entries', async () => {
    const dir = tempDir();
    const disk = new PowerLossDisk();
    const wal = await Walrus.open({ dataDir: dir, io: disk.io(), fsync: FsyncSchedule.NoFsync, logger: silent, ...GEOMETRY });
    await wal.appendForTopic('t', encodePayload({ stream: 0, seq: 1, index: 0, count: 1 }, 3000));
    const reopened = await reopenAfterCrash(disk, dir, (path, position) => (path.endsWith('.seg') ? position < slotAt(0) + 512 : undefined));
    expect(reopened.hasTopic('t') ? await reopened.readFrom('t', 0) : []).toEqual([]);
    await reopened.close();
  });

  // ENGINE BUG (reported to the lead, see docs/reliability.md "Known gaps"): an entry lost in one crash
  // comes back after the next one, in place of a newer entry — possibly in another topic. When a crash
  // loses a block's header sector, recovery neither sees the block's sequence number nor advances the
  // segment's nextSlot past it (src/engine/recovery.ts, slot scan; nextBlockSeq comes from the
  // checkpoint and the headers found). The next block is then given the same slot AND the same seq,
  // so the same crc seed (src/engine/block-format.ts blockSeed): the old entries still on disk pass
  // as entries of the new block. The entry-format comment promises the opposite ("bytes left over
  // from an older block in the same place can never pass as an entry of the new one"). Fix: make
  // block identity unique across crashes (e.g. a random per-open nonce in the block header and the
  // seed, or reserve seq ranges durably in the checkpoint before use), and never reuse a slot past
  // the recovered nextSlot without zeroing it.
  it.skipIf(!KNOWN_BUGS)('never brings back an entry an earlier crash lost', async () => {
    const dir = tempDir();
    const disk = new PowerLossDisk();
    const open = (): Promise<Walrus> => Walrus.open({ dataDir: dir, io: disk.afterCrash(), fsync: FsyncSchedule.NoFsync, logger: silent, ...GEOMETRY });
    const crash = (keep: (position: number) => boolean): void => {
      disk.crash(mulberry32(1), 'random', (path, position) => (path.endsWith('.seg') ? keep(position) : undefined));
      fs.rmSync(join(dir, 'LOCK'), { force: true });
    };
    const headerSector = (position: number): boolean => position >= slotAt(0) && position < slotAt(0) + 512;
    let wal = await open();
    await wal.appendForTopic('t', encodePayload({ stream: 0, seq: 1, index: 0, count: 1 }, 100));
    crash((position) => !headerSector(position)); // the entry's sector survives, the block header's does not
    wal = await open();
    expect(wal.hasTopic('t') ? (await wal.topicStats('t')).nextOffset : 0).toBe(0);
    await wal.appendForTopic('t', encodePayload({ stream: 0, seq: 2, index: 0, count: 1 }, 100));
    crash((position) => headerSector(position)); // now the new header survives, the new entry does not
    wal = await open();
    const entries = wal.hasTopic('t') ? await wal.readFrom('t', 0) : [];
    // seq 2 may be lost (NoFsync); seq 1 was lost two crashes ago and must stay lost.
    expect(entries.map((e) => decodePayload(e.data))).toEqual([]);
    await wal.close();
  });

  // ENGINE BUG (reported to the lead, see docs/reliability.md "Known gaps"): acknowledged SyncEach
  // entries are lost after a crash — even a plain process crash (engine-kill.test.ts finds it with a
  // real kill -9). A checkpoint written while the spare segment is being created records
  // `segmentIdMax = nextSegmentId - 1` (src/engine/walrus.ts, snapshot()), which already counts the
  // spare's reserved id (src/engine/segment-manager.ts, createSegment(): `nextSegmentId++` before the
  // file exists), but not the spare itself (added to `segments` only once created). Blocks then go to
  // the spare and are acknowledged; after a crash, recovery (src/engine/recovery.ts: `!cs && checkpoint
  // && id <= checkpoint.segmentIdMax`) takes the spare for a reclaimed segment and unlinks it.
  // Skipped unless WALRUS_KNOWN_BUGS=1; unskip once fixed (snapshot records the highest id created or removed, not reserved; and recovery
  // refuses to unlink a segment holding block headers newer than the checkpoint's blockSeqMax).
  it.skipIf(!KNOWN_BUGS)('keeps an acknowledged SyncEach entry that went to a segment created during a checkpoint', async () => {
    const dir = tempDir();
    const disk = new PowerLossDisk();
    const wal = await Walrus.open({ dataDir: dir, io: disk.io(), fsync: FsyncSchedule.SyncEach, logger: silent, checkpointBytesInterval: 48 * 1024, ...GEOMETRY });
    // Found by power-loss.test.ts and shrunk by fast-check: a 48 KiB batch fills the first segment and
    // triggers a checkpoint while the spare segment is being created.
    const sizes = [20084, 1077, 4325, 32, 21890, 206, 146, 275];
    void wal.batchAppendForTopic('t0', sizes.map((size, index) => encodePayload({ stream: 0, seq: 1, index, count: sizes.length }, size))).catch(() => {});
    void wal.appendForTopic('t0', encodePayload({ stream: 0, seq: 2, index: 0, count: 1 }, 318)).catch(() => {});
    await new Promise((r) => setImmediate(r));
    const offset = await wal.appendForTopic('t2', encodePayload({ stream: 2, seq: 3, index: 0, count: 1 }, 337));
    expect(offset).toBe(0);
    await new Promise((r) => setImmediate(r));
    // Nothing is left unsynced: the power cut below keeps every byte and every directory entry.
    disk.crash(mulberry32(1), 'keep-all');
    fs.rmSync(join(dir, 'LOCK'), { force: true });
    const reopened = await Walrus.open({ dataDir: dir, io: disk.afterCrash(), fsync: FsyncSchedule.SyncEach, logger: silent, ...GEOMETRY });
    const entries = await reopened.readFrom('t2', 0);
    expect(entries.map((e) => decodePayload(e.data))).toEqual([{ stream: 2, seq: 3, index: 0, count: 1 }]);
    await reopened.close();
  });

  // ENGINE BUG (reported to the lead, see docs/reliability.md "Known gaps"): when a power cut loses a
  // topic's first unsynced block but keeps a later one, recovery (src/engine/recovery.ts, the
  // per-topic chain loop: `expected` starts as null, and a dropped empty block does not set `cut`)
  // accepts the later block as the topic's start. The topic comes back with firstOffset > 0 (or past
  // the checkpoint's firstOffset) and a silent hole: entries after a lost entry survive. Affects
  // NoFsync and milliseconds(n), not SyncEach. Skipped unless WALRUS_KNOWN_BUGS=1; unskip once recovery anchors each topic's chain at the
  // checkpoint's firstOffset (0 for a topic the checkpoint does not know) and drops what does not connect.
  it.skipIf(!KNOWN_BUGS)('does not keep entries written after an entry the power cut lost (the log stays a prefix)', async () => {
    const dir = tempDir();
    const disk = new PowerLossDisk();
    const wal = await Walrus.open({ dataDir: dir, io: disk.io(), fsync: FsyncSchedule.NoFsync, logger: silent, ...GEOMETRY });
    await wal.appendForTopic('t', encodePayload({ stream: 0, seq: 1, index: 0, count: 1 }, 200));
    // Too big for the rest of slot 0: goes to a new block in slots 1-2.
    const batch = [0, 1].map((index) => encodePayload({ stream: 0, seq: 2, index, count: 2 }, 9000));
    await wal.batchAppendForTopic('t', batch);
    // Lose slot 0 (the first block, header and entry), keep slots 1-2.
    const reopened = await reopenAfterCrash(disk, dir, (path, position) =>
      path.endsWith('.seg') && position >= slotAt(0) ? position >= slotAt(1) : undefined,
    );
    const stats = reopened.hasTopic('t') ? await reopened.topicStats('t') : { firstOffset: 0, nextOffset: 0 };
    expect(stats).toMatchObject({ firstOffset: 0, nextOffset: 0 });
    await reopened.close();
  });
  // ENGINE BUG (reported to the lead, see docs/reliability.md "Known gaps"): after a segment write
  // fails with ENOSPC part-way (sparse segments, NoFsync / milliseconds), the rollback
  // (src/engine/write-pipeline.ts, rollback()) seals the block at the last acknowledged entry and
  // hands the failed offsets out again — but entries that did reach the file stay there, valid. After
  // even a process crash, recovery's tail scan (block-reader.ts scanTail) takes them as real, and
  // drops the newer block that reused their offsets ("written after a torn tail"): a rejected entry
  // comes back and an acknowledged one is lost. Fix: zero (and sync) the attempted range before
  // reusing its offsets, or in recovery let a newer block that starts below its predecessor's end cut
  // the predecessor there (only a rollback starts a block below its predecessor's end).
  it.skipIf(!KNOWN_BUGS)('a write that failed with ENOSPC after a short write leaves nothing that outlives a process crash', async () => {
    const dir = tempDir();
    const disk = new PowerLossDisk();
    const open = (): Promise<Walrus> => Walrus.open({ dataDir: dir, io: disk.afterCrash(), fsync: FsyncSchedule.NoFsync, logger: silent, ...GEOMETRY });
    const wal = await open();
    expect(await wal.appendForTopic('t', encodePayload({ stream: 0, seq: 1, index: 0, count: 1 }, 100))).toBe(0);
    // The next segment write stores its first entry whole, then the disk is full (short write + ENOSPC).
    disk.writeFault = (path) => (path.endsWith('.seg') ? 32 + 100 : undefined);
    const failed = await Promise.allSettled([
      wal.appendForTopic('t', encodePayload({ stream: 0, seq: 2, index: 0, count: 1 }, 100)),
      wal.appendForTopic('t', encodePayload({ stream: 0, seq: 3, index: 0, count: 1 }, 100)),
    ]);
    expect(failed.map((r) => (r.status === 'rejected' ? (r.reason as { code?: string }).code : 'ok'))).toEqual(['STORAGE_FULL', 'STORAGE_FULL']);
    disk.writeFault = null;
    // Space is back: the next append is acknowledged at the offset the failed ones gave up.
    expect(await wal.appendForTopic('t', encodePayload({ stream: 0, seq: 4, index: 0, count: 1 }, 100))).toBe(1);
    // A process crash (every written byte survives), then recovery.
    disk.crash(mulberry32(1), 'keep-all');
    fs.rmSync(join(dir, 'LOCK'), { force: true });
    const reopened = await open();
    const entries = await reopened.readFrom('t', 0);
    expect(entries.map((e) => (decodePayload(e.data) as { seq: number }).seq)).toEqual([1, 4]);
    await reopened.close();
  });
  // ENGINE BUG (reported to the lead, see docs/reliability.md "Known gaps"): a checkpointing read whose
  // cursor write fails (here ENOSPC on cursors.log) rejects, yet the in-memory cursor has already moved
  // past the entries it never handed out (src/engine/walrus.ts, advance(): `cursor.position = position`
  // before `await this.persistRecord(...)`, no undo on failure). The next read skips them, so a
  // consumer loses them until a restart. Fix: move the cursor only after the record is durable (or
  // restore the old position when persisting fails).
  it.skipIf(!KNOWN_BUGS)('a checkpointing read that fails to persist its cursor does not consume the entries', async () => {
    const dir = tempDir();
    const disk = new PowerLossDisk();
    const wal = await Walrus.open({ dataDir: dir, io: disk.io(), fsync: FsyncSchedule.SyncEach, logger: silent, ...GEOMETRY });
    for (let seq = 1; seq <= 3; seq++) await wal.appendForTopic('t', encodePayload({ stream: 0, seq, index: 0, count: 1 }, 100));
    disk.writeFault = (path) => (path.endsWith('cursors.log') ? 0 : undefined);
    await expect(wal.batchReadForTopic('t', 1 << 20, true)).rejects.toMatchObject({ code: 'STORAGE_FULL' });
    disk.writeFault = null;
    const again = await wal.readNext('t', true);
    expect(again?.offset).toBe(0);
    await wal.close();
  });
  it('milliseconds(n): an entry acknowledged long before the power cut survives it (the background sync ran)', async () => {
    const dir = tempDir();
    const disk = new PowerLossDisk();
    const wal = await Walrus.open({ dataDir: dir, io: disk.io(), fsync: FsyncSchedule.milliseconds(5), logger: silent, ...GEOMETRY });
    expect(await wal.appendForTopic('t', encodePayload({ stream: 0, seq: 1, index: 0, count: 1 }, 100))).toBe(0);
    // 100× the interval: only a sync that never runs could leave the entry unsynced by now.
    await new Promise((r) => setTimeout(r, 500));
    disk.crash(mulberry32(1), 'lose-all');
    fs.rmSync(join(dir, 'LOCK'), { force: true });
    const reopened = await Walrus.open({ dataDir: dir, io: disk.afterCrash(), fsync: FsyncSchedule.milliseconds(5), logger: silent, ...GEOMETRY });
    expect((await reopened.readFrom('t', 0)).map((e) => decodePayload(e.data))).toEqual([{ stream: 0, seq: 1, index: 0, count: 1 }]);
    await reopened.close();
  });
  it('a failed fdatasync fails the waiting appends with IO_ERROR, refuses further writes, and loses nothing acknowledged', async () => {
    const dir = tempDir();
    const disk = new PowerLossDisk();
    const open = (): Promise<Walrus> => Walrus.open({ dataDir: dir, io: disk.afterCrash(), fsync: FsyncSchedule.SyncEach, logger: silent, ...GEOMETRY });
    const wal = await open();
    expect(await wal.appendForTopic('t', encodePayload({ stream: 0, seq: 1, index: 0, count: 1 }, 100))).toBe(0);
    disk.syncFault = (path) => path.endsWith('.seg');
    await expect(wal.appendForTopic('t', encodePayload({ stream: 0, seq: 2, index: 0, count: 1 }, 100))).rejects.toMatchObject({ code: 'IO_ERROR' });
    disk.syncFault = null;
    // The page cache may have dropped what failed to sync: nothing more is acknowledged until a reopen.
    await expect(wal.appendForTopic('t', encodePayload({ stream: 0, seq: 3, index: 0, count: 1 }, 100))).rejects.toMatchObject({ code: 'IO_ERROR' });
    disk.crash(mulberry32(1), 'lose-all');
    fs.rmSync(join(dir, 'LOCK'), { force: true });
    const reopened = await open();
    const seqs = (await reopened.readFrom('t', 0)).map((e) => (decodePayload(e.data) as { seq: number }).seq);
    expect(seqs).toEqual([1]);
    expect(await reopened.appendForTopic('t', encodePayload({ stream: 0, seq: 4, index: 0, count: 1 }, 100))).toBe(1);
    await reopened.close();
  });
});
