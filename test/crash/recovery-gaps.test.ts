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

  // ENGINE BUG (reported to the lead, see docs/reliability.md "Known gaps"): when a power cut loses a
  // topic's first unsynced block but keeps a later one, recovery (src/engine/recovery.ts, the
  // per-topic chain loop: `expected` starts as null, and a dropped empty block does not set `cut`)
  // accepts the later block as the topic's start. The topic comes back with firstOffset > 0 (or past
  // the checkpoint's firstOffset) and a silent hole: entries after a lost entry survive. Affects
  // NoFsync and milliseconds(n), not SyncEach. Unskip once recovery anchors each topic's chain at the
  // checkpoint's firstOffset (0 for a topic the checkpoint does not know) and drops what does not connect.
  it.skip('does not keep entries written after an entry the power cut lost (the log stays a prefix)', async () => {
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
});
