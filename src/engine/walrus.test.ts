import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FsyncSchedule, ReadConsistency, Walrus, type FileIO } from './index.js';
import { crash, open, payload, quiet, removeTempDirs, segmentFiles, SMALL, tempDir, trackedOpen, wrappedFileIO } from '../../test/engine/helpers.js';

const openTracked = trackedOpen();
afterAll(removeTempDirs);

describe('appends and offsets', () => {
  it('creates topics lazily and gives dense offsets with timestamps', async () => {
    const wal = await openTracked(tempDir());
    expect(wal.topics()).toEqual([]);
    const before = Date.now();
    const offsets = await Promise.all([0, 1, 2, 3, 4].map((i) => wal.appendForTopic('a', payload(i))));
    expect(offsets).toEqual([0, 1, 2, 3, 4]);
    expect(await wal.appendForTopic('b', payload(9))).toBe(0);
    expect(wal.topics().sort()).toEqual(['a', 'b']);
    const entries = await wal.readFrom('a', 0);
    expect(entries.map((e) => e.offset)).toEqual([0, 1, 2, 3, 4]);
    expect(entries.map((e) => e.data.toString())).toEqual([0, 1, 2, 3, 4].map((i) => payload(i).toString()));
    for (const e of entries) expect(e.timestamp).toBeGreaterThanOrEqual(before - 1000);
  });

  it('keeps offsets dense across many blocks and segments', async () => {
    const wal = await openTracked(tempDir());
    const offsets: number[] = [];
    for (let round = 0; round < 10; round++) {
      offsets.push(...(await Promise.all(Array.from({ length: 40 }, (_, i) => wal.appendForTopic('t', payload(round * 40 + i, 900))))));
    }
    expect(offsets).toEqual(Array.from({ length: 400 }, (_, i) => i));
    expect(wal.blocksOf('t').length).toBeGreaterThan(10);
    const all = [];
    for (let at = 0; at < 400; ) {
      const batch = await wal.readFrom('t', at, { maxBytes: 50_000 });
      expect(batch.length).toBeGreaterThan(0);
      all.push(...batch);
      at = batch[batch.length - 1].offset + 1;
    }
    expect(all.map((e) => e.offset)).toEqual(offsets);
    for (const e of all) expect(e.data.toString('latin1').startsWith(payload(e.offset).toString())).toBe(true);
  });

  it('accepts an entry as large as entryBytesMax and rejects one byte more, writing nothing', async () => {
    const wal = await openTracked(tempDir(), { entryBytesMax: 20_000 });
    expect(await wal.appendForTopic('big', Buffer.alloc(20_000, 1))).toBe(0);
    await expect(wal.appendForTopic('big', Buffer.alloc(20_001, 1))).rejects.toMatchObject({ code: 'ENTRY_TOO_LARGE' });
    expect((await wal.topicStats('big')).nextOffset).toBe(1);
    const [e] = await wal.readFrom('big', 0);
    expect(e.data.length).toBe(20_000);
  });

  it('accepts empty payloads', async () => {
    const wal = await openTracked(tempDir());
    expect(await wal.appendForTopic('e', Buffer.alloc(0))).toBe(0);
    expect((await wal.readNext('e', true))!.data.length).toBe(0);
  });
});

describe('input validation', () => {
  it('rejects bad topic and cursor names before touching the filesystem', async () => {
    const dir = tempDir();
    const wal = await openTracked(dir);
    await wal.appendForTopic('x'.repeat(249), payload(1));
    const before = fs.readdirSync(dir).sort();
    for (const bad of ['', '.', '..', '../x', 'a/b', 'a\u0000b', 'ü', 'x'.repeat(250), ' ']) {
      await expect(wal.appendForTopic(bad, payload(1))).rejects.toMatchObject({ code: 'INVALID_TOPIC' });
      await expect(wal.readFrom(bad, 0)).rejects.toMatchObject({ code: 'INVALID_TOPIC' });
    }
    for (const bad of ['', 'a/b', '__default', '__x', '..'.repeat(200)]) {
      await expect(wal.readNext('x'.repeat(249), true, { cursor: bad })).rejects.toMatchObject({ code: 'INVALID_CURSOR' });
    }
    await expect(wal.appendForTopic('ok', 'string' as unknown as Buffer)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(wal.readFrom('ok', -1)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(fs.readdirSync(dir).filter((f) => !before.includes(f))).toEqual([]);
    expect(fs.readdirSync(path.dirname(dir)).filter((f) => f.startsWith('..'))).toEqual([]);
  });
});

describe('batch append', () => {
  it('is atomic and all-or-nothing: 2,000 entries pass, 2,001 are refused with nothing written', async () => {
    const wal = await openTracked(tempDir(), { blockBytes: 64 * 1024, blocksPerSegment: 8 });
    const ok = Array.from({ length: 2000 }, (_, i) => payload(i));
    expect(await wal.batchAppendForTopic('b', ok)).toEqual({ baseOffset: 0, count: 2000 });
    const tooMany = Array.from({ length: 2001 }, (_, i) => payload(i));
    await expect(wal.batchAppendForTopic('b', tooMany)).rejects.toMatchObject({ code: 'BATCH_TOO_LARGE' });
    expect((await wal.topicStats('b')).nextOffset).toBe(2000);
    expect(await wal.batchAppendForTopic('b', [])).toEqual({ baseOffset: 2000, count: 0 });
  });

  it('does not interleave single appends with a running batch', async () => {
    const wal = await openTracked(tempDir());
    const batch = Array.from({ length: 50 }, (_, i) => Buffer.from(`batch-${i}`));
    const [before, b, after] = await Promise.all([
      wal.appendForTopic('m', Buffer.from('single-before')),
      wal.batchAppendForTopic('m', batch),
      wal.appendForTopic('m', Buffer.from('single-after')),
    ]);
    expect(before).toBe(0);
    expect(b).toEqual({ baseOffset: 1, count: 50 });
    expect(after).toBe(51);
    const entries = await wal.readFrom('m', 0);
    expect(entries.slice(1, 51).map((e) => e.data.toString())).toEqual(batch.map(String));
    expect(entries[51].data.toString()).toBe('single-after');
  });

  it('leaves no partial batch after a crash in the middle of writing one', async () => {
    const dir = tempDir();
    const wal = await openTracked(dir);
    await wal.batchAppendForTopic('t', [payload(0), payload(1)]);
    await crash(wal);
    // Tear the last entry of a second, unacknowledged batch by writing its first half only.
    const wal2 = await openTracked(dir);
    await wal2.batchAppendForTopic('t', Array.from({ length: 5 }, (_, i) => payload(10 + i)));
    const block = wal2.blocksOf('t').at(-1)!;
    const file = block.segment.path;
    const start = block.start;
    await crash(wal2);
    const fd = fs.openSync(file, 'r+');
    // Zero the last 20 bytes of the batch: its final entry's checksum breaks.
    const end = start + 512 + 5 * (32 + payload(10).length);
    fs.writeSync(fd, Buffer.alloc(20), 0, 20, end - 20);
    fs.closeSync(fd);
    const wal3 = await openTracked(dir);
    const entries = await wal3.readFrom('t', 0);
    expect(entries.map((e) => e.data.toString())).toEqual([payload(0), payload(1)].map(String));
    expect(await wal3.appendForTopic('t', payload(99))).toBe(2);
  });
});

describe('cursor reads', () => {
  it('peeks without moving and consumes with checkpoint', async () => {
    const wal = await openTracked(tempDir());
    for (let i = 0; i < 3; i++) await wal.appendForTopic('p', payload(i));
    expect((await wal.readNext('p', false))!.offset).toBe(0);
    expect((await wal.readNext('p', false))!.offset).toBe(0);
    expect((await wal.readNext('p', true))!.offset).toBe(0);
    expect((await wal.readNext('p', true))!.offset).toBe(1);
    expect((await wal.batchReadForTopic('p', 1000, false)).map((e) => e.offset)).toEqual([2]);
    expect((await wal.batchReadForTopic('p', 1000, true)).map((e) => e.offset)).toEqual([2]);
    expect(await wal.readNext('p', true)).toBeNull();
    expect(await wal.readNext('missing', true)).toBeNull();
    expect(await wal.cursorPosition('p')).toBe(3);
  });

  it('batch read caps by bytes and 2,000 entries, and always returns one entry when any is available', async () => {
    const wal = await openTracked(tempDir(), { blockBytes: 256 * 1024, blocksPerSegment: 4 });
    await wal.appendForTopic('big', Buffer.alloc(5000, 7));
    await wal.appendForTopic('big', Buffer.alloc(10, 7));
    const one = await wal.batchReadForTopic('big', 100, true);
    expect(one.map((e) => e.data.length)).toEqual([5000]);
    for (let i = 0; i < 5; i++) await wal.batchAppendForTopic('many', Array.from({ length: 1000 }, () => Buffer.alloc(10)));
    const capped = await wal.batchReadForTopic('many', 10_000_000, true);
    expect(capped.length).toBe(2000);
    const byBytes = await wal.batchReadForTopic('many', 95, true);
    expect(byBytes.length).toBe(9);
    expect(byBytes[0].offset).toBe(2000);
  });

  it('keeps named cursors independent of each other and of the default cursor', async () => {
    const wal = await openTracked(tempDir());
    for (let i = 0; i < 5; i++) await wal.appendForTopic('n', payload(i));
    expect((await wal.readNext('n', true, { cursor: 'g1' }))!.offset).toBe(0);
    expect((await wal.readNext('n', true, { cursor: 'g1' }))!.offset).toBe(1);
    expect((await wal.readNext('n', true, { cursor: 'g2' }))!.offset).toBe(0);
    await wal.commitCursor('n', 'g3', 4);
    expect(await wal.cursorPosition('n', 'g3')).toBe(4);
    expect(await wal.cursorPosition('n', 'unknown')).toBe(0);
    await expect(wal.commitCursor('n', 'g3', 6)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(wal.commitCursor('nope', 'g3', 0)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const stats = await wal.topicStats('n');
    expect(stats.cursors).toEqual({ g1: 2, g2: 1, g3: 4 });
  });

  it('never hands the same entry to two concurrent checkpointing reads of one cursor', async () => {
    const wal = await openTracked(tempDir());
    for (let i = 0; i < 20; i++) await wal.appendForTopic('c', payload(i));
    const got = await Promise.all(Array.from({ length: 20 }, () => wal.readNext('c', true, { cursor: 'w' })));
    expect(got.map((e) => e!.offset).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });
});

describe('restart', () => {
  it('rebuilds topics, offsets and cursors after a clean close', async () => {
    const dir = tempDir();
    const wal = await openTracked(dir, { consistency: ReadConsistency.StrictlyAtOnce });
    for (let i = 0; i < 100; i++) await wal.appendForTopic(`t${i % 3}`, payload(i, 700));
    await wal.readNext('t0', true);
    await wal.readNext('t0', true);
    await wal.commitCursor('t1', 'grp', 10);
    await wal.createTopic('empty');
    await wal.close();
    const again = await openTracked(dir);
    expect(again.topics().sort()).toEqual(['empty', 't0', 't1', 't2']);
    expect((await again.topicStats('t0')).nextOffset).toBe(34);
    expect((await again.topicStats('t1')).nextOffset).toBe(33);
    expect((await again.topicStats('empty')).nextOffset).toBe(0);
    expect(await again.cursorPosition('t0')).toBe(2);
    expect(await again.cursorPosition('t1', 'grp')).toBe(10);
    expect(await again.appendForTopic('t0', payload(1000))).toBe(34);
    expect((await again.readNext('t0', true))!.data.toString()).toBe(payload(6, 700).toString());
  });

  it('StrictlyAtOnce: a crash never replays an entry a checkpointing read returned', async () => {
    const dir = tempDir();
    const wal = await openTracked(dir, { consistency: ReadConsistency.StrictlyAtOnce, fsync: FsyncSchedule.SyncEach });
    for (let i = 0; i < 30; i++) await wal.appendForTopic('s', payload(i));
    for (let i = 0; i < 17; i++) await wal.readNext('s', true);
    await crash(wal);
    const again = await openTracked(dir);
    expect((await again.readNext('s', true))!.offset).toBe(17);
  });

  it('AtLeastOnce({ persistEvery: N }) replays at most N entries after a crash', async () => {
    for (const n of [1, 5, 16]) {
      const dir = tempDir();
      const wal = await openTracked(dir, { consistency: ReadConsistency.AtLeastOnce({ persistEvery: n }), fsync: FsyncSchedule.SyncEach });
      for (let i = 0; i < 100; i++) await wal.appendForTopic('a', payload(i));
      for (let i = 0; i < 43; i++) await wal.readNext('a', true);
      await crash(wal);
      const again = await openTracked(dir);
      const resumed = (await again.readNext('a', true))!.offset;
      expect(resumed).toBeLessThanOrEqual(43);
      expect(43 - resumed).toBeLessThanOrEqual(n);
    }
  });

  it('rebuilds offsets after a crash with every fsync schedule (process crash keeps page-cache writes)', async () => {
    for (const fsync of [FsyncSchedule.SyncEach, FsyncSchedule.milliseconds(50), FsyncSchedule.NoFsync]) {
      const dir = tempDir();
      const wal = await openTracked(dir, { fsync });
      const acked = await Promise.all(Array.from({ length: 200 }, (_, i) => wal.appendForTopic('k', payload(i, 300))));
      await crash(wal);
      const again = await openTracked(dir);
      const entries = [];
      for (let at = 0; at < 200; ) {
        const got = await again.readFrom('k', at);
        if (got.length === 0) break;
        entries.push(...got);
        at = got.at(-1)!.offset + 1;
      }
      expect(entries.map((e) => e.offset)).toEqual(acked);
    }
  });
});

describe('coordination-free deletion', () => {
  it('keeps disk use bounded under a steady produce-and-consume load', async () => {
    const dir = tempDir();
    const wal = await openTracked(dir, { fsync: FsyncSchedule.NoFsync });
    const counts: number[] = [];
    for (let round = 0; round < 60; round++) {
      await Promise.all(Array.from({ length: 20 }, (_, i) => wal.appendForTopic('steady', payload(round * 20 + i, 1000))));
      await wal.appendForTopic('other', payload(round));
      while ((await wal.batchReadForTopic('steady', 64 * 1024, true)).length > 0);
      while ((await wal.batchReadForTopic('other', 64 * 1024, true, { cursor: 'c' })).length > 0);
      await new Promise((r) => setImmediate(r));
      counts.push(segmentFiles(dir).length);
    }
    // 1.2 MB went through 64 KiB segments: without reclamation there would be ~20 segment files.
    // Reclamation runs in the background, so it may trail the loop a little; it must catch up.
    expect(Math.max(...counts)).toBeLessThan(12);
    for (let i = 0; i < 100 && segmentFiles(dir).length > 4; i++) await new Promise((r) => setTimeout(r, 50));
    expect(segmentFiles(dir).length).toBeLessThanOrEqual(4);
    expect((await wal.topicStats('steady')).firstOffset).toBeGreaterThan(0);
  });

  it('deleteTopic removes the topic, its cursors and, with its segments, its space', async () => {
    const dir = tempDir();
    const wal = await openTracked(dir);
    for (let i = 0; i < 200; i++) await wal.appendForTopic('gone', payload(i, 1000));
    await wal.readNext('gone', true, { cursor: 'g' });
    const before = segmentFiles(dir).length;
    expect(before).toBeGreaterThan(2);
    await wal.deleteTopic('gone');
    await new Promise((r) => setTimeout(r, 50));
    expect(wal.hasTopic('gone')).toBe(false);
    expect(segmentFiles(dir).length).toBeLessThan(before);
    await expect(wal.deleteTopic('gone')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await wal.appendForTopic('gone', payload(0))).toBe(0);
    await wal.close();
    const again = await openTracked(dir);
    expect((await again.topicStats('gone')).nextOffset).toBe(1);
    expect((await again.topicStats('gone')).cursors).toEqual({});
  });
});

describe('lock', () => {
  it('refuses a second open of the same directory and key while the first is open', async () => {
    const dir = tempDir();
    const wal = await openTracked(dir);
    await expect(open(dir)).rejects.toMatchObject({ code: 'LOCKED' });
    await expect(open(dir, { key: 'other' })).resolves.toBeInstanceOf(Walrus).then(async () => {});
    await wal.close();
    const again = await openTracked(dir);
    expect(again).toBeInstanceOf(Walrus);
  });
});

describe('environment', () => {
  it('uses WALRUS_DATA_DIR and WALRUS_INSTANCE_KEY, and explicit options win', async () => {
    const envDir = tempDir();
    const explicit = tempDir();
    const saved = { dir: process.env.WALRUS_DATA_DIR, key: process.env.WALRUS_INSTANCE_KEY };
    process.env.WALRUS_DATA_DIR = envDir;
    process.env.WALRUS_INSTANCE_KEY = 'tenant/a b';
    try {
      const fromEnv = await Walrus.open({ logger: quiet, ...SMALL });
      openTracked.track(fromEnv);
      expect(fromEnv.dir).toBe(path.join(envDir, 'tenant_a_b'));
      const overridden = await Walrus.open({ dataDir: explicit, key: 'k', logger: quiet, ...SMALL });
      openTracked.track(overridden);
      expect(overridden.dir).toBe(path.join(explicit, 'k'));
      const weird = await Walrus.open({ dataDir: explicit, key: '///', logger: quiet, ...SMALL });
      openTracked.track(weird);
      expect(path.basename(weird.dir)).toMatch(/^ns_[0-9a-f]{16}$/);
    } finally {
      if (saved.dir === undefined) delete process.env.WALRUS_DATA_DIR;
      else process.env.WALRUS_DATA_DIR = saved.dir;
      if (saved.key === undefined) delete process.env.WALRUS_INSTANCE_KEY;
      else process.env.WALRUS_INSTANCE_KEY = saved.key;
    }
  });
});

describe('backend selection', () => {
  it('reports the backend it runs on and why', async () => {
    const fsOnly = await openTracked(tempDir(), { backend: 'fs' });
    expect(fsOnly.backend.name).toBe('fs');
    const auto = await openTracked(tempDir(), { backend: 'auto' });
    expect(['fs', 'uring']).toContain(auto.backend.name);
    expect(auto.backend.reason.length).toBeGreaterThan(0);
    const defaulted = await openTracked(tempDir());
    // Printed so the test output names the backend this pass of the suite ran on.
    console.log(`engine suite backend: ${defaulted.backend.name} (${defaulted.backend.reason}); auto would pick ${auto.backend.name} (${auto.backend.reason})`);
    await defaulted.appendForTopic('b', payload(1));
    expect((await defaulted.readNext('b', true))!.data.toString()).toBe(payload(1).toString());
  });
});

describe('watch', () => {
  it('tells listeners when new entries become visible', async () => {
    const wal = await openTracked(tempDir(), { fsync: FsyncSchedule.SyncEach });
    const seen: number[] = [];
    const stop = wal.watch('w', (next) => seen.push(next));
    await wal.appendForTopic('w', payload(0));
    await wal.batchAppendForTopic('w', [payload(1), payload(2)]);
    stop();
    await wal.appendForTopic('w', payload(3));
    expect(seen).toEqual([1, 3]);
  });
});

describe('retention caps', () => {
  it('retentionBytes reclaims whole sealed blocks and their segments with no cursor at all, and survives a restart', async () => {
    const dir = tempDir();
    const wal = await openTracked(dir, { fsync: FsyncSchedule.NoFsync });
    await wal.createTopic('capped', { retentionBytes: 40 * 1024 });
    for (let i = 0; i < 400; i++) await wal.appendForTopic('capped', payload(i, 1000));
    for (let i = 0; i < 100 && segmentFiles(dir).length > 3; i++) await new Promise((r) => setTimeout(r, 20));
    const stats = await wal.topicStats('capped');
    expect(stats.config).toEqual({ retentionBytes: 40 * 1024 });
    expect(stats.firstOffset).toBeGreaterThan(0);
    // What is kept: at least the cap, at most the cap plus one block and the active one.
    expect(stats.bytes).toBeGreaterThanOrEqual(40 * 1024);
    expect(stats.bytes).toBeLessThanOrEqual(40 * 1024 + 2 * 16 * 1024);
    expect(segmentFiles(dir).length).toBeLessThanOrEqual(3);
    const [first] = await wal.readFrom('capped', 0);
    expect(first.offset).toBe(stats.firstOffset);
    await wal.close();
    const again = await openTracked(dir);
    expect(again.topicConfig('capped')).toEqual({ retentionBytes: 40 * 1024 });
    expect((await again.topicStats('capped')).firstOffset).toBe(stats.firstOffset);
  });

  it('retentionMs reclaims blocks whose newest entry is older than the cap, and moves a lagging cursor to the first retained offset', async () => {
    let clock = 1_000_000;
    const wal = await openTracked(tempDir(), { now: () => clock, fsync: FsyncSchedule.NoFsync });
    await wal.createTopic('aged', { retentionMs: 60_000 });
    for (let i = 0; i < 100; i++) await wal.appendForTopic('aged', payload(i, 1000));
    await wal.commitCursor('aged', 'slow', 0);
    clock += 120_000;
    await wal.appendForTopic('aged', payload(100, 1000)); // fresh entry in a fresh block
    for (let i = 0; i < 100 && (await wal.topicStats('aged')).firstOffset === 0; i++) await new Promise((r) => setTimeout(r, 20));
    const { firstOffset } = await wal.topicStats('aged');
    expect(firstOffset).toBeGreaterThan(0);
    expect((await wal.readNext('aged', true, { cursor: 'slow' }))!.offset).toBe(firstOffset);
    await expect(wal.createTopic('aged', { retentionMs: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('visibility under SyncEach', () => {
  /** The fs backend, except that every fdatasync waits until the test opens the gate. */
  function gatedSyncs(): { io: FileIO; open: () => void; close: () => void; waiting: () => number } {
    const held: Array<() => void> = [];
    let gateOpen = true;
    const io = wrappedFileIO('gated-fs', (handle) =>
      new Proxy(handle, {
        get(target, key, receiver) {
          if (key !== 'datasync') return Reflect.get(target, key, receiver);
          return async () => {
            if (!gateOpen) await new Promise<void>((r) => held.push(r));
            return target.datasync();
          };
        },
      }),
    );
    return {
      io,
      open: () => {
        gateOpen = true;
        for (const r of held.splice(0)) r();
      },
      waiting: () => held.length,
      close: () => {
        gateOpen = false;
      },
    };
  }

  it('shows an entry to readers and watchers only once its fdatasync has completed', async () => {
    const gate = gatedSyncs();
    const wal = await openTracked(tempDir(), { fsync: FsyncSchedule.SyncEach, io: gate.io });
    await wal.appendForTopic('v', payload(0)); // segment created, gate still open
    const seen: number[] = [];
    wal.watch('v', (next) => seen.push(next));
    gate.close();
    let acked = false;
    const pending = wal.appendForTopic('v', payload(1)).then((o) => {
      acked = true;
      return o;
    });
    for (let i = 0; i < 200 && gate.waiting() === 0; i++) await new Promise((r) => setImmediate(r));
    expect(gate.waiting()).toBeGreaterThan(0); // written, its sync held
    expect(acked).toBe(false);
    expect((await wal.readFrom('v', 0)).map((e) => e.offset)).toEqual([0]);
    expect((await wal.topicStats('v')).nextOffset).toBe(1);
    expect(seen).toEqual([]);
    gate.open();
    expect(await pending).toBe(1);
    expect((await wal.readFrom('v', 0)).map((e) => e.offset)).toEqual([0, 1]);
    expect(seen).toEqual([2]);
  });
});

describe('linked write→fdatasync (backends with writevAndSync, as io_uring)', () => {
  /**
   * The fs backend plus a `writevAndSync` whose sync half waits for the test: each call's sync is
   * held until released by index, so tests choose the order in which cycles' syncs complete.
   */
  function linkedSyncs(): {
    io: FileIO;
    held: () => number;
    release: (i: number, fail?: boolean) => void;
    hold: (on: boolean) => void;
    holdStage: (on: boolean) => void;
    stageHeld: () => number;
    linkedDone: () => number;
  } {
    const gates: Array<{ go: (fail: boolean) => void } | null> = [];
    let holding = false;
    const stageGates: Array<() => void> = [];
    let holdingStage = false;
    let linkedDone = 0;
    const io = wrappedFileIO('linked-fs', (handle) =>
      Object.assign(Object.create(handle) as typeof handle, {
        // Plain fdatasync (the sync stage's), held while `holdStage(true)`.
        async datasync(): Promise<void> {
          if (holdingStage) await new Promise<void>((go) => stageGates.push(go));
          await handle.datasync();
        },
        async writevAndSync(buffers: readonly Uint8Array[], position: number, onWritten?: () => void): Promise<void> {
          await handle.writev(buffers, position);
          onWritten?.();
          if (holding) {
            const fail = await new Promise<boolean>((go) => gates.push({ go }));
            if (fail) throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
          }
          await handle.datasync();
          linkedDone++;
        },
      }),
    );
    return {
      io,
      held: () => gates.filter((g) => g !== null).length,
      release: (i, fail = false) => {
        const gate = gates[i];
        gates[i] = null;
        gate?.go(fail);
      },
      hold: (on) => {
        holding = on;
      },
      holdStage: (on) => {
        holdingStage = on;
        if (!on) for (const go of stageGates.splice(0)) go();
      },
      stageHeld: () => stageGates.length,
      linkedDone: () => linkedDone,
    };
  }

  /** Waits (up to 10 s: fdatasync on a busy disk can take a while) until `check` holds. */
  async function until(check: () => boolean): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
    expect(check()).toBe(true);
  }

  it('makes entries visible only when their linked sync completes, in offset order whatever order syncs finish in', async () => {
    const link = linkedSyncs();
    const wal = await openTracked(tempDir(), { fsync: FsyncSchedule.SyncEach, io: link.io });
    await wal.appendForTopic('l', payload(0));
    link.hold(true);
    const acked: number[] = [];
    const first = wal.appendForTopic('l', payload(1)).then((o) => acked.push(o));
    await until(() => link.held() === 1);
    const second = wal.appendForTopic('l', payload(2)).then((o) => acked.push(o)); // next cycle, overlapping the held sync
    await until(() => link.held() === 2);
    link.release(1); // the later cycle's sync finishes first
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(acked).toEqual([]);
    expect((await wal.readFrom('l', 0)).map((e) => e.offset)).toEqual([0]);
    link.release(0);
    await Promise.all([first, second]);
    expect(acked).toEqual([1, 2]);
    expect((await wal.readFrom('l', 0)).map((e) => e.offset)).toEqual([0, 1, 2]);
    link.hold(false);
    await wal.close();
    const again = await openTracked(wal.dir, { fsync: FsyncSchedule.SyncEach });
    expect((await again.readFrom('l', 0)).map((e) => e.data.toString())).toEqual([payload(0), payload(1), payload(2)].map((p) => p.toString()));
  });

  it('keeps offset order between a cycle synced by the sync stage and a later one synced by its linked write', async () => {
    const link = linkedSyncs();
    // Room for many blocks in the first segment, so no spare segment (whose zero-fill syncs) is made.
    const wal = await openTracked(tempDir(), { fsync: FsyncSchedule.SyncEach, io: link.io, blockBytes: 1024 * 1024, blocksPerSegment: 16 });
    await Promise.all([wal.appendForTopic('a', payload(0)), wal.appendForTopic('b', payload(0))]);
    link.holdStage(true);
    const acked: string[] = [];
    let first: Promise<unknown>;
    let second: Promise<unknown>;
    try {
      // One cycle writes both topics into one segment file: two runs, so one sync-stage fdatasync (held).
      first = Promise.all([wal.appendForTopic('a', payload(1)).then(() => acked.push('a1')), wal.appendForTopic('b', payload(1)).then(() => acked.push('b1'))]);
      await until(() => link.stageHeld() === 1);
      // The next cycle writes one run: linked write→fdatasync, not held, so it finishes first.
      const linkedBefore = link.linkedDone();
      second = wal.appendForTopic('a', payload(2)).then(() => acked.push('a2'));
      await until(() => link.linkedDone() > linkedBefore);
      for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
      expect(acked).toEqual([]);
      expect((await wal.readFrom('a', 0)).map((e) => e.offset)).toEqual([0]);
    } finally {
      link.holdStage(false);
    }
    await Promise.all([first, second]);
    expect(acked).toEqual(['a1', 'b1', 'a2']);
    expect((await wal.readFrom('a', 0)).map((e) => e.offset)).toEqual([0, 1, 2]);
  });

  it('treats a failed linked sync as fatal: its appends and every later one are refused', async () => {
    const link = linkedSyncs();
    const wal = await openTracked(tempDir(), { fsync: FsyncSchedule.SyncEach, io: link.io });
    await wal.appendForTopic('f', payload(0));
    link.hold(true);
    const failing = wal.appendForTopic('f', payload(1)).catch((e: unknown) => e);
    await until(() => link.held() === 1);
    const behind = wal.appendForTopic('f', payload(2)).catch((e: unknown) => e);
    await until(() => link.held() === 2);
    link.release(1); // the later sync succeeds, but it must not be acknowledged after an earlier failure
    link.release(0, true);
    expect(await failing).toMatchObject({ code: 'IO_ERROR' });
    expect(await behind).toMatchObject({ code: 'IO_ERROR' });
    await expect(wal.appendForTopic('f', payload(3))).rejects.toMatchObject({ code: 'IO_ERROR' });
    await expect(wal.readFrom('f', 0)).rejects.toMatchObject({ code: 'IO_ERROR' }); // the engine is failed until reopened
    await wal.close();
    const again = await openTracked(wal.dir, { fsync: FsyncSchedule.SyncEach });
    expect((await again.readFrom('f', 0)).map((e) => e.offset)).toContain(0);
  });

  it('close() waits for a linked sync in flight, and the append it covers is acknowledged and kept', async () => {
    const link = linkedSyncs();
    const wal = await openTracked(tempDir(), { fsync: FsyncSchedule.SyncEach, io: link.io });
    await wal.appendForTopic('c', payload(0));
    link.hold(true);
    const acked: number[] = [];
    const pending = wal.appendForTopic('c', payload(1)).then((o) => acked.push(o));
    await until(() => link.held() === 1);
    let closed = false;
    const closing = wal.close().then(() => (closed = true));
    for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
    expect(closed).toBe(false); // the checkpoint and handle closes wait for the held sync
    expect(acked).toEqual([]);
    link.release(0);
    await Promise.all([pending, closing]);
    expect(acked).toEqual([1]);
    const again = await openTracked(wal.dir, { fsync: FsyncSchedule.SyncEach });
    expect((await again.readFrom('c', 0)).map((e) => e.offset)).toEqual([0, 1]);
  });
});
