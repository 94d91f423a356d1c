/**
 * Segment recycling (segment-manager.ts "Recycling"): under SyncEach a reclaimed segment's file is
 * reused as a new segment instead of zero-filling a new file. The reused file still holds the
 * entries of its previous life; these tests check that a restart (clean or after a crash) finds
 * exactly the live entries, that the stale ones are really there to be ignored, and that a segment
 * that was ever mapped is deleted rather than rewritten.
 */
import fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Logger } from 'pino';
import { FsyncSchedule, type Walrus, type WalrusOptions } from '../../src/engine/index.js';
import { loadMmapAddon } from '../../src/engine/backends/mmap-file-mapper.js';
import { FsFileIO } from '../../src/engine/index.js';
import { SEGMENT_HEADER_BYTES } from '../../src/engine/limits.js';
import { RECYCLED_MAX, SegmentManager } from '../../src/engine/segment-manager.js';
import { decodeSegmentHeader, segmentFileName } from '../../src/engine/segment-format.js';
import { backendsHere, crash, payload, quiet, recordingLogger, removeTempDirs, segmentFiles, tempDir, trackedOpen } from './helpers.js';

const backends = await backendsHere();
const mmapWorks = await loadMmapAddon().then(
  () => true,
  () => false,
);

const open = trackedOpen();
afterAll(removeTempDirs);

const SIZE = 1000;

/**
 * Appends SIZE-byte entries to topic `t` in batches of 8 and consumes them with cursor `c` (durable
 * checkpointing reads), keeping the last `keep` unconsumed.
 */
async function produceAndConsume(wal: Walrus, total: number, keep: number): Promise<void> {
  let next = 0;
  let consumed = 0;
  while (next < total) {
    await wal.batchAppendForTopic('t', Array.from({ length: 8 }, (_, k) => payload(next + k, SIZE)));
    next += 8;
    while (consumed < next - keep) {
      // SIZE bytes: one entry per read, so the cursor stops exactly `keep` behind.
      const got = await wal.batchReadForTopic('t', SIZE, true, { cursor: 'c' });
      if (got.length === 0) break;
      consumed = got[got.length - 1].offset + 1;
    }
  }
  // Reclaim runs after checkpointing reads; let it finish.
  await new Promise((resolve) => setTimeout(resolve, 50));
}

/** A fresh SyncEach engine on `backend` with pread reads, logging at debug level into `lines`. */
async function openLogged(backend: 'fs' | 'uring', options: WalrusOptions = {}): Promise<{ dir: string; wal: Walrus; logger: Logger; lines: Array<Record<string, unknown>> }> {
  const dir = tempDir();
  const { logger, lines } = recordingLogger('debug');
  const wal = await open(dir, { backend, fsync: FsyncSchedule.SyncEach, reads: 'pread', logger, ...options });
  return { dir, wal, logger, lines };
}

/** Segment files reused so far, from the engine's debug log. */
function recycled(lines: Array<Record<string, unknown>>): number {
  return lines.filter((l) => l.msg === 'segment file recycled').length;
}

/** Reads topic `t` from its first offset and checks every entry is the one written at its offset. */
async function expectLive(wal: Walrus): Promise<{ first: number; next: number }> {
  const stats = await wal.topicStats('t');
  let offset = stats.firstOffset;
  while (offset < stats.nextOffset) {
    const got = await wal.readFrom('t', offset, { maxBytes: 64 * 1024 });
    expect(got.length).toBeGreaterThan(0);
    for (const e of got) {
      expect(e.offset).toBe(offset);
      expect(e.data.equals(payload(offset, SIZE))).toBe(true);
      offset++;
    }
  }
  expect(offset).toBe(stats.nextOffset);
  return { first: stats.firstOffset, next: stats.nextOffset };
}

/** True when some segment file holds the bytes of an entry below `firstOffset` (an entry of a previous life). */
function holdsStaleEntry(dir: string, firstOffset: number): boolean {
  for (const f of segmentFiles(dir)) {
    const bytes = fs.readFileSync(join(dir, f));
    for (let at = bytes.indexOf('entry-'); at >= 0; at = bytes.indexOf('entry-', at + 6)) {
      const end = bytes.indexOf('|', at);
      const n = Number(bytes.toString('latin1', at + 6, end));
      if (end > at && Number.isInteger(n) && n < firstOffset) return true;
    }
  }
  return false;
}

describe.each(backends)('segment recycling (%s backend)', (backend) => {
  it('reuses reclaimed segment files under SyncEach; a restart finds exactly the live entries, not the old ones left in the files', async () => {
    const { dir, wal, logger, lines } = await openLogged(backend);
    await produceAndConsume(wal, 480, 40);
    expect(recycled(lines)).toBeGreaterThan(0);
    const before = await expectLive(wal);
    expect(before.next).toBe(480);
    expect(before.first).toBeGreaterThan(0);
    await wal.close();
    // Consumed entries are still on disk (in reused files, and in segments not yet reclaimed):
    // what recovery must not pick up.
    expect(holdsStaleEntry(dir, before.first)).toBe(true);

    const reopened = await open(dir, { backend, fsync: FsyncSchedule.SyncEach, reads: 'pread', logger });
    const after = await expectLive(reopened);
    expect(after).toEqual(before);
    expect(await reopened.cursorPosition('t', 'c')).toBe(440);
    expect(lines.filter((l) => Number(l.level) >= 40).map((l) => l.msg)).toEqual([]);
    // Appending on goes on in the reused space.
    await reopened.batchAppendForTopic('t', [payload(480, SIZE)]);
    expect((await expectLive(reopened)).next).toBe(481);
  });

  it('deletes reclaimed segments as before with recycleSegments: false', async () => {
    const { wal, lines } = await openLogged(backend, { recycleSegments: false });
    await produceAndConsume(wal, 480, 40);
    const live = await expectLive(wal);
    expect(live.next).toBe(480);
    await wal.close();
    expect(recycled(lines)).toBe(0);
  });

  it('after a crash in the middle of produce, consume and recycling, every acknowledged entry is back and nothing else', async () => {
    const { dir, wal, lines } = await openLogged(backend);
    await produceAndConsume(wal, 400, 24);
    expect(recycled(lines)).toBeGreaterThan(0);
    // Reads and appends in flight when the process dies.
    const appends = wal.batchAppendForTopic('t', Array.from({ length: 8 }, (_, k) => payload(400 + k, SIZE))).catch(() => null);
    void wal.batchReadForTopic('t', 64 * 1024, true, { cursor: 'c' }).catch(() => null);
    const acked = (await appends) !== null;
    await crash(wal);
    const reopened = await open(dir, { backend, fsync: FsyncSchedule.SyncEach, reads: 'pread' });
    const live = await expectLive(reopened);
    expect(live.next).toBe(acked ? 408 : 400);
    expect(live.first).toBeLessThanOrEqual(await reopened.cursorPosition('t', 'c'));
  });
});

describe.each(backends)('end markers (%s backend)', (backend) => {
  it('every write ends with an empty entry header, so old bytes past a block\'s end never read as a torn tail', async () => {
    const dir = tempDir();
    const { logger, lines } = recordingLogger();
    const wal = await open(dir, { backend, fsync: FsyncSchedule.SyncEach, reads: 'pread', logger });
    await wal.batchAppendForTopic('t', [payload(0, SIZE), payload(1, SIZE)]);
    const block = wal.blocksOf('t')[0];
    const from = block.start + block.writtenEnd;
    // What a recycled file holds past the end: bytes of another life (here 0x5a, never a valid entry).
    const fd = fs.openSync(block.segment.path, 'r+');
    fs.writeSync(fd, Buffer.alloc(block.capacity - block.writtenEnd, 0x5a), 0, block.capacity - block.writtenEnd, from);
    fs.fdatasyncSync(fd);
    await wal.batchAppendForTopic('t', [payload(2, SIZE), payload(3, SIZE), payload(4, SIZE)]);
    const end = block.start + block.writtenEnd;
    await wal.close();
    const after = Buffer.alloc(32);
    fs.readSync(fd, after, 0, 32, end);
    // Past the marker the old bytes are still there (from the next page on: the uring backend
    // rewrites the rest of the marker's page with zeros).
    const nextPage = Buffer.alloc(1);
    fs.readSync(fd, nextPage, 0, 1, Math.ceil((end + 32) / 4096) * 4096);
    fs.closeSync(fd);
    expect(after.equals(Buffer.alloc(32))).toBe(true);
    expect(nextPage[0]).toBe(0x5a);
    const reopened = await open(dir, { backend, fsync: FsyncSchedule.SyncEach, reads: 'pread', logger });
    const got = await reopened.readFrom('t', 0);
    expect(got.map((e) => e.data.equals(payload(e.offset, SIZE)))).toEqual([true, true, true, true, true]);
    expect(lines.filter((l) => Number(l.level) >= 40).map((l) => l.msg)).toEqual([]);
  });
});

describe.runIf(mmapWorks)('segment recycling and mapped segments', () => {
  it('deletes a segment that was ever mapped instead of rewriting its file (entry views may outlive it)', async () => {
    const dir = tempDir();
    const { logger, lines } = recordingLogger('debug');
    const wal = await open(dir, { fsync: FsyncSchedule.SyncEach, reads: 'mmap', logger });
    // Written first, consumed after: the consumed segments are frozen when read, so all but the most
    // recently closed one (read with pread) are mapped.
    for (let i = 0; i < 320; i += 8) await wal.batchAppendForTopic('t', Array.from({ length: 8 }, (_, k) => payload(i + k, SIZE)));
    const held: Buffer[] = [];
    const mapped = new Set<number>();
    for (;;) {
      const got = await wal.batchReadForTopic('t', 64 * 1024, true, { cursor: 'c' });
      if (got.length === 0) break;
      held.push(got[0].data);
      for (const line of fs.readFileSync('/proc/self/maps', 'utf8').split('\n')) {
        const name = line.includes(dir) ? line.slice(line.lastIndexOf('/') + 1) : '';
        if (name.endsWith('.seg')) mapped.add(Number(name.slice(0, -4)));
      }
      if (got[got.length - 1].offset >= 300) break;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    const reusedFrom = lines.filter((l) => l.msg === 'segment file recycled').map((l) => Number(l.from));
    expect(mapped.size).toBeGreaterThan(1);
    expect(reusedFrom.filter((id) => mapped.has(id))).toEqual([]);
    // The views still read what was written.
    for (const data of held) expect(data.toString('latin1', 0, 6)).toBe('entry-');
    expect((await wal.topicStats('t')).firstOffset).toBeGreaterThan(0);
  });
});

describe('SegmentManager recycling, file by file', () => {
  const SLOT = 16 * 1024;
  const SLOTS = 4;

  /** Header id and the bytes of one segment file, found by file name. */
  function fileOf(dir: string, name: string): { id: number | undefined; bytes: Buffer } {
    const bytes = fs.readFileSync(join(dir, name));
    return { id: decodeSegmentHeader(bytes.subarray(0, SEGMENT_HEADER_BYTES))?.id, bytes };
  }

  it('waits for readers, zeroes each slot\'s first page under a new header and id, keeps at most two, deletes the rest', async () => {
    const dir = tempDir();
    const manager = new SegmentManager(new FsFileIO(), dir, SLOT, SLOTS, quiet, true);
    const made = [];
    for (let i = 0; i < RECYCLED_MAX + 1; i++) made.push(await manager.createSegment());
    for (const segment of made) {
      segment.closed = true;
      // What its blocks left behind: every byte after the header non-zero.
      const fd = fs.openSync(segment.path, 'r+');
      fs.writeSync(fd, Buffer.alloc(SLOT * SLOTS, 0x5a), 0, SLOT * SLOTS, SEGMENT_HEADER_BYTES);
      fs.closeSync(fd);
    }
    const [first, ...rest] = made;
    // A read holds the first: its file is not touched until the read ends.
    first.pin();
    const removing = manager.remove(first);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(fileOf(dir, segmentFileName(first.id)).id).toBe(first.id);
    first.unpin();
    await removing;
    expect(fs.existsSync(first.path)).toBe(false);
    for (const segment of rest) await manager.remove(segment);

    // Two files reused under new ids, the third deleted.
    const names = segmentFiles(dir);
    expect(names).toHaveLength(RECYCLED_MAX);
    for (const name of names) {
      const { id, bytes } = fileOf(dir, name);
      expect(name).toBe(segmentFileName(id!));
      expect(made.map((s) => s.id)).not.toContain(id);
      for (let slot = 0; slot < SLOTS; slot++) {
        const at = SEGMENT_HEADER_BYTES + slot * SLOT;
        expect(bytes.subarray(at, at + 4096).equals(Buffer.alloc(4096)), `slot ${slot} head of ${name}`).toBe(true);
        // Past the first page the old bytes stay: no zero-fill.
        expect(bytes[at + 4096]).toBe(0x5a);
      }
    }
    await manager.close();
  });
});
