/**
 * The pure-`fs` backend of the engine's I/O seam.
 *
 * Writes and reads use the synchronous syscalls on the calling thread: for page-cache I/O of a few
 * hundred KiB they cost a few µs, far less than a thread-pool hop (~30 µs measured here, see
 * shared/reference/platform-notes.md). fdatasync and zero-filling go to libuv's thread pool so the
 * event loop keeps serving while the disk works; the engine overlaps the next cycle's writes with them.
 */
import fs from 'node:fs';
import { promisify } from 'node:util';
import type { FileHandle, FileIO } from './file-io.js';
import { preadFully, writevFully } from './sync-io.js';

const fdatasync = promisify(fs.fdatasync);
const fsync = promisify(fs.fsync);
const write = promisify(fs.write);
const close = promisify(fs.close);
const ftruncate = promisify(fs.ftruncate);

/** Zero buffer reused for preallocation; 1 MiB per write keeps syscalls few and memory small. */
const ZERO_CHUNK_BYTES = 1024 * 1024;

/** FileIO over node:fs. Stateless apart from the shared zero buffer, so one instance may serve many engines. */
export class FsFileIO implements FileIO {
  readonly name = 'fs';
  private readonly zeros = Buffer.alloc(ZERO_CHUNK_BYTES);

  async open(path: string, options: { create: boolean }): Promise<FileHandle> {
    const flags = options.create ? fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL : fs.constants.O_RDWR;
    const fd = fs.openSync(path, flags, 0o644);
    return new FsFileHandle(path, fd, this.zeros);
  }

  async mkdirp(path: string): Promise<void> {
    fs.mkdirSync(path, { recursive: true });
  }

  async readdir(path: string): Promise<string[]> {
    return fs.readdirSync(path);
  }

  async unlink(path: string): Promise<void> {
    fs.unlinkSync(path);
  }

  async rename(from: string, to: string): Promise<void> {
    fs.renameSync(from, to);
  }

  async syncDir(path: string): Promise<void> {
    const fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    try {
      await fsync(fd);
    } finally {
      fs.closeSync(fd);
    }
  }

  async readFile(path: string): Promise<Buffer | null> {
    try {
      return fs.readFileSync(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }
}

class FsFileHandle implements FileHandle {
  constructor(
    readonly path: string,
    private readonly fd: number,
    private readonly zeros: Buffer,
  ) {}

  async size(): Promise<number> {
    return fs.fstatSync(this.fd).size;
  }

  async writev(buffers: readonly Uint8Array[], position: number): Promise<void> {
    writevFully(this.fd, buffers, position, this.path);
  }

  datasync(): Promise<void> {
    return fdatasync(this.fd);
  }

  async read(buffer: Uint8Array, bufferOffset: number, length: number, position: number): Promise<number> {
    return preadFully(this.fd, buffer, bufferOffset, length, position);
  }

  truncate(length: number): Promise<void> {
    return ftruncate(this.fd, length);
  }

  async preallocateZeroed(length: number): Promise<void> {
    const current = fs.fstatSync(this.fd).size;
    for (let at = current; at < length; at += ZERO_CHUNK_BYTES) {
      const n = Math.min(ZERO_CHUNK_BYTES, length - at);
      await write(this.fd, this.zeros, 0, n, at);
    }
  }

  close(): Promise<void> {
    return close(this.fd);
  }
}
