import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterEach } from 'vitest';
import { FsFileIO, Walrus, type FileHandle, type FileIO, type WalrusOptions } from '../../src/engine/index.js';
import { selectBackend } from '../../src/engine/backends/select-backend.js';
import { UringFileIO } from '../../src/engine/backends/uring-file-io.js';

/** Small geometry so seals, new segments and reclamation happen within a few hundred KiB. */
export const SMALL: WalrusOptions = { blockBytes: 16 * 1024, blocksPerSegment: 4 };

/** Temp dirs made by this test file; `removeTempDirs` (call it in afterAll) deletes them. */
const made: string[] = [];

export function tempDir(prefix = 'walrus-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** A logger that records what the engine logs, for asserting on warnings. */
export function recordingLogger(level: pino.Level = 'info'): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level }, { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { logger, lines };
}

export const quiet = pino({ level: 'silent' });

export function open(dir: string, options: WalrusOptions = {}): Promise<Walrus> {
  return Walrus.open({ dataDir: dir, logger: quiet, ...SMALL, ...options });
}

/**
 * `open` for a test file that closes every engine it opened after each test (registers the afterEach;
 * call it once at the top of the file). `track` adds an engine opened some other way.
 */
export function trackedOpen(): ((dir: string, options?: WalrusOptions) => Promise<Walrus>) & { track: (wal: Walrus) => Walrus } {
  const opened: Walrus[] = [];
  afterEach(async () => {
    while (opened.length > 0) await opened.pop()!.close().catch(() => {});
  });
  const track = (wal: Walrus): Walrus => {
    opened.push(wal);
    return wal;
  };
  return Object.assign(async (dir: string, options: WalrusOptions = {}) => track(await open(dir, options)), { track });
}

/** A FileIO that forwards everything to `inner` (default the fs backend), each opened handle passed through `wrap`. */
export function wrappedFileIO(name: string, wrap: (handle: FileHandle) => FileHandle, inner: FileIO = new FsFileIO()): FileIO {
  return {
    name,
    mkdirp: (p) => inner.mkdirp(p),
    readdir: (p) => inner.readdir(p),
    unlink: (p) => inner.unlink(p),
    rename: (a, b) => inner.rename(a, b),
    syncDir: (p) => inner.syncDir(p),
    readFile: (p) => inner.readFile(p),
    open: async (path, options) => wrap(await inner.open(path, options)),
  };
}

/** Stops an in-process engine as kill -9 would (written bytes stay in the page cache; nothing flushed). */
export async function crash(wal: Walrus): Promise<void> {
  await wal.simulateCrash();
}

export const payload = (i: number, size = 0): Buffer => {
  const head = Buffer.from(`entry-${i}|`);
  return size > head.length ? Buffer.concat([head, Buffer.alloc(size - head.length, i % 251)]) : head;
};

export function segmentFiles(dir: string): string[] {
  return fs.readdirSync(dir).filter((f) => f.endsWith('.seg')).sort();
}

/** The engine backends that run here: `fs` always, `uring` where the addon builds and io_uring works. */
export async function backendsHere(): Promise<('fs' | 'uring')[]> {
  const uring = await selectBackend({ backend: 'uring', dataDir: tempDir('walrus-backend-probe-'), env: {} }).catch(() => null);
  if (!uring) return ['fs'];
  (uring.io as UringFileIO).close();
  return ['fs', 'uring'];
}
