/**
 * One io_uring instance (raw io_uring_setup/io_uring_enter; completions delivered on the Node event
 * loop through an eventfd watched by libuv, never blocking it).
 *
 * Every submission carries a caller-chosen id in 0..2^31-1. When completions arrive, the ring writes
 * `(id, res)` pairs into `completions` and calls `onComplete(pairCount)` once per drain. `res` is the
 * byte count (writes, reads), 0 (fsync) or a negative errno (`-ENOSPC`, `-ECANCELED` for the sync of a
 * link whose write failed or was short).
 *
 * Buffers passed to a submission must stay alive and unchanged until its completion; the ring does
 * not reference them. An idle ring neither keeps the process alive nor pins its callback.
 */
export declare class Ring {
  /** `entries` in 1..4096 (the kernel rounds up to a power of two; the CQ holds twice as many). */
  constructor(entries: number, onComplete: (pairCount: number) => void, completions: Int32Array);
  readonly sqEntries: number;
  readonly cqEntries: number;
  /** `io_uring_params.features` bits. */
  readonly features: number;
  /** Completions (CQEs) still expected. */
  readonly inflight: number;
  /** IORING_OP_WRITE of `buffer` at `position`; when `syncId >= 0`, linked (IOSQE_IO_LINK) to an fdatasync completing as `syncId`. */
  write(id: number, fd: number, buffer: Uint8Array, position: number, syncId: number): void;
  /** IORING_OP_WRITEV of 1..1024 buffers at `position`; `syncId` as in `write`. */
  writev(id: number, fd: number, buffers: readonly Uint8Array[], position: number, syncId: number): void;
  /** IORING_OP_FSYNC, with IORING_FSYNC_DATASYNC when `datasync`. */
  fsync(id: number, fd: number, datasync: boolean): void;
  /** IORING_OP_READ of up to `buffer.byteLength` bytes at `position`. */
  read(id: number, fd: number, buffer: Uint8Array, position: number): void;
  /** Unmaps and closes the ring; throws while operations are in flight. Idempotent. */
  close(): void;
}

/** A zero-filled Buffer of `bytes` whose memory starts on an `alignment` boundary (for O_DIRECT). */
export declare function allocAligned(bytes: number, alignment: number): Buffer;

/** The O_DIRECT open flag of this platform. */
export declare const O_DIRECT: number;

/** posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM): turns readahead off for this descriptor. Returns 0 or a positive errno. */
export declare function fadviseRandom(fd: number): number;

/**
 * A Buffer over bytes [0, length) of the open file `fd`, mapped copy-on-write (PROT_READ | PROT_WRITE,
 * MAP_PRIVATE): reads share the page cache (on Linux, pages not written through the Buffer show writes
 * made to the file), and writing into the Buffer copies the page privately: it never faults and never
 * reaches the file. Throws a RangeError when
 * `length` is not an integer in 1..64 GiB or exceeds the file's current size (touching a page past the
 * end would raise SIGBUS), a TypeError when `fd` is not a regular file, a Node-style error (`code`,
 * negative `errno`, `syscall`) when fstat or mmap fail. `fd` may be closed afterwards. The memory is
 * unmapped by the Buffer's finalizer, once neither it nor any view of it is reachable; so the caller
 * must never truncate the file while a mapping may live (unlinking it is harmless).
 */
export declare function mapFile(fd: number, length: number): Buffer;

/**
 * Tells the addon that the owner of a `mapFile` Buffer has dropped it: its length is reported to V8 as
 * external memory once more (on top of V8's own count of the ArrayBuffer) until the finalizer unmaps
 * it, so that a major collection, the only way to unmap it and free a deleted file's disk blocks,
 * starts soon. Idempotent; TypeError for any other value.
 */
export declare function retireMapping(buffer: Buffer): void;

/**
 * For i < count: the log entry whose 32-byte header starts at byte `spans[2i]` of `buffer`, with a
 * payload of `spans[2i + 1]` bytes right after the header, gets in its first 4 bytes (little-endian)
 * zlib's crc32, seeded with `seed`, of header bytes 4..31 and the payload: the same value node:zlib's
 * `crc32` gives. RangeError (and no byte written) when an entry lies outside the buffer or `count`
 * exceeds the spans; TypeError for other argument types.
 */
export declare function crc32Entries(buffer: Uint8Array, spans: Float64Array, count: number, seed: number): void;
/**
 * zlib's crc32 of `data` seeded with `seed` (the value node:zlib's `crc32(data, seed)` gives), folded
 * with PCLMULQDQ where the CPU has it (see `crc32Folds`), else computed by zlib's own code.
 */
export declare function crc32(data: Uint8Array, seed: number): number;
/** True when `crc32` and `crc32Entries` take the carry-less multiply (PCLMULQDQ) path on this CPU. */
export declare function crc32Folds(): boolean;
