/**
 * Segment file header codec. A segment file is this 4096-byte header, then `slotCount` slots of
 * `slotBytes` each, zero-filled when the file is created.
 *
 *   0  u32  crc        zlib crc32 over bytes 4..4095
 *   4  u32  magic      0x53524c57 ("WLRS")
 *   8  u16  version    format version (1)
 *  10  u16  reserved   0
 *  12  u32  slotBytes
 *  16  u32  slotCount
 *  20  u64  segmentId  also the file name: <20-digit id>.seg
 */
import { isValidHeader, newHeader, sealHeader } from './fixed-header.js';
import { SEGMENT_HEADER_BYTES } from './limits.js';
import { readU64, writeU64 } from './u64.js';

export const SEGMENT_MAGIC = 0x53524c57;

/** What a segment file says about itself. */
export interface SegmentHeader {
  id: number;
  slotBytes: number;
  slotCount: number;
}

export function encodeSegmentHeader(header: SegmentHeader): Buffer {
  const buf = newHeader(SEGMENT_HEADER_BYTES, SEGMENT_MAGIC);
  buf.writeUInt32LE(header.slotBytes, 12);
  buf.writeUInt32LE(header.slotCount, 16);
  writeU64(buf, header.id, 20);
  return sealHeader(buf);
}

/** Decodes a segment header; null when the bytes are not a valid header (e.g. a torn create). */
export function decodeSegmentHeader(buf: Buffer): SegmentHeader | null {
  if (!isValidHeader(buf, SEGMENT_HEADER_BYTES, SEGMENT_MAGIC)) return null;
  return {
    slotBytes: buf.readUInt32LE(12),
    slotCount: buf.readUInt32LE(16),
    id: readU64(buf, 20),
  };
}

/** File name of segment `id`: zero-padded so lexical order is numeric order. */
export function segmentFileName(id: number): string {
  return `${String(id).padStart(20, '0')}.seg`;
}

/** Parses a segment file name back into its id, or null for other files. */
export function parseSegmentFileName(name: string): number | null {
  const m = /^(\d{20})\.seg$/.exec(name);
  return m ? Number(m[1]) : null;
}
