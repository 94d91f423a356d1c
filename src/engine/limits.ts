import assert from 'node:assert';

/** Most entries one atomic batch may carry (the Walrus limit); more is a BatchTooLargeError. */
export const BATCH_ENTRIES_MAX = 2000;
/** Most entries one batch read returns (the Walrus limit). */
export const READ_ENTRIES_MAX = 2000;
/** Longest topic or cursor name in bytes; names are ASCII so bytes = characters. */
export const NAME_BYTES_MAX = 249;

/** Bytes before each payload: crc, length, offset, timestamp, epoch, batch position, flags. */
export const ENTRY_HEADER_BYTES = 32;
/** Bytes at the start of each block run: identity of the block (topic, sequence, first offset). One sector. */
export const BLOCK_HEADER_BYTES = 512;
/** Bytes at the start of each segment file before its first slot; one page keeps slots page-aligned. */
export const SEGMENT_HEADER_BYTES = 4096;

/** Default slot size: big enough that seals are rare, small enough that idle topics waste little. */
export const BLOCK_BYTES_DEFAULT = 4 * 1024 * 1024;
/** Default slots per segment: 64 MiB files, so one fdatasync covers many topics and reclaim is coarse but cheap. */
export const BLOCKS_PER_SEGMENT_DEFAULT = 16;
/** Default largest payload; matches the broker's default 16 MiB frame. */
export const ENTRY_BYTES_MAX_DEFAULT = 16 * 1024 * 1024;
/** Default checkpoint cadence in appended bytes: restart scans at most about this much tail. */
export const CHECKPOINT_BYTES_INTERVAL_DEFAULT = 64 * 1024 * 1024;
/** Distance in bytes between sparse-index points inside a block; bounds the scan to find an offset. */
export const SPARSE_INDEX_BYTES = 32 * 1024;
/** Chunk read from disk when scanning or serving reads. */
export const READ_CHUNK_BYTES = 256 * 1024;
/** Cursor log size that triggers compaction into a fresh snapshot. */
export const CURSOR_LOG_BYTES_MAX = 8 * 1024 * 1024;
/** Default payload budget of one batch read (readFrom without maxBytes). */
export const READ_BYTES_DEFAULT = 1024 * 1024;

assert(BLOCK_BYTES_DEFAULT % 4096 === 0);
assert(BLOCK_HEADER_BYTES + ENTRY_HEADER_BYTES + ENTRY_BYTES_MAX_DEFAULT <= BLOCK_BYTES_DEFAULT * BLOCKS_PER_SEGMENT_DEFAULT);
assert(BATCH_ENTRIES_MAX < 0xffff); // batch position is a u16 in the entry header
