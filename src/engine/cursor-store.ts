/**
 * Durable cursor positions: an append-only log of small checksummed records, compacted into a fresh
 * snapshot when it grows past CURSOR_LOG_BYTES_MAX. Writes and syncs ride the engine's group commit.
 *
 * Record layout (little-endian):
 *   0  u32  crc         zlib crc32 over bytes 4..end
 *   4  u16  bodyLength  bytes after this field
 *   6  u8   type        1 set, 2 drop every cursor of a topic, 3 drop one cursor
 *   7  u8   topicLength, then the topic
 *   …  u8   cursorLength, then the cursor (0 for type 2)
 *   …  u64  position    (low u32, high u32; 0 for types 2 and 3)
 * A torn or corrupt record ends the log: it and everything after it are cut off at open.
 */
import { crc32 } from 'node:zlib';
import { join } from 'node:path';
import type { FileHandle, FileIO } from './file-io.js';
import { readU64, writeU64 } from './u64.js';

const TYPE_SET = 1;
const TYPE_DROP_TOPIC = 2;
const TYPE_DROP_CURSOR = 3;
const FILE_NAME = 'cursors.log';

/** topic → cursor → position */
export type CursorPositions = Map<string, Map<string, number>>;

function encodeRecord(type: number, topic: string, cursor: string, position: number): Buffer {
  const topicBytes = Buffer.byteLength(topic, 'latin1');
  const cursorBytes = Buffer.byteLength(cursor, 'latin1');
  const bodyLength = 1 + 1 + topicBytes + 1 + cursorBytes + 8;
  const buf = Buffer.allocUnsafe(6 + bodyLength);
  buf.writeUInt16LE(bodyLength, 4);
  let at = 6;
  buf[at++] = type;
  buf[at++] = topicBytes;
  at += buf.write(topic, at, 'latin1');
  buf[at++] = cursorBytes;
  at += buf.write(cursor, at, 'latin1');
  writeU64(buf, position, at);
  buf.writeUInt32LE(crc32(buf.subarray(4)), 0);
  return buf;
}

/** Record that sets `cursor` of `topic` to `position`. */
export const encodeCursorSet = (topic: string, cursor: string, position: number): Buffer => encodeRecord(TYPE_SET, topic, cursor, position);
/** Record that forgets every cursor of `topic`. */
export const encodeTopicDrop = (topic: string): Buffer => encodeRecord(TYPE_DROP_TOPIC, topic, '', 0);
/** Record that forgets one cursor. */
export const encodeCursorDrop = (topic: string, cursor: string): Buffer => encodeRecord(TYPE_DROP_CURSOR, topic, cursor, 0);

/** Parses records until the first invalid one; returns the positions and the valid length. */
export function parseCursorLog(bytes: Buffer): { positions: CursorPositions; validLength: number } {
  const positions: CursorPositions = new Map();
  let at = 0;
  while (at + 6 <= bytes.length) {
    const bodyLength = bytes.readUInt16LE(at + 4);
    const end = at + 6 + bodyLength;
    if (bodyLength < 11 || end > bytes.length) break;
    if (crc32(bytes.subarray(at + 4, end)) !== bytes.readUInt32LE(at)) break;
    let p = at + 6;
    const type = bytes[p++];
    const topicLength = bytes[p++];
    const topic = bytes.toString('latin1', p, p + topicLength);
    p += topicLength;
    const cursorLength = bytes[p++];
    const cursor = bytes.toString('latin1', p, p + cursorLength);
    p += cursorLength;
    const position = readU64(bytes, p);
    if (type === TYPE_SET) {
      let m = positions.get(topic);
      if (!m) positions.set(topic, (m = new Map()));
      m.set(cursor, position);
    } else if (type === TYPE_DROP_TOPIC) {
      positions.delete(topic);
    } else if (type === TYPE_DROP_CURSOR) {
      positions.get(topic)?.delete(cursor);
    } else {
      break;
    }
    at = end;
  }
  return { positions, validLength: at };
}

/** The cursor log file: loads at open, appends records, compacts. */
export class CursorStore {
  private constructor(
    private readonly io: FileIO,
    private readonly dir: string,
    private handleValue: FileHandle,
    private length: number,
  ) {}

  /** Opens (or creates) the log, cutting off a torn tail. */
  static async open(io: FileIO, dir: string): Promise<{ store: CursorStore; positions: CursorPositions; cutBytes: number }> {
    const path = join(dir, FILE_NAME);
    const bytes = (await io.readFile(path)) ?? Buffer.alloc(0);
    const { positions, validLength } = parseCursorLog(bytes);
    const handle = await openOrCreate(io, path);
    if (validLength < bytes.length) {
      await handle.truncate(validLength);
      await handle.datasync();
    }
    return { store: new CursorStore(io, dir, handle, validLength), positions, cutBytes: bytes.length - validLength };
  }

  get handle(): FileHandle {
    return this.handleValue;
  }

  get bytes(): number {
    return this.length;
  }

  /** Appends records (not yet durable: the caller syncs `handle`). On failure nothing partial stays. */
  async append(records: readonly Buffer[]): Promise<void> {
    let total = 0;
    for (const r of records) total += r.length;
    try {
      await this.handleValue.writev(records, this.length);
    } catch (error) {
      await this.handleValue.truncate(this.length).catch(() => {});
      throw error;
    }
    this.length += total;
  }

  /** Replaces the log with a snapshot of `positions`, durably (tmp file, fdatasync, rename, dir sync). */
  async compact(positions: CursorPositions): Promise<void> {
    const records: Buffer[] = [];
    for (const [topic, cursors] of positions) for (const [cursor, position] of cursors) records.push(encodeCursorSet(topic, cursor, position));
    const tmpPath = join(this.dir, `${FILE_NAME}.tmp`);
    await this.io.unlink(tmpPath).catch(() => {});
    const tmp = await this.io.open(tmpPath, { create: true });
    let total = 0;
    try {
      if (records.length > 0) await tmp.writev(records, 0);
      for (const r of records) total += r.length;
      await tmp.datasync();
    } catch (error) {
      await tmp.close().catch(() => {});
      await this.io.unlink(tmpPath).catch(() => {});
      throw error;
    }
    await this.io.rename(tmpPath, join(this.dir, FILE_NAME));
    await this.io.syncDir(this.dir);
    const old = this.handleValue;
    this.handleValue = tmp;
    this.length = total;
    await old.close().catch(() => {});
  }

  async close(): Promise<void> {
    await this.handleValue.close();
  }
}

async function openOrCreate(io: FileIO, path: string): Promise<FileHandle> {
  try {
    return await io.open(path, { create: false });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return io.open(path, { create: true });
  }
}
