import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { FsyncSchedule, Walrus } from '../../src/engine/index.js';
import { crash, open, payload, recordingLogger, removeTempDirs, SMALL, tempDir } from './helpers.js';

const fixtures = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures');
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  removeTempDirs();
});

function startChild(script: string, dir: string): { child: ChildProcess; lines: AsyncIterableIterator<string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(fixtures, script), dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const lines = readline.createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return { child, lines };
}

async function waitFor(lines: AsyncIterableIterator<string>, text: string): Promise<void> {
  for (;;) {
    const { value, done } = await lines.next();
    if (done) throw new Error(`child exited before printing ${text}`);
    if (value === text) return;
  }
}

describe('kill -9 of a process appending with SyncEach', () => {
  it('keeps every acknowledged append readable after restart', async () => {
    const dir = tempDir();
    const { child, lines } = startChild('append-child.ts', dir);
    await waitFor(lines, 'ready');
    const acked = new Map<string, Map<number, number>>();
    let count = 0;
    for (;;) {
      const { value } = await lines.next();
      const [word, topic, offset, seq] = String(value).split(' ');
      if (word !== 'ack') continue;
      if (!acked.has(topic)) acked.set(topic, new Map());
      acked.get(topic)!.set(Number(offset), Number(seq));
      if (++count === 3000) break;
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const wal = await open(dir);
    try {
      for (const [topic, offsets] of acked) {
        const max = Math.max(...offsets.keys());
        const stats = await wal.topicStats(topic);
        expect(stats.nextOffset).toBeGreaterThan(max);
        const seen = new Map<number, string>();
        for (let at = 0; at <= max; ) {
          const got = await wal.readFrom(topic, at, { maxBytes: 256 * 1024 });
          for (const e of got) seen.set(e.offset, e.data.toString());
          at = got.at(-1)!.offset + 1;
        }
        for (const [offset, seq] of offsets) expect(seen.get(offset)?.startsWith(`${topic}:${seq}:`)).toBe(true);
      }
    } finally {
      await wal.close();
    }
  });
});

describe('two processes', () => {
  it('refuses to open a directory another live process owns, and takes over after it is killed', async () => {
    const dir = tempDir();
    const { child, lines } = startChild('hold-lock-child.ts', dir);
    await waitFor(lines, 'ready');
    const err = await open(dir).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'LOCKED' });
    expect(String((err as Error).message)).toContain(String(child.pid));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const wal = await open(dir);
    await wal.close();
  });
});

describe('damaged files', () => {
  async function filled(dir: string, n: number): Promise<Walrus> {
    const wal = await open(dir, { fsync: FsyncSchedule.SyncEach });
    for (let i = 0; i < n; i++) await wal.appendForTopic('t', payload(i, 400));
    return wal;
  }

  it('cuts a torn tail (bytes zeroed mid-entry) at the last valid entry and logs a warning', async () => {
    const dir = tempDir();
    const wal = await filled(dir, 10);
    const block = wal.blocksOf('t').at(-1)!;
    const { path: file } = block.segment;
    const entryStart = block.start + block.writtenEnd - (32 + 400);
    await crash(wal);
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, Buffer.alloc(200), 0, 200, entryStart + 100);
    fs.closeSync(fd);
    const { logger, lines } = recordingLogger();
    const again = await Walrus.open({ dataDir: dir, logger, ...SMALL });
    try {
      expect((await again.topicStats('t')).nextOffset).toBe(9);
      expect(lines.some((l) => String(l.msg).includes('torn tail'))).toBe(true);
      expect((await again.readFrom('t', 0, { maxBytes: 1e6 })).length).toBe(9);
      expect(await again.appendForTopic('t', payload(9, 400))).toBe(9);
    } finally {
      await again.close();
    }
  });

  it('cuts a tail whose segment file was truncated', async () => {
    const dir = tempDir();
    const wal = await filled(dir, 10);
    const block = wal.blocksOf('t').at(-1)!;
    const cutAt = block.start + block.writtenEnd - 50;
    const { path: file } = block.segment;
    await crash(wal);
    fs.truncateSync(file, cutAt);
    const again = await open(dir);
    try {
      expect((await again.topicStats('t')).nextOffset).toBe(9);
    } finally {
      await again.close();
    }
  });

  it('cuts at a bit flip in the unsynced tail', async () => {
    const dir = tempDir();
    const wal = await filled(dir, 10);
    const block = wal.blocksOf('t').at(-1)!;
    const third = block.start + 512 + 2 * (32 + 400) + 40;
    const { path: file } = block.segment;
    await crash(wal);
    const fd = fs.openSync(file, 'r+');
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, third);
    b[0] ^= 0x10;
    fs.writeSync(fd, b, 0, 1, third);
    fs.closeSync(fd);
    const again = await open(dir);
    try {
      const firstInBlock = block.firstOffset;
      expect((await again.topicStats('t')).nextOffset).toBe(firstInBlock + 2);
    } finally {
      await again.close();
    }
  });

  it('reports a bit flip inside checkpointed data as CORRUPT_ENTRY on read, without scanning it at open', async () => {
    const dir = tempDir();
    const wal = await filled(dir, 60);
    const victim = wal.blocksOf('t')[1];
    const at = victim.start + 512 + 32 + 100; // inside the payload of the block's first entry
    const victimOffset = victim.firstOffset;
    await wal.close();
    const fd = fs.openSync(victim.segment.path, 'r+');
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, at);
    b[0] ^= 0xff;
    fs.writeSync(fd, b, 0, 1, at);
    fs.closeSync(fd);
    const again = await open(dir);
    try {
      // Open succeeded: the sealed, checkpointed block was not read at open.
      expect((await again.topicStats('t')).nextOffset).toBe(60);
      expect((await again.readFrom('t', 0, { maxEntries: victimOffset })).length).toBe(victimOffset);
      await expect(again.readFrom('t', victimOffset)).rejects.toMatchObject({ code: 'CORRUPT_ENTRY' });
      await expect(again.readFrom('t', 0, { maxBytes: 1e7 })).rejects.toMatchObject({ code: 'CORRUPT_ENTRY' });
      expect((await again.readFrom('t', victimOffset + 1)).length).toBeGreaterThan(0);
    } finally {
      await again.close();
    }
  });

  it('refuses to open when a checkpointed segment file is missing', async () => {
    const dir = tempDir();
    const wal = await filled(dir, 60);
    const file = wal.blocksOf('t')[0].segment.path;
    await wal.close();
    fs.rmSync(file);
    await expect(open(dir)).rejects.toMatchObject({ code: 'CORRUPT_LOG' });
  });
});
