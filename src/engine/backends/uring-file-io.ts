/**
 * The io_uring backend of the engine's I/O seam (`FileIO`), on the `@walrus/uring-napi` addon.
 *
 * One ring per instance (one per engine). Data-path calls — writes, write→fdatasync links, syncs —
 * go through the ring and complete on the event loop without blocking it; see uring-file-handle.ts
 * for the O_DIRECT page handling. Directory operations are rare and delegate to the fs backend.
 *
 * Construct with `UringFileIO.create(addon)`, which fails with a Node-style error (`EPERM`,
 * `ENOSYS`, …) when the kernel or a seccomp filter refuses io_uring. `selectBackend` does this and
 * falls back to the fs backend.
 */
import fs from 'node:fs';
import type { FileHandle, FileIO } from '../file-io.js';
import { FsFileIO } from '../fs-file-io.js';
import { AlignedBufferPool, PAGE_BYTES } from './aligned-buffer-pool.js';
import { UringFileHandle, ZERO_CHUNK_BYTES, type UringFileContext } from './uring-file-handle.js';
import { RING_ENTRIES, UringRing, type UringAddon } from './uring-ring.js';

/** When the backend writes with O_DIRECT; see uring-file-handle.ts for the measurements behind `synced`. */
export const DirectWrites = {
  /** Only `writevAndSync` (write linked to fdatasync) goes direct; plain `writev` uses the page cache. */
  synced: 'synced',
  /** Every write inside preallocated space goes direct. */
  always: 'always',
  /** Never: page-cache writes, fdatasync through the ring. */
  never: 'never',
} as const;
export type DirectWrites = (typeof DirectWrites)[keyof typeof DirectWrites];

/** Options of `UringFileIO.create`. */
export interface UringFileIOOptions {
  /** Submission-queue entries; default RING_ENTRIES. */
  entries?: number;
  /** Default `synced`. */
  directWrites?: DirectWrites;
}

/** FileIO over one io_uring ring. */
export class UringFileIO implements FileIO {
  readonly name = 'uring';
  private readonly context: UringFileContext;
  private readonly dirs = new FsFileIO();
  private readonly oDirect: number;
  private readonly fadviseRandom: (fd: number) => number;
  private zeroChunk: Buffer | undefined;

  private constructor(addon: UringAddon, entries: number, private readonly directWrites: DirectWrites) {
    const ring = new UringRing(addon, entries);
    this.oDirect = addon.O_DIRECT;
    this.fadviseRandom = addon.fadviseRandom;
    this.context = {
      ring,
      pool: new AlignedBufferPool(addon.allocAligned),
      zeros: () => (this.zeroChunk ??= addon.allocAligned(ZERO_CHUNK_BYTES, PAGE_BYTES)),
    };
  }

  /** Sets up a ring; throws the kernel's error (`EPERM`, `ENOSYS`, …) when io_uring is unavailable. */
  static create(addon: UringAddon, options: UringFileIOOptions = {}): UringFileIO {
    return new UringFileIO(addon, options.entries ?? RING_ENTRIES, options.directWrites ?? DirectWrites.synced);
  }

  async open(path: string, options: { create: boolean }): Promise<FileHandle> {
    const flags = options.create ? fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL : fs.constants.O_RDWR;
    const fd = fs.openSync(path, flags, 0o644);
    let directFd = -1;
    if (this.directWrites !== DirectWrites.never) {
      try {
        directFd = fs.openSync(path, fs.constants.O_RDWR | this.oDirect);
      } catch (error) {
        // EINVAL: the filesystem has no O_DIRECT; this file then takes the page-cache path.
        if ((error as NodeJS.ErrnoException).code !== 'EINVAL') {
          fs.closeSync(fd);
          throw error;
        }
      }
    }
    // No readahead on the buffered fd: it must never pull in a page that a direct write is rewriting
    // (see uring-file-handle.ts, "Reads"). Advisory; a failure only costs that guarantee's margin.
    if (directFd >= 0) this.fadviseRandom(fd);
    return new UringFileHandle(path, fd, directFd, fs.fstatSync(fd).size, this.context, this.directWrites === DirectWrites.always);
  }

  mkdirp(path: string): Promise<void> {
    return this.dirs.mkdirp(path);
  }

  readdir(path: string): Promise<string[]> {
    return this.dirs.readdir(path);
  }

  unlink(path: string): Promise<void> {
    return this.dirs.unlink(path);
  }

  rename(from: string, to: string): Promise<void> {
    return this.dirs.rename(from, to);
  }

  syncDir(path: string): Promise<void> {
    return this.dirs.syncDir(path);
  }

  readFile(path: string): Promise<Buffer | null> {
    return this.dirs.readFile(path);
  }

  /**
   * Releases the ring once every handle's I/O has completed. Not part of FileIO: an idle ring
   * neither keeps the process alive nor leaks beyond garbage collection, but tests and benches that
   * make many instances close them promptly.
   */
  close(): void {
    this.context.ring.close();
  }
}
