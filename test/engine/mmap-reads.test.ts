/**
 * The mmap read path (issue 8) on real temp directories: frozen segments served as views of a
 * copy-on-write mapping, the open one with pread; deletion while a view is held; restart; corruption;
 * a file shorter than its geometry; and the choice of read path with its fallbacks.
 */
import fs from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { FsyncSchedule, READS_ENV, Walrus, type Entry, type FileIO } from '../../src/engine/index.js';
import { loadMmapAddon } from '../../src/engine/backends/mmap-file-mapper.js';
import { backendsHere, open, payload, removeTempDirs, segmentFiles, tempDir, trackedOpen, wrappedFileIO } from './helpers.js';

const mmapProblem = await loadMmapAddon().then(
  () => undefined,
  (error: unknown) => (error as Error).message,
);
const backends: ('fs' | 'uring')[] = mmapProblem === undefined ? await backendsHere() : ['fs'];
if (mmapProblem === undefined) {
  console.info(`[mmap-reads.test] read path: mmap (@walrus/uring-napi mapFile); backends: ${backends.join(', ')}`);
} else {
  console.info(`[mmap-reads.test] SKIPPED the mmap cases, pread only: ${mmapProblem}`);
}

const openTracked = trackedOpen();
afterAll(removeTempDirs);

/** Lines of /proc/self/maps naming a file under `dir`. */
function mappingsUnder(dir: string): string[] {
  return fs
    .readFileSync('/proc/self/maps', 'utf8')
    .split('\n')
    .filter((line) => line.includes(dir));
}

/** Every visible entry of `topic` through readFrom, `maxBytes` per call. */
async function readAll(wal: Walrus, topic: string, maxBytes: number): Promise<Entry[]> {
  const out: Entry[] = [];
  const end = (await wal.topicStats(topic)).nextOffset;
  for (let at = 0; at < end; ) {
    const batch = await wal.readFrom(topic, at, { maxBytes });
    expect(batch.length).toBeGreaterThan(0);
    out.push(...batch);
    at = batch[batch.length - 1].offset + 1;
  }
  return out;
}

/** Two topics interleaved over several 64 KiB segments, one entry spanning two slots; returns the payloads. */
async function writeLog(wal: Walrus): Promise<Map<string, Buffer[]>> {
  const written = new Map<string, Buffer[]>([
    ['a', []],
    ['b', []],
  ]);
  for (let round = 0; round < 4; round++) {
    const appends: Promise<number>[] = [];
    for (let i = 0; i < 40; i++) {
      for (const [topic, list] of written) {
        const data = payload(list.length, 700 + ((i * 37) % 400));
        list.push(data);
        appends.push(wal.appendForTopic(topic, data));
      }
    }
    await Promise.all(appends);
    if (round === 1) {
      const big = payload(written.get('a')!.length, 20_000); // larger than a 16 KiB slot
      written.get('a')!.push(big);
      await wal.appendForTopic('a', big);
    }
  }
  return written;
}

async function readInto(holder: { entries: Entry[] | null }, wal: Walrus, topic: string): Promise<void> {
  holder.entries = await wal.readFrom(topic, 0, { maxEntries: 5 });
}

/** How many held entries are views of a whole mapped file of `fileBytes`. */
function viewsOf(holder: { entries: Entry[] | null }, fileBytes: number): number {
  return holder.entries!.filter((e) => e.data.buffer.byteLength === fileBytes).length;
}

/** How many held entries still read back as written. */
function matching(holder: { entries: Entry[] | null }, payloads: Buffer[]): number {
  return holder.entries!.filter((e) => e.data.equals(payloads[e.offset])).length;
}

function expectEntries(entries: Entry[], payloads: Buffer[]): void {
  expect(entries.map((e) => e.offset)).toEqual(payloads.map((_, i) => i));
  for (const e of entries) expect(e.data.equals(payloads[e.offset])).toBe(true);
}

describe.skipIf(mmapProblem !== undefined).each(backends)('mmap reads on the %s backend', (backend) => {
  const options = { reads: 'mmap' as const, backend, fsync: FsyncSchedule.SyncEach };

  it('serves the same entries as pread across frozen and open segments, frozen ones as views of the mapping', async () => {
    const dir = tempDir();
    const wal = await openTracked(dir, options);
    expect(wal.reads.name).toBe('mmap');
    expect(wal.reads.reason).toContain('chosen by reads option');
    const written = await writeLog(wal);
    const viaMmap = new Map<string, Entry[]>();
    for (const [topic, payloads] of written) {
      const entries = await readAll(wal, topic, 10_000);
      expectEntries(entries, payloads);
      viaMmap.set(topic, entries);
      // Entries of frozen segments are views of the whole mapped file; the open segment's are not.
      let views = 0;
      let copies = 0;
      for (const block of wal.blocksOf(topic)) {
        const fileBytes = fs.statSync(block.segment.path).size;
        for (const e of entries.filter((x) => x.offset >= block.firstOffset && x.offset < block.firstOffset + block.visibleCount)) {
          if (block.segment.frozen) {
            expect(e.data.buffer.byteLength).toBe(fileBytes);
            views++;
          } else {
            expect(e.data.buffer.byteLength).toBeLessThan(fileBytes);
            copies++;
          }
        }
      }
      expect(views).toBeGreaterThan(0);
      expect(copies).toBeGreaterThan(0);
    }
    // Cursor reads (checkpointed) take the same path; a cursor held at 0 keeps the log from reclaim.
    await wal.commitCursor('b', 'hold', 0);
    const consumed: Entry[] = [];
    for (let batch = await wal.batchReadForTopic('b', 30_000, true); batch.length > 0; batch = await wal.batchReadForTopic('b', 30_000, true)) consumed.push(...batch);
    expectEntries(consumed, written.get('b')!);
    // Only frozen segments are mapped, and the one slots are handed out from is not frozen.
    const segments = [...new Set([...wal.blocksOf('a'), ...wal.blocksOf('b')].map((b) => b.segment))];
    const mapped = mappingsUnder(dir).join('\n');
    for (const segment of segments) expect(mapped.includes(segment.path)).toBe(segment.frozen);
    expect(segments.filter((s) => s.frozen).length).toBeGreaterThanOrEqual(2);
    await wal.close();

    const again = await openTracked(dir, { ...options, reads: 'pread' });
    expect(again.reads.name).toBe('pread');
    for (const [topic, entries] of viaMmap) {
      const viaPread = await readAll(again, topic, 10_000);
      expect(viaPread.map((e) => [e.offset, e.timestamp])).toEqual(entries.map((e) => [e.offset, e.timestamp]));
      for (let i = 0; i < entries.length; i++) expect(viaPread[i].data.equals(entries[i].data)).toBe(true);
    }
  });

  it('lets a caller write into an entry read through the mapping: the change stays private to that view', async () => {
    const dir = tempDir();
    const wal = await openTracked(dir, options);
    const written = await writeLog(wal);
    const first = (await wal.readFrom('a', 0, { maxEntries: 1 }))[0];
    expect(wal.blocksOf('a')[0].segment.frozen).toBe(true);
    expect(first.data.buffer.byteLength).toBe(fs.statSync(wal.blocksOf('a')[0].segment.path).size); // a view of the mapping
    first.data.fill(0x7e); // copy-on-write: neither a fault nor a write to the file
    expect(first.data.every((b) => b === 0x7e)).toBe(true);
    await wal.close();
    const reopened = await openTracked(dir, { ...options, reads: 'pread' });
    expectEntries(await readAll(reopened, 'a', 1024 * 1024), written.get('a')!);
  });

  it('reads everything through the mapping after a restart and after a crash', async () => {
    const dir = tempDir();
    const wal = await openTracked(dir, options);
    const written = await writeLog(wal);
    await wal.close();
    const reopened = await openTracked(dir, options);
    for (const [topic, payloads] of written) expectEntries(await readAll(reopened, topic, 1024 * 1024), payloads);
    expect(mappingsUnder(dir).length).toBeGreaterThan(0);
    await reopened.appendForTopic('a', payload(written.get('a')!.length));
    written.get('a')!.push(payload(written.get('a')!.length));
    await reopened.simulateCrash();
    const recovered = await openTracked(dir, options);
    for (const [topic, payloads] of written) expectEntries(await readAll(recovered, topic, 20_000), payloads);
  });

  it('keeps an entry readable after its segment is deleted, and unmaps the file once the entry is collected', async () => {
    const dir = tempDir();
    const wal = await openTracked(dir, options);
    const payloads = Array.from({ length: 220 }, (_, i) => payload(i, 900));
    await Promise.all(payloads.map((p) => wal.appendForTopic('t', p)));
    const first = wal.blocksOf('t')[0].segment;
    // The entries live only in `held` (filled and checked by helpers: a suspended async frame may keep
    // stale values in its registers, which would keep the mapping alive past `held.entries = null`).
    const held: { entries: Entry[] | null } = { entries: null };
    await readInto(held, wal, 't');
    expect(first.frozen).toBe(true);
    expect(viewsOf(held, fs.statSync(first.path).size)).toBe(5);
    // Consume everything: fully consumed closed segments are reclaimed and their files unlinked.
    while ((await wal.batchReadForTopic('t', 64 * 1024, true)).length > 0);
    for (let waited = 0; fs.existsSync(first.path) && waited < 5000; waited += 10) await new Promise((r) => setTimeout(r, 10));
    expect(fs.existsSync(first.path)).toBe(false);
    expect(first.isRemoved).toBe(true);
    expect(first.mapping).toBeNull();
    expect(mappingsUnder(first.path).some((line) => line.endsWith('(deleted)'))).toBe(true);
    expect(matching(held, payloads)).toBe(5);

    held.entries = null;
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    for (let tries = 0; tries < 100 && mappingsUnder(first.path).length > 0; tries++) {
      gc();
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(mappingsUnder(first.path)).toEqual([]);
  });

  it('raises CORRUPT_ENTRY for bytes changed under a mapped segment', async () => {
    const dir = tempDir();
    const wal = await openTracked(dir, options);
    // Three segments' worth: the first is then frozen and not the most recently closed one (which
    // is read with pread, never mapped: segment.ts `justClosed`).
    const payloads = Array.from({ length: 200 }, (_, i) => payload(i, 900));
    await Promise.all(payloads.map((p) => wal.appendForTopic('c', p)));
    expectEntries(await readAll(wal, 'c', 1024 * 1024), payloads);
    const segment = wal.blocksOf('c')[0].segment;
    expect(mappingsUnder(segment.path).length).toBe(1);
    const file = fs.readFileSync(segment.path);
    const at = file.indexOf(payload(3).toString()) + 100;
    expect(at).toBeGreaterThan(100);
    const fd = fs.openSync(segment.path, 'r+');
    fs.writeSync(fd, Buffer.from([file[at] ^ 0xff]), 0, 1, at);
    fs.closeSync(fd);
    expectEntries(await wal.readFrom('c', 0, { maxEntries: 3 }), payloads.slice(0, 3));
    await expect(wal.readFrom('c', 3, { maxEntries: 1 })).rejects.toMatchObject({ code: 'CORRUPT_ENTRY', message: expect.stringContaining('checksum mismatch') });
    await expect(wal.readFrom('c', 0)).rejects.toMatchObject({ code: 'CORRUPT_ENTRY' });
  });

  it('never maps past the end of a segment file cut short: the cut entries are CORRUPT_ENTRY, no SIGBUS', async () => {
    const dir = tempDir();
    const wal = await openTracked(dir, options);
    const payloads = Array.from({ length: 150 }, (_, i) => payload(i, 900));
    await Promise.all(payloads.map((p) => wal.appendForTopic('s', p)));
    const firstBlocks = wal.blocksOf('s').filter((b) => b.segment === wal.blocksOf('s')[0].segment);
    const last = firstBlocks[firstBlocks.length - 1];
    const cutOffset = last.firstOffset + Math.floor(last.visibleCount / 2);
    await wal.close();
    const file = fs.readFileSync(segmentFiles(dir).map((f) => `${dir}/${f}`)[0]);
    const cutAt = file.indexOf(payload(cutOffset).toString());
    fs.truncateSync(`${dir}/${segmentFiles(dir)[0]}`, cutAt);

    const reopened = await openTracked(dir, options);
    expectEntries(await reopened.readFrom('s', 0, { maxEntries: last.firstOffset }), payloads.slice(0, last.firstOffset));
    await expect(reopened.readFrom('s', cutOffset)).rejects.toMatchObject({ code: 'CORRUPT_ENTRY', message: expect.stringContaining('short read') });
    const mapped = mappingsUnder(`${dir}/${segmentFiles(dir)[0]}`);
    expect(mapped.length).toBe(1);
    const [from, to] = mapped[0].split(' ')[0].split('-').map((h) => parseInt(h, 16));
    expect(to - from).toBe(Math.ceil(cutAt / 4096) * 4096);
  });
});

describe('choosing the read path', () => {
  /** A FileIO that is not one of the engine's own (as the crash tests' in-memory double is not). */
  function foreignIo(): FileIO {
    return wrappedFileIO('wrapped', (handle) => handle);
  }

  async function withEnv<T>(value: string | undefined, fn: () => Promise<T>): Promise<T> {
    const saved = process.env[READS_ENV];
    if (value === undefined) delete process.env[READS_ENV];
    else process.env[READS_ENV] = value;
    try {
      return await fn();
    } finally {
      if (saved === undefined) delete process.env[READS_ENV];
      else process.env[READS_ENV] = saved;
    }
  }

  it('reports the read path the default environment chooses', async () => {
    const wal = await openTracked(tempDir(), {});
    console.info(`[mmap-reads.test] default read path: ${wal.reads.name} (${wal.reads.reason})`);
    expect(wal.reads.name).toBe(process.env[READS_ENV] === 'pread' || mmapProblem !== undefined ? 'pread' : 'mmap');
  });

  it(`${READS_ENV}=pread forces pread; an explicit option wins over it`, async () => {
    await withEnv('pread', async () => {
      const wal = await openTracked(tempDir(), {});
      expect(wal.reads).toEqual({ name: 'pread', reason: `pread: chosen by ${READS_ENV}=pread` });
      await wal.close();
      if (mmapProblem !== undefined) return;
      const explicit = await openTracked(tempDir(), { reads: 'mmap' });
      expect(explicit.reads.name).toBe('mmap');
    });
  });

  it(`a caller's FileIO: ${READS_ENV}=mmap falls back to pread, reads: 'mmap' is INVALID_ARGUMENT`, async () => {
    await withEnv('mmap', async () => {
      const wal = await openTracked(tempDir(), { io: foreignIo() });
      expect(wal.reads.name).toBe('pread');
      expect(wal.reads.reason).toContain("caller's FileIO (wrapped)");
      await wal.appendForTopic('x', payload(1));
      expectEntries(await wal.readFrom('x', 0), [payload(1)]);
    });
    await expect(open(tempDir(), { io: foreignIo(), reads: 'mmap' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('rejects an unknown read path from the option or the environment before touching files', async () => {
    const dir = tempDir();
    await expect(open(`${dir}/a`, { reads: 'mapped' as 'mmap' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await withEnv('copy', () => expect(open(`${dir}/b`, {})).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining(`${READS_ENV}=copy`) }));
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});
