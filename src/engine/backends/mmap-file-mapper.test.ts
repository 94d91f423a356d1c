import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadMmapAddon, MmapFileMapper, type MmapAddon } from './mmap-file-mapper.js';

const addon: MmapAddon | undefined = await loadMmapAddon().catch((error: unknown) => {
  console.info(`[mmap-file-mapper.test] SKIPPED: ${(error as Error).message}`);
  return undefined;
});
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'walrus-mapfile-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function fileOf(name: string, bytes: Buffer): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  return file;
}

function withFd<T>(file: string, fn: (fd: number) => T): T {
  const fd = fs.openSync(file, 'r');
  try {
    return fn(fd);
  } finally {
    fs.closeSync(fd);
  }
}

describe.skipIf(addon === undefined)('mapFile and MmapFileMapper', () => {
  it('maps a whole file, exactly its size', () => {
    const bytes = Buffer.from('0123456789'.repeat(1000));
    const mapped = new MmapFileMapper(addon!).map(fileOf('whole', bytes));
    expect(mapped.length).toBe(bytes.length);
    expect(mapped.equals(bytes)).toBe(true);
  });

  it('maps up to the end and refuses one byte past it (RangeError), and an empty length', () => {
    const file = fileOf('edge', Buffer.alloc(5000, 7));
    expect(withFd(file, (fd) => addon!.mapFile(fd, 5000)).length).toBe(5000);
    expect(() => withFd(file, (fd) => addon!.mapFile(fd, 5001))).toThrow(RangeError);
    expect(() => withFd(file, (fd) => addon!.mapFile(fd, 5001))).toThrow(/exceeds the file's 5000 bytes/);
    expect(() => withFd(file, (fd) => addon!.mapFile(fd, 0))).toThrow(RangeError);
    expect(() => withFd(file, (fd) => addon!.mapFile(fd, 1.5))).toThrow(RangeError);
  });

  it('refuses what is not a regular open file', () => {
    expect(() => withFd(dir, (fd) => addon!.mapFile(fd, 1))).toThrow(TypeError);
    expect(() => addon!.mapFile(1_000_000, 1)).toThrow(expect.objectContaining({ code: 'EBADF', syscall: 'fstat' }));
    expect(() => new MmapFileMapper(addon!).map(path.join(dir, 'missing'))).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });

  it('shows writes made through the page cache (pages it has not copied), and outlives the unlink of its file', () => {
    const file = fileOf('shared', Buffer.alloc(4096, 1));
    const mapper = new MmapFileMapper(addon!);
    const mapped = mapper.map(file);
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, Buffer.from([9]), 0, 1, 100);
    fs.closeSync(fd);
    expect(mapped[100]).toBe(9);
    fs.unlinkSync(file);
    mapper.retire(mapped);
    mapper.retire(mapped); // idempotent
    expect(mapped[100]).toBe(9);
    expect(mapped[4095]).toBe(1);
  });

  it('retires only Buffers it mapped', () => {
    expect(() => addon!.retireMapping(Buffer.alloc(8))).toThrow(TypeError);
    expect(() => addon!.retireMapping(undefined as unknown as Buffer)).toThrow(TypeError);
  });
});
