/**
 * The one narrow seam through which the engine touches files.
 *
 * Every backend implements it: the pure `fs` backend (fs-file-io.ts), the native io_uring addon
 * (native/, issue 8) and the fault-injecting power-loss double used by the crash tests. The engine's
 * logic never imports `node:fs` for segment, checkpoint or cursor files; only this interface.
 *
 * Contract shared by all backends:
 * - `writev` writes every byte or rejects (short writes are retried inside the backend).
 * - `datasync` makes every byte written to that handle before the call durable (fdatasync semantics).
 * - Errors are Node-style errors carrying `code` (`ENOSPC`, `EIO`, …); the engine maps them to its
 *   typed errors.
 */
export interface FileIO {
  /** Short name reported by `wal.backend` (`fs`, `uring`, `mem`). */
  readonly name: string;
  /** Opens a file for read/write. `create: true` fails with EEXIST when the file exists. */
  open(path: string, options: { create: boolean }): Promise<FileHandle>;
  /** Creates a directory and its parents; no error when it exists. */
  mkdirp(path: string): Promise<void>;
  /** File names (not paths) in a directory. */
  readdir(path: string): Promise<string[]>;
  unlink(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  /** fsyncs a directory so that creates, renames and unlinks in it survive power loss. */
  syncDir(path: string): Promise<void>;
  /** Whole-file read, or `null` when the file does not exist. */
  readFile(path: string): Promise<Buffer | null>;
}

/** An open file. Positions and lengths are in bytes. */
export interface FileHandle {
  readonly path: string;
  size(): Promise<number>;
  /** Writes all buffers back to back starting at `position`. */
  writev(buffers: readonly Uint8Array[], position: number): Promise<void>;
  /**
   * Optional: write then fdatasync as one operation (io_uring links them in one submission), settling
   * once both are done. `onWritten` runs when every byte is written, before the sync completes: from
   * then on the caller's buffers are free again. When absent the engine calls `writev` then `datasync`.
   */
  writevAndSync?(buffers: readonly Uint8Array[], position: number, onWritten?: () => void): Promise<void>;
  datasync(): Promise<void>;
  /** Reads up to `length` bytes into `buffer` at `bufferOffset`; returns the count (short at EOF). */
  read(buffer: Uint8Array, bufferOffset: number, length: number, position: number): Promise<number>;
  truncate(length: number): Promise<void>;
  /** Extends the file to `length` bytes of real, zero-filled blocks (not a sparse hole). */
  preallocateZeroed(length: number): Promise<void>;
  /**
   * Optional: the bytes in [from, to) are leftovers the caller will never read before overwriting
   * them, so a backend that rewrites whole pages may take them for zeros instead of reading them back
   * (the uring backend's O_DIRECT writes). Used for a recycled segment file.
   */
  discard?(from: number, to: number): void;
  close(): Promise<void>;
}

/**
 * Read-only mappings of whole files, for the mmap read path (src/engine/segment-mapper.ts). The one
 * implementation is the native addon's (backends/mmap-file-mapper.ts). Contract: `map` never maps past
 * the file's end (it maps exactly its current size), and the memory stays valid while the returned
 * Buffer or any view of it is reachable, even after the file is unlinked; the caller must never
 * truncate a file it mapped.
 */
export interface FileMapper {
  /** Maps the whole file at `path` copy-on-write (never written back); throws when it cannot (the caller reads with pread then). */
  map(path: string): Buffer;
  /** The caller dropped `bytes` (its file was deleted): the garbage collector alone unmaps it now. */
  retire(bytes: Buffer): void;
}
