/**
 * Whole-range positioned reads and writes with the synchronous syscalls, shared by the fs backend and
 * the uring backend's page-cache path: page-cache I/O of a few hundred KiB costs a few µs this way,
 * less than a thread-pool hop (shared/reference/platform-notes.md).
 */
import fs from 'node:fs';

/** Writes every byte of `buffers` at `position`, going again after a short write. */
export function writevFully(fd: number, buffers: readonly Uint8Array[], position: number, path: string): void {
  let pending = buffers as Uint8Array[];
  let at = position;
  for (;;) {
    let expected = 0;
    for (const b of pending) expected += b.byteLength;
    const written = fs.writevSync(fd, pending, at);
    if (written >= expected) return;
    if (written === 0) {
      // No progress at all: report an I/O error rather than spin.
      throw Object.assign(new Error(`EIO: write made no progress, pwritev '${path}'`), { code: 'EIO', syscall: 'pwritev', path });
    }
    pending = dropFront(pending, written);
    at += written;
  }
}

/** Reads up to `length` bytes at `position`; fewer only at end of file. */
export function preadFully(fd: number, buffer: Uint8Array, bufferOffset: number, length: number, position: number): number {
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, buffer, bufferOffset + done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/** The buffers left after the first `bytes` bytes were written. */
export function dropFront(buffers: readonly Uint8Array[], bytes: number): Uint8Array[] {
  const rest: Uint8Array[] = [];
  let skip = bytes;
  for (const b of buffers) {
    if (skip >= b.byteLength) {
      skip -= b.byteLength;
      continue;
    }
    rest.push(skip > 0 ? b.subarray(skip) : b);
    skip = 0;
  }
  return rest;
}
