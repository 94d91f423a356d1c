/**
 * Block header codec. A block is a run of one or more consecutive slots of a segment owned by one
 * topic; it opens with this 512-byte header, then entries (entry-format.ts).
 *
 *   0  u32  crc          zlib crc32 over bytes 4..511
 *   4  u32  magic        0x424c5257 ("WRLB")
 *   8  u16  version      format version (1)
 *  10  u16  slotCount    slots this block spans
 *  12  u32  reserved     0
 *  16  u64  seq          global block sequence number, increasing across restarts
 *  24  u64  firstOffset  topic offset of the block's first entry
 *  32  u32  epoch        replication epoch of the writer that allocated the block
 *  36  u16  topicLength  bytes of the topic name
 *  38  …    topic        ASCII topic name (≤ 249 bytes), then zero padding to 512
 */
import { isValidHeader, newHeader, sealHeader } from './fixed-header.js';
import { BLOCK_HEADER_BYTES } from './limits.js';
import { readU64, writeU64 } from './u64.js';

export const BLOCK_MAGIC = 0x424c5257;
export { FORMAT_VERSION } from './fixed-header.js';

/** Identity of a block as stored in its header. */
export interface BlockHeader {
  slotCount: number;
  seq: number;
  firstOffset: number;
  epoch: number;
  topic: string;
}

/** Encodes a block header into a fresh 512-byte buffer. */
export function encodeBlockHeader(header: BlockHeader): Buffer {
  const buf = newHeader(BLOCK_HEADER_BYTES, BLOCK_MAGIC);
  buf.writeUInt16LE(header.slotCount, 10);
  writeU64(buf, header.seq, 16);
  writeU64(buf, header.firstOffset, 24);
  buf.writeUInt32LE(header.epoch >>> 0, 32);
  const written = buf.write(header.topic, 38, 'latin1');
  buf.writeUInt16LE(written, 36);
  return sealHeader(buf);
}

/** Decodes a block header, or returns null when the bytes are not a valid header of this format. */
export function decodeBlockHeader(buf: Buffer): BlockHeader | null {
  if (!isValidHeader(buf, BLOCK_HEADER_BYTES, BLOCK_MAGIC)) return null;
  const topicLength = buf.readUInt16LE(36);
  return {
    slotCount: buf.readUInt16LE(10),
    seq: readU64(buf, 16),
    firstOffset: readU64(buf, 24),
    epoch: buf.readUInt32LE(32),
    topic: buf.toString('latin1', 38, 38 + topicLength),
  };
}

/** The crc seed of every entry in the block with sequence number `seq`. */
export function blockSeed(seq: number): number {
  return (seq * 0x9e3779b1) >>> 0;
}
