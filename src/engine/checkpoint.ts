/**
 * The recovery checkpoint: a JSON snapshot of which slots hold which blocks, how far each block's
 * data is known durable, and which topics exist. Restart reads it instead of every byte of the log,
 * then scans only what was written after it (blocks' unsynced tails and slots allocated since).
 *
 * File: `checkpoint.json` = one line `walrus-checkpoint <crc32 hex> <byte length>\n`, then the JSON.
 * Written to a temp file, fdatasync'd, renamed over the old one, and the directory fsync'd; every
 * length it claims was fdatasync'd before it was written, so a checkpoint never claims lost data.
 */
import { crc32 } from 'node:zlib';
import { join } from 'node:path';
import type { FileIO } from './file-io.js';
import { CorruptLogError } from './errors.js';

export const CHECKPOINT_FILE = 'checkpoint.json';
const MAGIC = 'walrus-checkpoint';

/** One block as the checkpoint records it. `end`/`count` are durable bytes (relative, header included) and entries. */
export interface CheckpointBlock {
  seq: number;
  slot: number;
  slotCount: number;
  topic: string;
  firstOffset: number;
  epoch: number;
  end: number;
  count: number;
  sealed: boolean;
  /** Timestamp of the block's newest entry (for time-based retention). */
  lastTimestamp?: number;
}

export interface CheckpointSegment {
  id: number;
  slotBytes: number;
  slotCount: number;
  /** Slots below this were handed out (to the listed blocks, or to blocks now dead). */
  nextSlot: number;
  closed: boolean;
  blocks: CheckpointBlock[];
}

export interface Checkpoint {
  format: 1;
  /** Highest segment id handed out so far (ids are never reused within a run). */
  segmentIdMax: number;
  /** Segments reclaimed whose unlink may not be durable yet; recovery finishes deleting them. */
  reclaimed: number[];
  /** Highest block sequence number handed out when the checkpoint was taken. */
  blockSeqMax: number;
  /**
   * Block sequence numbers below this may have been handed out before a crash, even if no header
   * survived: the engine never hands out a number at or above the limit of its last durable
   * checkpoint, and recovery resumes at the limit, so a block's crc seed is never used twice.
   */
  blockSeqLimit: number;
  segments: CheckpointSegment[];
  /** Every existing topic and the first offset it retains (needed for topics with no blocks left). */
  topics: Record<string, { firstOffset: number; nextOffset: number; retentionMs?: number; retentionBytes?: number }>;
}

/** Reads the checkpoint; null when there is none. A damaged file is a CorruptLogError (it is written atomically). */
export async function readCheckpoint(io: FileIO, dir: string): Promise<Checkpoint | null> {
  const bytes = await io.readFile(join(dir, CHECKPOINT_FILE));
  if (bytes === null) return null;
  const newline = bytes.indexOf(0x0a);
  const head = newline > 0 ? bytes.toString('latin1', 0, newline).split(' ') : [];
  if (head.length !== 3 || head[0] !== MAGIC) throw new CorruptLogError(`${CHECKPOINT_FILE} has no valid header`);
  const body = bytes.subarray(newline + 1);
  if (body.length !== Number(head[2]) || crc32(body).toString(16) !== head[1]) {
    throw new CorruptLogError(`${CHECKPOINT_FILE} fails its checksum`);
  }
  const parsed = JSON.parse(body.toString('utf8')) as Checkpoint;
  if (parsed.format !== 1) throw new CorruptLogError(`${CHECKPOINT_FILE} has unknown format ${String(parsed.format)}`);
  return parsed;
}

/** Writes the checkpoint atomically and durably. */
export async function writeCheckpoint(io: FileIO, dir: string, checkpoint: Checkpoint): Promise<void> {
  const body = Buffer.from(JSON.stringify(checkpoint), 'utf8');
  const head = Buffer.from(`${MAGIC} ${crc32(body).toString(16)} ${body.length}\n`, 'latin1');
  const tmpPath = join(dir, `${CHECKPOINT_FILE}.tmp`);
  await io.unlink(tmpPath).catch(() => {});
  const tmp = await io.open(tmpPath, { create: true });
  try {
    await tmp.writev([head, body], 0);
    await tmp.datasync();
  } catch (error) {
    await tmp.close().catch(() => {});
    await io.unlink(tmpPath).catch(() => {});
    throw error;
  }
  await tmp.close();
  await io.rename(tmpPath, join(dir, CHECKPOINT_FILE));
  await io.syncDir(dir);
}
