import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileHandle } from '../file-io.js';
import { PAGE_BYTES } from './aligned-buffer-pool.js';
import { UringFileIO } from './uring-file-io.js';
import { loadAddonForTests } from './uring-test-support.js';

const loaded = await loadAddonForTests();
if (loaded.addon === undefined) {
  console.info(`[uring-file-io.test] SKIPPED, backend fs only: io_uring addon not loadable (${loaded.reason})`);
} else {
  console.info(`[uring-file-io.test] backend: uring (addon from ${loaded.source})`);
}

/** Deterministic bytes so failures are reproducible. */
function pattern(bytes: number, seed: number): Buffer {
  const b = Buffer.alloc(bytes);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < bytes; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

async function readAll(handle: FileHandle, bytes: number): Promise<Buffer> {
  const out = Buffer.alloc(bytes);
  const n = await handle.read(out, 0, bytes, 0);
  return out.subarray(0, n);
}

describe.skipIf(loaded.addon === undefined).each([
  { mode: 'O_DIRECT for synced writes (default)', directWrites: 'synced' as const },
  { mode: 'O_DIRECT for all writes', directWrites: 'always' as const },
  { mode: 'page-cache writes only', directWrites: 'never' as const },
])('UringFileIO on a real disk directory, $mode', ({ directWrites }) => {
  let io: UringFileIO;
  let dir: string;
  let directSupported = false;

  beforeAll(async () => {
    io = UringFileIO.create(loaded.addon!, { directWrites });
    // The temp dir must be on a disk filesystem for the O_DIRECT path; /dev/shm is the fallback test.
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'walrus-uring-'));
    const probe = await io.open(path.join(dir, 'probe'), { create: true });
    directSupported = (probe as unknown as { direct: boolean }).direct;
    await probe.close();
    console.info(`[uring-file-io.test] ${dir}, directWrites ${directWrites}: O_DIRECT fd ${directSupported ? 'open' : 'not open'}`);
  });

  afterAll(() => {
    io.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('preallocates real zero-filled blocks, then round-trips unaligned writes', async () => {
    const handle = await io.open(path.join(dir, 'seg-a'), { create: true });
    await handle.preallocateZeroed(16 * PAGE_BYTES + 100);
    expect(await handle.size()).toBe(16 * PAGE_BYTES + 100);
    const st = fs.statSync(path.join(dir, 'seg-a'));
    expect(st.blocks * 512).toBeGreaterThanOrEqual(16 * PAGE_BYTES); // not a sparse hole
    const model = Buffer.alloc(16 * PAGE_BYTES + 100);
    const writes: [number, number][] = [
      [0, 1],
      [1, 4095],
      [4096, 4096],
      [5000, 10_000],
      [PAGE_BYTES * 3 - 7, 14],
      [PAGE_BYTES * 15 + 3, 200], // ends past the last full page: page-cache path
    ];
    for (const [at, bytes] of writes) {
      const data = pattern(bytes, at + 1);
      data.copy(model, at);
      await handle.writev([data.subarray(0, bytes >> 1), data.subarray(bytes >> 1)], at);
    }
    await handle.datasync();
    expect((await readAll(handle, model.length + 10)).equals(model)).toBe(true);
    expect(await handle.size()).toBe(16 * PAGE_BYTES + 100);
    await handle.close();
    expect(fs.readFileSync(path.join(dir, 'seg-a')).equals(model)).toBe(true);
  });

  it('keeps packed appends intact when many are in flight at once (tail page rewritten)', async () => {
    const handle = await io.open(path.join(dir, 'seg-b'), { create: true });
    const capacity = 2 * 1024 * 1024;
    await handle.preallocateZeroed(capacity);
    const model = Buffer.alloc(capacity);
    const pending: Promise<void>[] = [];
    let at = 0;
    for (let i = 0; at < capacity - 20_000; i++) {
      const bytes = 1 + ((i * 7919) % 9000);
      const data = pattern(bytes, i + 7);
      data.copy(model, at);
      const buffers = [data.subarray(0, 32), data.subarray(32)].filter((b) => b.byteLength > 0);
      pending.push(i % 3 === 0 ? handle.writevAndSync!(buffers, at) : handle.writev(buffers, at));
      at += bytes;
    }
    await Promise.all(pending);
    await handle.datasync();
    expect((await readAll(handle, capacity)).equals(model)).toBe(true);
    await handle.close();
    expect(fs.readFileSync(path.join(dir, 'seg-b')).equals(model)).toBe(true);
  });

  it('grows a file that was not preallocated, byte-exact size', async () => {
    const handle = await io.open(path.join(dir, 'grow'), { create: true });
    const a = pattern(1000, 1);
    const b = pattern(5000, 2);
    await handle.writevAndSync!([a], 0);
    await handle.writev([b], 1000);
    expect(await handle.size()).toBe(6000);
    await handle.preallocateZeroed(3 * PAGE_BYTES);
    expect(await handle.size()).toBe(3 * PAGE_BYTES);
    const c = pattern(300, 3);
    await handle.writevAndSync!([c], 6000); // now inside the allocated pages: direct, rewrites page 1
    const expected = Buffer.concat([a, b, c, Buffer.alloc(3 * PAGE_BYTES - 6300)]);
    expect((await readAll(handle, 4 * PAGE_BYTES)).equals(expected)).toBe(true);
    await handle.close();
  });

  it('truncate drops the cached tail page: bytes past the cut read back as zero', async () => {
    const handle = await io.open(path.join(dir, 'trunc'), { create: true });
    await handle.preallocateZeroed(4 * PAGE_BYTES);
    await handle.writev([pattern(3000, 4)], 100);
    await handle.truncate(1000);
    await handle.preallocateZeroed(4 * PAGE_BYTES);
    await handle.writev([pattern(10, 5)], 1000);
    const expected = Buffer.alloc(4 * PAGE_BYTES);
    pattern(900, 4).copy(expected, 100);
    pattern(10, 5).copy(expected, 1000);
    expect((await readAll(handle, 4 * PAGE_BYTES)).equals(expected)).toBe(true);
    await handle.close();
  });

  it('reads short at end of file and zero bytes past it', async () => {
    const handle = await io.open(path.join(dir, 'short'), { create: true });
    await handle.writev([pattern(10, 6)], 0);
    const out = Buffer.alloc(64);
    expect(await handle.read(out, 4, 60, 0)).toBe(10);
    expect(await handle.read(out, 0, 10, 10)).toBe(0);
    await handle.close();
  });

  it('write and datasync of nothing succeed', async () => {
    const handle = await io.open(path.join(dir, 'empty'), { create: true });
    await handle.writev([], 0);
    await handle.writevAndSync!([Buffer.alloc(0)], 0);
    expect(await handle.size()).toBe(0);
    await handle.close();
  });

  it('survives more operations in flight than the completion queue holds', async () => {
    const handle = await io.open(path.join(dir, 'many'), { create: true });
    const pages = 2000;
    await handle.preallocateZeroed(pages * PAGE_BYTES);
    await Promise.all(Array.from({ length: pages }, (_, i) => handle.writevAndSync!([pattern(PAGE_BYTES, i + 11)], i * PAGE_BYTES)));
    const all = await readAll(handle, pages * PAGE_BYTES);
    for (const i of [0, 1, 999, 1999]) {
      expect(all.subarray(i * PAGE_BYTES, (i + 1) * PAGE_BYTES).equals(pattern(PAGE_BYTES, i + 11))).toBe(true);
    }
    await handle.close();
  });

  it('open errors carry Node codes: EEXIST on create, ENOENT when missing', async () => {
    await (await io.open(path.join(dir, 'exists'), { create: true })).close();
    await expect(io.open(path.join(dir, 'exists'), { create: true })).rejects.toMatchObject({ code: 'EEXIST' });
    await expect(io.open(path.join(dir, 'missing'), { create: false })).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await io.readFile(path.join(dir, 'missing'))).toBeNull();
  });

  it('maps a full device to ENOSPC (/dev/full through the ring)', async (context) => {
    if (!fs.existsSync('/dev/full')) return context.skip('no /dev/full on this machine');
    const handle = await io.open('/dev/full', { create: false });
    const error = await handle.writevAndSync!([pattern(100, 9)], 0).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ENOSPC', syscall: 'write' });
    expect((error as NodeJS.ErrnoException).errno).toBeLessThan(0);
    await handle.close();
  });

  it('delivers completions after the garbage collector ran while the ring was idle', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const idle = UringFileIO.create(loaded.addon!, { directWrites });
    gc();
    gc();
    const handle = await idle.open(path.join(dir, 'after-gc'), { create: true });
    await handle.preallocateZeroed(PAGE_BYTES);
    await handle.writevAndSync!([pattern(100, 12)], 0);
    await handle.datasync();
    await handle.close();
    idle.close();
  }, 15_000);
});

describe.skipIf(loaded.addon === undefined)('UringFileIO in a plain Node process', () => {
  it('keeps the event loop alive until completions arrive, then lets the process exit', () => {
    // vitest's own handles keep its loop alive, hiding a ring that stops referencing the loop.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'walrus-uring-child-'));
    const script = `
      import { UringFileIO } from ${JSON.stringify(new URL('./uring-file-io.ts', import.meta.url).href)};
      import { loadAddonForTests } from ${JSON.stringify(new URL('./uring-test-support.ts', import.meta.url).href)};
      const io = UringFileIO.create((await loadAddonForTests()).addon);
      await new Promise((r) => setTimeout(r, 50));
      const h = await io.open(${JSON.stringify(path.join(dir, 'f'))}, { create: true });
      await h.preallocateZeroed(1 << 20);
      for (let i = 0; i < 200; i++) await h.writevAndSync([Buffer.alloc(1000, i)], i * 1000);
      await h.close();
      console.log('child done');
    `;
    const tsx = path.join(process.cwd(), 'node_modules', '.bin', 'tsx');
    try {
      const out = execFileSync(tsx, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
      expect(out).toContain('child done');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
