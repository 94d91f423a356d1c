/**
 * Rebuilds the engine's state at open: segments, blocks, topics and their offsets.
 *
 * Cost tracks the unsynced tail, not the log: blocks the checkpoint lists are trusted up to the
 * length it recorded (their checksums are still verified on every read), and only bytes past that
 * length, plus slots handed out after the checkpoint, are read and verified here.
 *
 * Rules (docs/engine.md, "Recovery"):
 * - A torn or corrupt tail (bad checksum, wrong offset, a batch without its last entry) is cut off at
 *   the last valid entry, with a warning. Blocks of that topic written after the cut are dropped:
 *   offsets stay dense.
 * - Every block found is sealed; writers start fresh blocks, so bytes after a cut are never followed
 *   by new entries that could make them look valid.
 * - A checkpointed segment that is missing or unreadable is a CorruptLogError, never skipped.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { Block } from './block.js';
import { decodeBlockHeader } from './block-format.js';
import { positionOf, scanTail } from './block-reader.js';
import type { Crc32 } from './entry-format.js';
import type { Checkpoint, CheckpointSegment } from './checkpoint.js';
import { CorruptLogError } from './errors.js';
import type { FileIO } from './file-io.js';
import { BLOCK_HEADER_BYTES, SEGMENT_HEADER_BYTES } from './limits.js';
import { Segment } from './segment.js';
import { decodeSegmentHeader, parseSegmentFileName } from './segment-format.js';
import type { SegmentManager } from './segment-manager.js';
import { TopicLog } from './topic-log.js';

/** Shortens a recovered block to its first `keep` entries. */
async function cutBlock(block: Block, keep: number): Promise<void> {
  const position = await positionOf(block, block.firstOffset + keep);
  block.writtenEnd = block.visibleEnd = block.syncedEnd = position;
  block.writtenCount = block.visibleCount = block.syncedCount = keep;
  block.trimIndex(block.firstOffset + keep);
}

/** What recovery found. */
export interface RecoveryResult {
  topics: Map<string, TopicLog>;
  /** Segments whose tails were scanned; their bytes must be fdatasync'd before a new checkpoint. */
  scanned: Set<Segment>;
  /** Entries cut off as torn, summed over topics. */
  cutEntries: number;
}

interface Found {
  block: Block;
  /** Scan from here (relative bytes) with this many entries known before it; null: trusted as is. */
  scanFrom: { position: number; count: number } | null;
}

export async function recover(
  io: FileIO,
  dir: string,
  segments: SegmentManager,
  checkpoint: Checkpoint | null,
  logger: Logger,
  crc: Crc32,
): Promise<RecoveryResult> {
  const listed = new Map<number, CheckpointSegment>((checkpoint?.segments ?? []).map((s) => [s.id, s]));
  const ids = (await io.readdir(dir)).map(parseSegmentFileName).filter((id): id is number => id !== null).sort((a, b) => a - b);
  const present = new Set(ids);
  for (const id of listed.keys()) {
    if (!present.has(id)) throw new CorruptLogError(`segment ${id} is listed in the checkpoint but its file is missing from ${dir}`);
  }
  const found: Found[] = [];
  const scanned = new Set<Segment>();
  const seqMax = checkpoint?.blockSeqMax ?? 0;
  let blockSeqNext = seqMax + 1;
  for (const id of ids) {
    const path = join(dir, `${String(id).padStart(20, '0')}.seg`);
    const cs = listed.get(id);
    if (!cs && checkpoint && checkpoint.reclaimed.includes(id)) {
      // Reclaimed: the checkpoint dropping it was durable, the unlink was not. Finish the unlink.
      logger.info({ segment: id }, 'removing reclaimed segment left behind by a crash');
      await io.unlink(path);
      continue;
    }
    const handle = await io.open(path, { create: false });
    const head = Buffer.alloc(SEGMENT_HEADER_BYTES);
    const n = await handle.read(head, 0, SEGMENT_HEADER_BYTES, 0);
    const header = n === SEGMENT_HEADER_BYTES ? decodeSegmentHeader(head) : null;
    if (!header || header.id !== id) {
      await handle.close();
      if (cs) throw new CorruptLogError(`segment ${id} has a damaged header`);
      // Created but never made durable before a crash: nothing in it was acknowledged.
      logger.warn({ segment: id }, 'removing segment whose creation did not complete');
      await io.unlink(path);
      continue;
    }
    const segment = new Segment(id, path, handle, header.slotBytes, header.slotCount);
    segments.adopt(segment);
    if (cs) {
      segment.nextSlot = cs.nextSlot;
      segment.closed = cs.closed;
      for (const b of cs.blocks) {
        const block = new Block(b.seq, b.topic, segment, b.slot, b.slotCount, b.firstOffset, b.epoch, { recovered: true });
        block.writtenEnd = block.visibleEnd = block.syncedEnd = b.end;
        block.writtenCount = block.visibleCount = block.syncedCount = b.count;
        block.lastTimestamp = b.lastTimestamp ?? 0;
        segment.blocks.add(block);
        found.push({ block, scanFrom: b.sealed ? null : { position: b.end, count: b.count } });
      }
    }
    // Slots handed out after the checkpoint: look for block headers newer than it.
    const slotHead = Buffer.alloc(BLOCK_HEADER_BYTES);
    for (let slot = cs ? cs.nextSlot : 0; slot < segment.slotCount; ) {
      const got = await handle.read(slotHead, 0, BLOCK_HEADER_BYTES, segment.slotPosition(slot));
      const bh = got === BLOCK_HEADER_BYTES ? decodeBlockHeader(slotHead) : null;
      if (!bh || bh.seq <= seqMax || bh.slotCount < 1 || slot + bh.slotCount > segment.slotCount) {
        slot++;
        continue;
      }
      const block = new Block(bh.seq, bh.topic, segment, slot, bh.slotCount, bh.firstOffset, bh.epoch, { recovered: true });
      segment.blocks.add(block);
      found.push({ block, scanFrom: { position: BLOCK_HEADER_BYTES, count: 0 } });
      segment.nextSlot = Math.max(segment.nextSlot, slot + bh.slotCount);
      blockSeqNext = Math.max(blockSeqNext, bh.seq + 1);
      slot += bh.slotCount;
    }
  }
  // Resume above every number the last run may have handed out, found on disk or not.
  segments.nextBlockSeq = Math.max(blockSeqNext, segments.nextBlockSeq, checkpoint?.blockSeqLimit ?? 0);
  segments.blockSeqLimit = segments.nextBlockSeq + 1; // until the checkpoint written at open reserves more
  if (checkpoint) segments.nextSegmentId = Math.max(segments.nextSegmentId, checkpoint.segmentIdMax + 1);

  // Scan tails.
  const torn = new Set<Block>();
  let cutEntries = 0;
  for (const { block, scanFrom } of found) {
    if (!scanFrom) continue;
    scanned.add(block.segment);
    const result = await scanTail(block, scanFrom.position, scanFrom.count, crc);
    block.writtenEnd = block.visibleEnd = block.syncedEnd = result.end;
    block.writtenCount = block.visibleCount = block.syncedCount = result.count;
    block.trimIndex(block.firstOffset + result.count);
    if (result.stop === 'torn') {
      torn.add(block);
      logger.warn(
        { topic: block.topic, segment: block.segment.id, block: block.seq, validEntries: result.count, reason: result.detail },
        'torn tail cut off at the last valid entry',
      );
    }
  }

  // Chain blocks per topic in sequence order; offsets must be dense.
  const byTopic = new Map<string, Block[]>();
  for (const { block } of found) {
    let list = byTopic.get(block.topic);
    if (!list) byTopic.set(block.topic, (list = []));
    list.push(block);
  }
  const topics = new Map<string, TopicLog>();
  for (const [name, meta] of Object.entries(checkpoint?.topics ?? {})) {
    const topic = new TopicLog(name);
    topic.config = { retentionMs: meta.retentionMs, retentionBytes: meta.retentionBytes };
    topic.resetBase(meta.firstOffset);
    topic.nextOffset = topic.visibleNext = meta.firstOffset;
    topics.set(name, topic);
  }
  for (const [name, blocks] of byTopic) {
    blocks.sort((a, b) => a.seq - b.seq);
    let topic = topics.get(name);
    if (!topic) topics.set(name, (topic = new TopicLog(name)));
    // The chain must start where the checkpoint says the topic starts (0 for a topic it does not
    // know): if a crash lost the topic's first unsynced block, later blocks do not connect.
    const start = checkpoint?.topics[name]?.firstOffset ?? 0;
    let expected: number | null = start;
    let cut = false;
    for (const block of blocks) {
      const previous = topic.blocks[topic.blocks.length - 1];
      if (!cut && previous && expected !== null && block.writtenCount > 0 && block.firstOffset < expected && block.firstOffset >= previous.firstOffset) {
        // Only a rolled-back write starts a block below its predecessor's end: the predecessor's
        // entries from there on were rejected when written (e.g. ENOSPC part-way) and must not count.
        const keep = block.firstOffset - previous.firstOffset;
        logger.warn({ topic: name, block: previous.seq, validEntries: keep, reason: 'superseded by a later block' }, 'cutting entries of a rolled-back write');
        cutEntries += previous.writtenCount - keep;
        await cutBlock(previous, keep);
        expected = block.firstOffset;
      }
      const drop = cut || block.writtenCount === 0 || (expected !== null && block.firstOffset !== expected);
      if (drop) {
        if (!cut && expected !== null && block.firstOffset !== expected && block.writtenCount > 0) {
          const previous = blocks[blocks.indexOf(block) - 1];
          if (!torn.has(previous) && found.find((f) => f.block === previous)?.scanFrom === null && found.find((f) => f.block === block)?.scanFrom === null) {
            throw new CorruptLogError(`topic "${name}": block ${block.seq} starts at offset ${block.firstOffset} where ${expected} was expected`);
          }
          logger.warn({ topic: name, block: block.seq, firstOffset: block.firstOffset, expected }, 'dropping block written after a torn tail');
          cutEntries += block.writtenCount;
          cut = true;
        }
        block.segment.blocks.delete(block);
        continue;
      }
      block.sealed = true;
      topic.addBlock(block);
      // A torn tail does not by itself end the chain: a later block that starts exactly where the
      // valid entries end was written after a rolled-back write and holds acknowledged entries.
      // Blocks written after a power cut's torn entries start past them and fail the offset check.
      expected = block.firstOffset + block.writtenCount;
    }
    if (topic.blocks.length > 0) {
      const last = topic.blocks[topic.blocks.length - 1];
      topic.nextOffset = topic.visibleNext = last.firstOffset + last.writtenCount;
    } else {
      topic.resetBase(start);
      topic.nextOffset = topic.visibleNext = start;
    }
  }
  // Continue handing out slots from the newest segment with room.
  for (const segment of [...segments.segments.values()].sort((a, b) => b.id - a.id)) {
    if (!segment.closed && segment.freeSlots > 0 && !segments.current) segments.current = segment;
    else segment.closed = segment.closed || segment !== segments.current;
  }
  return { topics, scanned, cutEntries };
}
