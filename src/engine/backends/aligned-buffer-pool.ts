/**
 * Reusable page-aligned staging buffers for O_DIRECT writes.
 *
 * Sizing: buffers come in power-of-two page counts from 1 page to `POOLED_BYTES_MAX` (1 MiB), at most
 * `POOLED_PER_CLASS_MAX` kept per class, so the pool never holds more than ~2 MiB × 8 = 16 MiB.
 * Larger requests get a fresh buffer that the garbage collector frees (the addon reports its size to
 * V8). Correctness does not depend on reuse: a buffer is handed out to one write at a time and
 * returned only after the kernel has completed that write.
 */
import assert from 'node:assert';

/** Alignment and granularity of O_DIRECT I/O: the 4 KiB page, a multiple of every logical block size we meet. */
export const PAGE_BYTES = 4096;
/** Largest buffer kept for reuse; one group-commit cycle of small entries fits comfortably. */
export const POOLED_BYTES_MAX = 1024 * 1024;
/** Buffers kept per size class; bounds idle memory. */
export const POOLED_PER_CLASS_MAX = 8;

/** Pool of page-aligned buffers over the addon's `allocAligned`. */
export class AlignedBufferPool {
  private readonly classes: Buffer[][] = [];

  constructor(private readonly allocAligned: (bytes: number, alignment: number) => Buffer) {}

  /** A page-aligned buffer of at least `bytes` (a multiple of PAGE_BYTES). Contents are arbitrary. */
  take(bytes: number): Buffer {
    assert(bytes > 0 && bytes % PAGE_BYTES === 0);
    if (bytes > POOLED_BYTES_MAX) return this.allocAligned(bytes, PAGE_BYTES);
    const index = classIndex(bytes);
    const free = this.classes[index];
    if (free !== undefined && free.length > 0) return free.pop()!;
    return this.allocAligned(PAGE_BYTES << index, PAGE_BYTES);
  }

  /** Returns a buffer from `take` once no I/O references it. */
  give(buffer: Buffer): void {
    if (buffer.byteLength > POOLED_BYTES_MAX) return;
    const index = classIndex(buffer.byteLength);
    if (PAGE_BYTES << index !== buffer.byteLength) return;
    const free = (this.classes[index] ??= []);
    if (free.length < POOLED_PER_CLASS_MAX) free.push(buffer);
  }
}

/** log2 of the page count rounded up to a power of two. */
function classIndex(bytes: number): number {
  const pages = Math.ceil(bytes / PAGE_BYTES);
  return 32 - Math.clz32(pages - 1);
}
