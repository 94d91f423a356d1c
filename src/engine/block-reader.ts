/**
 * Reading entries back out of blocks: offset-addressed batch reads for consumers, the index walk for
 * recovered blocks, and the tail scan recovery uses to find where valid data ends.
 *
 * Every returned entry has passed its checksum and sits at the offset the log expects; anything else
 * inside the visible range is corruption and raises CorruptEntryError, never a silent skip. That holds
 * for both read paths: pread into a fresh buffer, or views of a frozen segment's mapping (mmap).
 */
import { entryChecksumMatches, isEmptyHeader, readEntryHeader, type Crc32 } from './entry-format.js';
import { CorruptEntryError } from './errors.js';
import { BLOCK_HEADER_BYTES, ENTRY_HEADER_BYTES, READ_CHUNK_BYTES } from './limits.js';
import type { Block } from './block.js';
import type { SegmentMapper } from './segment-mapper.js';
import type { ReadPosition, TopicLog } from './topic-log.js';
import type { Entry } from './types.js';

/** Reads up to `length` bytes of `block` starting at relative `position`; shorter only at end of file. */
async function readUpTo(block: Block, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  block.segment.pin();
  try {
    const n = await block.segment.handle.read(buf, 0, length, block.start + position);
    return n < length ? buf.subarray(0, n) : buf;
  } finally {
    block.segment.unpin();
  }
}

/** Reads exactly `length` bytes of `block` at relative `position`; a short read means the file lost data. */
async function readRange(block: Block, position: number, length: number): Promise<Buffer> {
  const buf = await readUpTo(block, position, length);
  if (buf.length < length) throw new CorruptEntryError(`short read in segment ${block.segment.id} at ${block.start + position}: ${buf.length} of ${length} bytes`);
  return buf;
}

function corrupt(block: Block, position: number, detail: string): CorruptEntryError {
  return new CorruptEntryError(
    `corrupt entry in topic "${block.topic}" (segment ${block.segment.id}, block ${block.seq}, byte ${position}): ${detail}`,
  );
}

/** Walks a recovered block once to fill its sparse index. */
export async function ensureIndex(block: Block): Promise<void> {
  if (block.indexComplete) return;
  let position = BLOCK_HEADER_BYTES;
  let offset = block.firstOffset;
  const end = block.writtenEnd;
  while (position < end) {
    const chunk = await readRange(block, position, Math.min(READ_CHUNK_BYTES, end - position));
    let at = 0;
    while (at + ENTRY_HEADER_BYTES <= chunk.length) {
      const length = chunk.readUInt32LE(at + 4);
      if (position + at + ENTRY_HEADER_BYTES + length > end) throw corrupt(block, position + at, 'length runs past the block');
      block.noteEntry(offset, position + at);
      offset++;
      at += ENTRY_HEADER_BYTES + length;
      if (at > chunk.length) break;
    }
    if (at === 0) throw corrupt(block, position, 'header cut off');
    position += at;
  }
  block.indexComplete = true;
}

/** Where the entry at `offset` starts inside `block`: from the topic's position cache or the sparse index. */
async function locate(topic: TopicLog, block: Block, offset: number): Promise<ReadPosition> {
  const cached = topic.recallPosition(offset);
  if (cached && cached.block === block) return cached;
  await ensureIndex(block);
  const hint = block.seekHint(offset);
  return { block, offset: hint.offset, position: hint.position };
}

/**
 * The rest of `block`'s visible bytes from relative `position`, as a view of its segment's mapping;
 * null when the segment is not mapped or the mapping stops short (a damaged file shorter than its
 * geometry: pread then reports the short read as corruption).
 */
function mappedRange(mapper: SegmentMapper | null, block: Block, position: number, visibleEnd: number): Buffer | null {
  if (mapper === null) return null;
  const mapping = mapper.mappingFor(block.segment);
  if (mapping === null || block.start + visibleEnd > mapping.length) return null;
  return mapping.subarray(block.start + position, block.start + visibleEnd);
}

/**
 * Reads visible entries from `from` in offset order until `maxBytes` of payload or `maxEntries`
 * entries; always at least one entry when one is visible, even if it alone exceeds `maxBytes`.
 * With a `mapper` (reads: 'mmap'), entries of frozen segments are views of the mapping, not copies.
 */
export async function readEntries(topic: TopicLog, from: number, maxBytes: number, maxEntries: number, mapper: SegmentMapper | null, crc: Crc32): Promise<Entry[]> {
  const out: Entry[] = [];
  let payloadBytes = 0;
  let offset = Math.max(from, topic.firstOffset);
  while (out.length < maxEntries && offset < topic.visibleNext) {
    const block = topic.findBlock(offset);
    if (!block || offset >= block.visibleNextOffset) break;
    const start = await locate(topic, block, offset);
    let position = start.position;
    let at = start.offset;
    const visibleEnd = block.visibleEnd;
    // Size the read by what can be returned: a readNext needs a page, not a 256 KiB chunk.
    const remaining = maxEntries - out.length;
    const byEntries = Math.max(4096, remaining * (1024 + ENTRY_HEADER_BYTES));
    const byBytes = Math.max(READ_CHUNK_BYTES, maxBytes - payloadBytes + 64 * ENTRY_HEADER_BYTES);
    const budget = Math.min(byEntries, byBytes);
    // A mapped block comes whole (a view costs nothing), so the loop below never refills it.
    let chunk = mappedRange(mapper, block, position, visibleEnd) ?? (await readRange(block, position, Math.min(budget, visibleEnd - position)));
    let cut = 0;
    let done = false;
    while (position < visibleEnd && out.length < maxEntries) {
      if (cut + ENTRY_HEADER_BYTES > chunk.length) {
        if (out.length > 0 && at > offset) break; // chunk exhausted: return what we have
        chunk = await readRange(block, position, Math.min(READ_CHUNK_BYTES, visibleEnd - position));
        cut = 0;
        if (chunk.length < ENTRY_HEADER_BYTES) throw corrupt(block, position, 'header cut off');
      }
      const header = readEntryHeader(chunk, cut);
      const total = ENTRY_HEADER_BYTES + header.length;
      if (position + total > visibleEnd) throw corrupt(block, position, `length ${header.length} runs past the written data`);
      if (header.offset !== at) throw corrupt(block, position, `offset ${header.offset} where ${at} was expected`);
      if (at >= offset && out.length > 0 && payloadBytes + header.length > maxBytes) {
        done = true;
        break;
      }
      if (cut + total > chunk.length) {
        // Entry straddles the chunk end: fetch exactly it.
        chunk = await readRange(block, position, total);
        cut = 0;
      }
      if (at >= offset) {
        // Entries skipped on the way to `offset` need only their length; the ones returned must verify.
        if (!entryChecksumMatches(chunk, cut, header.length, block.seed, crc)) throw corrupt(block, position, 'checksum mismatch');
        const data = chunk.subarray(cut + ENTRY_HEADER_BYTES, cut + total);
        out.push({ offset: at, timestamp: header.timestamp, data });
        payloadBytes += header.length;
      }
      cut += total;
      position += total;
      at++;
      if (at >= block.visibleNextOffset) break;
    }
    if (at > offset) {
      if (at < block.visibleNextOffset) topic.rememberPosition({ block, offset: at, position });
      offset = at;
    } else {
      break;
    }
    if (done) break;
  }
  return out;
}

/** Relative byte position where the entry at `offset` starts (or the written end, for the next offset). */
export async function positionOf(block: Block, offset: number): Promise<number> {
  await ensureIndex(block);
  const hint = block.seekHint(offset);
  let position = hint.position;
  for (let at = hint.offset; at < offset; at++) {
    const head = await readRange(block, position, ENTRY_HEADER_BYTES);
    position += ENTRY_HEADER_BYTES + head.readUInt32LE(4);
  }
  return position;
}

/** Result of scanning a block's tail during recovery. */
export interface TailScan {
  /** Relative byte position where valid data ends. */
  end: number;
  /** Valid entries from the start of the block. */
  count: number;
  /** Why the scan stopped. */
  stop: 'end-of-block' | 'empty' | 'torn';
  /** Human-readable detail when `stop` is `torn`. */
  detail?: string;
}

/**
 * Walks entries from (`position`, `offset`) and returns where valid data ends. An atomic batch counts
 * only when its last entry (remaining = 0) is valid: a batch cut short is cut off entirely.
 * `known` is the number of entries before `position`.
 */
export async function scanTail(block: Block, position: number, known: number, crc: Crc32): Promise<TailScan> {
  const capacity = block.capacity;
  let committedEnd = position;
  let committedCount = known;
  let pos = position;
  let count = known;
  let expectRemaining = -1; // -1: not inside a batch
  while (pos + ENTRY_HEADER_BYTES <= capacity) {
    const head = await readUpTo(block, pos, ENTRY_HEADER_BYTES);
    if (head.length < ENTRY_HEADER_BYTES || isEmptyHeader(head, 0)) {
      return { end: committedEnd, count: committedCount, stop: expectRemaining >= 0 ? 'torn' : 'empty', detail: expectRemaining >= 0 ? 'batch cut short' : undefined };
    }
    const header = readEntryHeader(head, 0);
    const total = ENTRY_HEADER_BYTES + header.length;
    const offset = block.firstOffset + count;
    const torn = (detail: string): TailScan => ({ end: committedEnd, count: committedCount, stop: 'torn', detail });
    if (pos + total > capacity) return torn(`length ${header.length} runs past the block`);
    if (header.offset !== offset) return torn(`offset ${header.offset} where ${offset} was expected`);
    if (expectRemaining >= 0 && header.remaining !== expectRemaining) return torn('batch sequence broken');
    const whole = await readUpTo(block, pos, total);
    if (whole.length < total) return torn('entry cut off by the end of the file');
    if (!entryChecksumMatches(whole, 0, header.length, block.seed, crc)) return torn('checksum mismatch');
    block.noteEntry(offset, pos);
    if (header.timestamp > block.lastTimestamp) block.lastTimestamp = header.timestamp;
    pos += total;
    count++;
    if (header.remaining === 0) {
      committedEnd = pos;
      committedCount = count;
      expectRemaining = -1;
    } else {
      expectRemaining = header.remaining - 1;
    }
  }
  if (expectRemaining >= 0) return { end: committedEnd, count: committedCount, stop: 'torn', detail: 'batch cut short at block end' };
  return { end: committedEnd, count: committedCount, stop: 'end-of-block' };
}
