/**
 * The engine's public face: a Walrus-style write-ahead log of many topics in shared, preallocated
 * segment files, with group commit, persisted read cursors, atomic batches, coordination-free
 * deletion and checkpointed recovery. See docs/engine.md for the format and every promise.
 */
import { join, resolve } from 'node:path';
import fs from 'node:fs';
import pino, { type Logger } from 'pino';
import { readEntries } from './block-reader.js';
import type { Block } from './block.js';
import { readCheckpoint, writeCheckpoint, type Checkpoint } from './checkpoint.js';
import { FsyncSchedule, ReadConsistency } from './consistency.js';
import { CursorStore, encodeCursorSet, encodeTopicDrop } from './cursor-store.js';
import { DirLock } from './dir-lock.js';
import {
  BatchTooLargeError,
  ClosedError,
  EntryTooLargeError,
  InvalidArgumentError,
  TopicNotFoundError,
  toEngineError,
} from './errors.js';
import type { FileIO } from './file-io.js';
import { FsFileIO } from './fs-file-io.js';
import { selectBackend } from './backends/select-backend.js';
import { resolveReadsRequest, selectReads, type ReadsRequest } from './backends/select-reads.js';
import {
  BATCH_ENTRIES_MAX,
  BLOCK_BYTES_DEFAULT,
  BLOCK_HEADER_BYTES,
  BLOCKS_PER_SEGMENT_DEFAULT,
  CHECKPOINT_BYTES_INTERVAL_DEFAULT,
  CURSOR_LOG_BYTES_MAX,
  ENTRY_BYTES_MAX_DEFAULT,
  ENTRY_HEADER_BYTES,
  READ_BYTES_DEFAULT,
  READ_ENTRIES_MAX,
} from './limits.js';
import { cursorName, sanitizeKey, validateCursor, validateTopic } from './names.js';
import { recover } from './recovery.js';
import { SegmentManager } from './segment-manager.js';
import { SegmentMapper } from './segment-mapper.js';
import { TopicLog, type Cursor } from './topic-log.js';
import type { CursorOptions, Entry, ReadFromOptions, TopicConfig, TopicStats, WalrusOptions } from './types.js';
import { WritePipeline, type PipelineHost } from './write-pipeline.js';
import { loadEntryChecksums, type Crc32Entries } from './entry-checksums.js';
import { zlibCrc32, type Crc32 } from './entry-format.js';

/** Which I/O backend (or read path) the engine runs on, and why it was chosen. */
export interface BackendInfo {
  name: string;
  reason: string;
}

/** How often time-based retention is checked. */
const RETENTION_CHECK_MS = 1000;

/** Block sequence numbers reserved by each checkpoint (Checkpoint.blockSeqLimit). */
const BLOCK_SEQ_RESERVE = 2 ** 30;

/** How long after a seal the checkpoint follows (coalesces bursts of seals into one checkpoint). */
const CHECKPOINT_AFTER_SEAL_MS = 10_000;

interface ResolvedOptions {
  dir: string;
  consistency: ReadConsistency;
  fsync: FsyncSchedule;
  entryBytesMax: number;
  blockBytes: number;
  blocksPerSegment: number;
  checkpointBytesInterval: number;
  recycleSegments: boolean;
  epoch: number;
  now: () => number;
  logger: Logger;
  io: FileIO;
  backendReason: string;
  readsRequest: ReadsRequest;
  /** Set at open: the mmap read path's mapper (null: pread), and why. */
  mapper: SegmentMapper | null;
  readsReason: string;
  /** Set at open: batched entry checksums through the addon, or null (node:zlib per entry). */
  crc32Entries: Crc32Entries | null;
  /** crc32 for entries written or verified one by one: the addon's where it loaded, else node:zlib's. */
  crc32: Crc32;
  /** How entries are checksummed, for the open log line. */
  checksumsName: string;
  onSync: (durationMs: number, files: number) => void;
}

function resolveOptions(options: WalrusOptions): ResolvedOptions {
  const root = resolve(options.dataDir ?? process.env.WALRUS_DATA_DIR ?? 'wal_files');
  const key = options.key ?? process.env.WALRUS_INSTANCE_KEY;
  const dir = key ? join(root, sanitizeKey(key)) : root;
  const blockBytes = options.blockBytes ?? BLOCK_BYTES_DEFAULT;
  const blocksPerSegment = options.blocksPerSegment ?? BLOCKS_PER_SEGMENT_DEFAULT;
  const entryBytesMax = options.entryBytesMax ?? Math.min(ENTRY_BYTES_MAX_DEFAULT, blockBytes * blocksPerSegment - BLOCK_HEADER_BYTES - ENTRY_HEADER_BYTES);
  if (!Number.isInteger(blockBytes) || blockBytes < 8192 || blockBytes % 4096 !== 0 || blockBytes > 1024 * 1024 * 1024) {
    throw new InvalidArgumentError(`blockBytes must be a multiple of 4096 between 8 KiB and 1 GiB, got ${blockBytes}`);
  }
  if (!Number.isInteger(blocksPerSegment) || blocksPerSegment < 1 || blocksPerSegment > 65535) {
    throw new InvalidArgumentError(`blocksPerSegment must be an integer from 1 to 65535, got ${blocksPerSegment}`);
  }
  if (!Number.isInteger(entryBytesMax) || entryBytesMax < 1 || entryBytesMax + BLOCK_HEADER_BYTES + ENTRY_HEADER_BYTES > blockBytes * blocksPerSegment) {
    throw new InvalidArgumentError(`entryBytesMax must be at least 1 and fit one segment (${blockBytes * blocksPerSegment} bytes with headers)`);
  }
  const quiet = process.env.WALRUS_QUIET === '1' || process.env.WALRUS_QUIET === 'true';
  const readsRequest = resolveReadsRequest(options.reads, process.env);
  return {
    dir,
    consistency: options.consistency ?? ReadConsistency.StrictlyAtOnce,
    fsync: options.fsync ?? FsyncSchedule.milliseconds(1000),
    entryBytesMax,
    blockBytes,
    blocksPerSegment,
    checkpointBytesInterval: options.checkpointBytesInterval ?? CHECKPOINT_BYTES_INTERVAL_DEFAULT,
    recycleSegments: options.recycleSegments ?? true,
    epoch: options.epoch ?? 0,
    now: options.now ?? Date.now,
    logger: options.logger ?? pino({ name: 'walrus-engine', level: quiet ? 'silent' : 'warn' }, pino.destination(2)),
    io: options.io ?? new FsFileIO(),
    backendReason: options.io ? `${options.io.name}: supplied by the caller` : 'fs: default',
    readsRequest,
    mapper: null,
    readsReason: 'pread: default',
    crc32Entries: null,
    crc32: zlibCrc32,
    checksumsName: 'node:zlib',
    onSync: options.onSync ?? (() => {}),
  };
}

function checkPayload(data: unknown, max: number): asserts data is Uint8Array {
  if (!(data instanceof Uint8Array)) throw new InvalidArgumentError('entry data must be a Buffer or Uint8Array');
  if (data.length > max) throw new EntryTooLargeError(data.length, max);
}

function checkOffset(name: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidArgumentError(`${name} must be a non-negative safe integer, got ${String(value)}`);
  }
}

/** A write-ahead log of many topics. Create with `Walrus.open`. */
export class Walrus {
  /** The directory holding this instance's files (`<dataDir>/<sanitized key>`). */
  readonly dir: string;
  /** The I/O backend in use and why. */
  readonly backend: BackendInfo;
  /** The read path in use (`pread` or `mmap`) and why. */
  readonly reads: BackendInfo;
  private readonly opts: ResolvedOptions;
  private readonly topicMap: Map<string, TopicLog>;
  private readonly watchers = new Map<string, Set<(nextOffset: number) => void>>();
  private readonly cursorLocks = new Map<string, Promise<unknown>>();
  private readonly pipeline: WritePipeline;
  private closed = false;
  private closing: Promise<void> | null = null;
  private bytesSinceCheckpoint = 0;
  private checkpointTimer: NodeJS.Timeout | null = null;
  private checkpointChain: Promise<void> = Promise.resolve();
  private reclaimScheduled = false;
  private reclaimChain: Promise<void> = Promise.resolve();
  /** Time-based retention needs a clock tick even when nothing else happens. */
  private readonly retentionTimer: NodeJS.Timeout;

  private constructor(
    opts: ResolvedOptions,
    private readonly lock: DirLock,
    private readonly segments: SegmentManager,
    private readonly cursorStore: CursorStore,
    topics: Map<string, TopicLog>,
  ) {
    this.opts = opts;
    this.dir = opts.dir;
    this.topicMap = topics;
    this.backend = { name: opts.io.name, reason: opts.backendReason };
    this.reads = { name: opts.mapper ? 'mmap' : 'pread', reason: opts.readsReason };
    const host: PipelineHost = {
      segments,
      cursorStore,
      fsync: opts.fsync,
      epoch: opts.epoch,
      crc32Entries: opts.crc32Entries,
      crc32: opts.crc32,
      logger: opts.logger,
      now: opts.now,
      onSeal: () => {
        this.scheduleCheckpoint(CHECKPOINT_AFTER_SEAL_MS);
        this.scheduleReclaim();
      },
      onVisible: (topic) => this.notify(topic),
      onSync: opts.onSync,
      onWritten: (bytes) => {
        this.bytesSinceCheckpoint += bytes;
        if (this.bytesSinceCheckpoint >= this.opts.checkpointBytesInterval) this.scheduleCheckpoint(0);
      },
    };
    this.pipeline = new WritePipeline(host);
    this.retentionTimer = setInterval(() => {
      for (const log of this.topicMap.values()) {
        if (log.config.retentionMs !== undefined || log.config.retentionBytes !== undefined) return this.scheduleReclaim();
      }
    }, RETENTION_CHECK_MS);
    this.retentionTimer.unref();
  }

  /** Opens (creating if needed) the log at `<dataDir>/<key>`, recovering whatever is there. */
  static async open(options: WalrusOptions = {}): Promise<Walrus> {
    const opts = resolveOptions(options);
    fs.mkdirSync(opts.dir, { recursive: true });
    // Mapping needs the segment files on disk: the engine's own backends and FsFileIO keep them there.
    const foreignIo = options.io && !(options.io instanceof FsFileIO) ? options.io.name : undefined;
    const reads = await selectReads({ request: opts.readsRequest, foreignIo });
    opts.mapper = reads.mapper ? new SegmentMapper(reads.mapper, opts.logger) : null;
    opts.readsReason = reads.reason;
    if (!options.io) {
      // Default auto (uring where it works, else fs; WALRUS_IO_BACKEND may force one). Under SyncEach
      // every write is followed at once by an fdatasync, so the uring backend may write O_DIRECT.
      const selected = await selectBackend({
        backend: options.backend ?? 'auto',
        dataDir: opts.dir,
        directWrites: opts.fsync.kind === 'sync-each' ? 'always' : 'synced',
      });
      opts.io = selected.io;
      opts.backendReason = selected.reason;
    }
    const checksums = await loadEntryChecksums();
    opts.crc32Entries = checksums?.crc32Entries ?? null;
    opts.checksumsName = checksums === null ? 'node:zlib' : checksums.folds ? 'addon (batched, folded with PCLMULQDQ)' : 'addon (batched, zlib)';
    opts.crc32 = checksums?.crc32 ?? zlibCrc32;
    const { io, dir, logger } = opts;
    await io.mkdirp(dir);
    const lock = DirLock.acquire(dir);
    try {
      const checkpoint = await readCheckpoint(io, dir);
      const segments = new SegmentManager(io, dir, opts.blockBytes, opts.blocksPerSegment, logger, opts.fsync.kind === 'sync-each', opts.recycleSegments);
      const recovered = await recover(io, dir, segments, checkpoint, logger, opts.crc32);
      const { store, positions, cutBytes } = await CursorStore.open(io, dir);
      if (cutBytes > 0) logger.warn({ bytes: cutBytes }, 'torn tail of the cursor log cut off');
      let clamped = false;
      for (const [topicName, cursors] of positions) {
        const topic = recovered.topics.get(topicName);
        if (!topic) continue;
        for (const [name, position] of cursors) {
          const bounded = Math.min(Math.max(position, topic.firstOffset), topic.nextOffset);
          if (bounded !== position) {
            clamped = true;
            logger.warn({ topic: topicName, cursor: name, position, bounded }, 'cursor outside the recovered log; moved to its edge');
          }
          topic.cursors.set(name, { name, position: bounded, persisted: bounded });
        }
      }
      // Everything recovery read may still sit only in the page cache (after a process crash): make it
      // durable before a checkpoint claims it.
      for (const segment of recovered.scanned) await segment.handle.datasync();
      const wal = new Walrus(opts, lock, segments, store, recovered.topics);
      await wal.writeCheckpointNow();
      if (clamped || cutBytes > 0 || positions.size !== recovered.topics.size || store.bytes > CURSOR_LOG_BYTES_MAX / 2) {
        await store.compact(wal.persistedPositions());
      }
      logger.info({ dir, topics: recovered.topics.size, backend: io.name, backendReason: opts.backendReason, reads: opts.readsReason, checksums: opts.checksumsName, fsync: FsyncSchedule.format(opts.fsync) }, 'write-ahead log open');
      return wal;
    } catch (error) {
      lock.release();
      throw toEngineError('open', error);
    }
  }

  // ---- writes -------------------------------------------------------------------------------

  /** Appends one entry; resolves with its offset once durable per the fsync schedule. */
  appendForTopic(topic: string, data: Uint8Array): Promise<number> {
    let log: TopicLog;
    try {
      this.checkOpen();
      checkPayload(data, this.opts.entryBytesMax);
      // A known topic was validated when it was created: skip the pattern on the hot path.
      log = this.topicMap.get(topic) ?? (validateTopic(topic), this.topicFor(topic));
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      this.pipeline.enqueueAppend({ topic: log, payloads: [data], bytes: ENTRY_HEADER_BYTES + data.length, resolve, reject });
    });
  }

  /** Appends up to 2,000 entries atomically: all become visible together, or none are written. */
  async batchAppendForTopic(topic: string, entries: readonly Uint8Array[]): Promise<{ baseOffset: number; count: number }> {
    this.checkOpen();
    validateTopic(topic);
    if (!Array.isArray(entries)) throw new InvalidArgumentError('batch entries must be an array');
    if (entries.length > BATCH_ENTRIES_MAX) throw new BatchTooLargeError(`batch of ${entries.length} entries exceeds the maximum of ${BATCH_ENTRIES_MAX}`);
    let bytes = 0;
    for (const e of entries) {
      checkPayload(e, this.opts.entryBytesMax);
      bytes += ENTRY_HEADER_BYTES + e.length;
    }
    const capacity = this.opts.blockBytes * this.opts.blocksPerSegment - BLOCK_HEADER_BYTES;
    if (bytes > capacity) throw new BatchTooLargeError(`batch of ${bytes} bytes (with headers) exceeds one segment's ${capacity} bytes`);
    if (entries.length === 0) return { baseOffset: this.topicMap.get(topic)?.nextOffset ?? 0, count: 0 };
    const log = this.topicFor(topic);
    const baseOffset = await new Promise<number>((resolve, reject) => {
      this.pipeline.enqueueAppend({ topic: log, payloads: entries.slice(), bytes, resolve, reject });
    });
    return { baseOffset, count: entries.length };
  }

  /**
   * Creates a topic durably (topics are otherwise created by their first append), or changes the
   * retention caps of an existing one. Without caps a record is kept until every cursor of the topic
   * has durably passed it; with caps, whichever cap is exceeded reclaims whole sealed blocks first.
   */
  async createTopic(topic: string, config: TopicConfig = {}): Promise<void> {
    this.checkOpen();
    validateTopic(topic);
    for (const key of ['retentionMs', 'retentionBytes'] as const) {
      const v = config[key];
      if (v !== undefined && (!Number.isSafeInteger(v) || v < 1)) throw new InvalidArgumentError(`${key} must be a positive integer, got ${String(v)}`);
    }
    const existing = this.topicMap.get(topic);
    const log = existing ?? this.topicFor(topic);
    const changed = config.retentionMs !== log.config.retentionMs || config.retentionBytes !== log.config.retentionBytes;
    if (existing && !changed) return;
    log.config = { retentionMs: config.retentionMs, retentionBytes: config.retentionBytes };
    await this.writeCheckpointNow();
    this.scheduleReclaim();
  }

  /** A topic's retention caps (empty: keep until every cursor has passed). */
  topicConfig(topic: string): TopicConfig {
    validateTopic(topic);
    const log = this.topicMap.get(topic);
    if (!log) throw new TopicNotFoundError(topic);
    return { ...log.config };
  }

  /** Deletes a topic, its cursors and its entries; its blocks' space is reclaimed with their segments. */
  async deleteTopic(topic: string): Promise<void> {
    this.checkOpen();
    validateTopic(topic);
    const log = this.topicMap.get(topic);
    if (!log) throw new TopicNotFoundError(topic);
    // Appends queued before the delete finish first; the delete then happens in one synchronous step.
    // (Polled, not pipeline.idle(): other topics' appends may keep the pipeline busy indefinitely.)
    while (log.pendingAppends > 0) await new Promise((r) => setTimeout(r, 1));
    if (this.topicMap.get(topic) !== log) return;
    this.topicMap.delete(topic);
    for (const block of log.blocks) block.segment.blocks.delete(block);
    await this.persistRecord(encodeTopicDrop(topic));
    await this.writeCheckpointNow();
    this.scheduleReclaim();
  }

  // ---- reads --------------------------------------------------------------------------------

  /** Reads up to `maxEntries` entries from `offset` (no cursor involved). */
  async readFrom(topic: string, offset: number, options: ReadFromOptions = {}): Promise<Entry[]> {
    this.checkOpen();
    validateTopic(topic);
    checkOffset('offset', offset);
    const maxBytes = options.maxBytes ?? READ_BYTES_DEFAULT;
    const maxEntries = Math.min(options.maxEntries ?? READ_ENTRIES_MAX, READ_ENTRIES_MAX);
    checkOffset('maxBytes', maxBytes);
    checkOffset('maxEntries', maxEntries);
    const log = this.topicMap.get(topic);
    if (!log || maxEntries === 0) return [];
    return readEntries(log, offset, maxBytes, maxEntries, this.opts.mapper, this.opts.crc32);
  }

  /** The entry at the cursor; `checkpoint: true` consumes it (moves and persists the cursor per the consistency mode). */
  async readNext(topic: string, checkpoint: boolean, options: CursorOptions = {}): Promise<Entry | null> {
    const entries = await this.readAtCursor(topic, 0, 1, checkpoint, options);
    return entries[0] ?? null;
  }

  /** Entries at the cursor in commit order, up to `maxBytes` of payload or 2,000 entries (at least one if any). */
  batchReadForTopic(topic: string, maxBytes: number, checkpoint: boolean, options: CursorOptions = {}): Promise<Entry[]> {
    return this.readAtCursor(topic, maxBytes, READ_ENTRIES_MAX, checkpoint, options);
  }

  private async readAtCursor(topic: string, maxBytes: number, maxEntries: number, checkpoint: boolean, options: CursorOptions): Promise<Entry[]> {
    this.checkOpen();
    validateTopic(topic);
    checkOffset('maxBytes', maxBytes);
    const name = cursorName(options.cursor);
    const log = this.topicMap.get(topic);
    if (!log) return [];
    return this.withCursor(topic, name, async () => {
      const cursor = log.cursors.get(name);
      const from = cursor ? cursor.position : log.firstOffset;
      const entries = await readEntries(log, from, maxBytes, maxEntries, this.opts.mapper, this.opts.crc32);
      if (checkpoint && entries.length > 0) await this.advance(log, name, entries[entries.length - 1].offset + 1);
      return entries;
    });
  }

  // ---- cursors ------------------------------------------------------------------------------

  /** Sets a cursor to `nextOffset` (the next entry it will read); persisted per the consistency mode. */
  async commitCursor(topic: string, cursor: string, nextOffset: number): Promise<void> {
    this.checkOpen();
    validateTopic(topic);
    validateCursor(cursor);
    checkOffset('nextOffset', nextOffset);
    const log = this.topicMap.get(topic);
    if (!log) throw new TopicNotFoundError(topic);
    if (nextOffset > log.visibleNext) {
      throw new InvalidArgumentError(`cannot commit ${topic}/${cursor} to ${nextOffset}: the log ends at ${log.visibleNext}`);
    }
    await this.withCursor(topic, cursor, () => this.advance(log, cursor, Math.max(nextOffset, log.firstOffset)));
  }

  /** Offset of the next entry the cursor will read (the first retained offset for a new cursor). */
  async cursorPosition(topic: string, cursor?: string): Promise<number> {
    this.checkOpen();
    validateTopic(topic);
    const name = cursorName(cursor);
    const log = this.topicMap.get(topic);
    if (!log) return 0;
    return log.cursors.get(name)?.position ?? log.firstOffset;
  }

  /** Serializes operations on one cursor so concurrent checkpointing reads never hand out the same entry twice. */
  private withCursor<T>(topic: string, cursor: string, fn: () => Promise<T>): Promise<T> {
    const key = `${topic}\u0000${cursor}`;
    const previous = this.cursorLocks.get(key) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    const tail = next.catch(() => {});
    this.cursorLocks.set(key, tail);
    void tail.then(() => {
      if (this.cursorLocks.get(key) === tail) this.cursorLocks.delete(key);
    });
    return next;
  }

  private async advance(log: TopicLog, name: string, position: number): Promise<void> {
    let cursor: Cursor | undefined = log.cursors.get(name);
    const isNew = !cursor;
    if (!cursor) {
      cursor = { name, position, persisted: log.firstOffset };
      log.cursors.set(name, cursor);
    }
    const previous = cursor.position;
    cursor.position = position;
    const mode = this.opts.consistency;
    const due = mode.kind === 'strictly-at-once' || isNew || Math.abs(position - cursor.persisted) >= mode.persistEvery;
    if (!due) return;
    try {
      await this.persistRecord(encodeCursorSet(log.name, name, position));
    } catch (error) {
      // The read or commit fails, so it must not have consumed anything: put the cursor back.
      if (isNew) log.cursors.delete(name);
      else if (cursor.position === position) cursor.position = previous;
      throw error;
    }
    if (log.cursors.get(name) === cursor) cursor.persisted = position;
    this.scheduleReclaim();
  }

  private persistRecord(record: Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.pipeline.enqueueCursor({ record, resolve, reject }));
  }

  // ---- inspection ---------------------------------------------------------------------------

  /** Names of all existing topics. */
  topics(): string[] {
    return [...this.topicMap.keys()];
  }

  hasTopic(topic: string): boolean {
    return this.topicMap.has(topic);
  }

  /** Offset of the oldest retained entry of a topic (0 for a topic that does not exist). Synchronous. */
  firstRetainedOffset(topic: string): number {
    return this.topicMap.get(topic)?.firstOffset ?? 0;
  }

  /** Offsets, retained bytes and cursor positions of a topic. */
  async topicStats(topic: string): Promise<TopicStats> {
    this.checkOpen();
    validateTopic(topic);
    const log = this.topicMap.get(topic);
    if (!log) throw new TopicNotFoundError(topic);
    const cursors: Record<string, number> = {};
    for (const c of log.cursors.values()) cursors[c.name] = c.position;
    return { firstOffset: log.firstOffset, nextOffset: log.visibleNext, bytes: log.retainedBytes(), cursors, config: { ...log.config } };
  }

  /** Calls `listener(nextOffset)` whenever new entries of `topic` become visible. Returns the unsubscribe function. */
  watch(topic: string, listener: (nextOffset: number) => void): () => void {
    validateTopic(topic);
    let set = this.watchers.get(topic);
    if (!set) this.watchers.set(topic, (set = new Set()));
    set.add(listener);
    return () => {
      const s = this.watchers.get(topic);
      if (!s) return;
      s.delete(listener);
      if (s.size === 0) this.watchers.delete(topic);
    };
  }

  /** Flushes, persists every cursor, writes a final checkpoint and releases the directory. Idempotent. */
  close(): Promise<void> {
    if (!this.closing) this.closing = this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.closed = true;
    await this.pipeline.idle();
    const records: Buffer[] = [];
    for (const log of this.topicMap.values()) {
      for (const c of log.cursors.values()) if (c.position !== c.persisted) records.push(encodeCursorSet(log.name, c.name, c.position));
    }
    try {
      if (!this.pipeline.failure) {
        await Promise.all(records.map((r) => this.persistRecord(r)));
        await this.writeCheckpointNow();
      }
    } finally {
      if (this.checkpointTimer) clearTimeout(this.checkpointTimer);
      clearInterval(this.retentionTimer);
      this.pipeline.stopTimers();
      await this.checkpointChain.catch(() => {});
      await this.reclaimChain.catch(() => {});
      for (const segment of this.segments.segments.values()) segment.dropMapping();
      await this.segments.close();
      await this.cursorStore.close().catch(() => {});
      this.lock.release();
    }
  }

  /**
   * Testing aid: stops this instance as a crash would, without flushing queued work, persisting
   * cursors or writing a checkpoint. Bytes already written stay where they are (in the page cache,
   * as after kill -9). Releases the lock so the same process can reopen the directory.
   * @internal
   */
  async simulateCrash(): Promise<void> {
    this.closed = true;
    this.closing = Promise.resolve();
    if (this.checkpointTimer) clearTimeout(this.checkpointTimer);
    clearInterval(this.retentionTimer);
    this.pipeline.stopTimers();
    this.pipeline.abandon();
    for (const segment of this.segments.segments.values()) segment.dropMapping();
    await this.segments.close();
    await this.cursorStore.close().catch(() => {});
    this.lock.release();
  }

  // ---- internals ----------------------------------------------------------------------------

  private checkOpen(): void {
    if (this.closed) throw new ClosedError();
    if (this.pipeline.failure) throw this.pipeline.failure;
  }

  private topicFor(name: string): TopicLog {
    let log = this.topicMap.get(name);
    if (!log) this.topicMap.set(name, (log = new TopicLog(name)));
    return log;
  }

  private notify(topic: TopicLog): void {
    const set = this.watchers.get(topic.name);
    if (!set) return;
    for (const listener of set) {
      try {
        listener(topic.visibleNext);
      } catch (error) {
        this.opts.logger.error({ err: (error as Error).message }, 'watch listener threw');
      }
    }
  }

  private persistedPositions(): Map<string, Map<string, number>> {
    const out = new Map<string, Map<string, number>>();
    for (const log of this.topicMap.values()) {
      if (log.cursors.size === 0) continue;
      const m = new Map<string, number>();
      for (const c of log.cursors.values()) m.set(c.name, c.persisted);
      out.set(log.name, m);
    }
    return out;
  }

  private scheduleCheckpoint(delayMs: number): void {
    if (this.closed) return;
    if (this.checkpointTimer && delayMs > 0) return;
    if (this.checkpointTimer) clearTimeout(this.checkpointTimer);
    this.checkpointTimer = setTimeout(() => {
      this.checkpointTimer = null;
      this.writeCheckpointNow().catch((error) => this.opts.logger.error({ err: (error as Error).message }, 'checkpoint failed'));
    }, delayMs);
    this.checkpointTimer.unref();
  }

  /** Syncs everything written so far, then durably records what is on disk. Serialized. */
  private writeCheckpointNow(): Promise<void> {
    const run = async (): Promise<void> => {
      this.bytesSinceCheckpoint = 0;
      await this.pipeline.syncAll();
      const snapshot = this.snapshot();
      await writeCheckpoint(this.opts.io, this.dir, snapshot);
      // Only a durable checkpoint's reservation may be used.
      this.segments.blockSeqLimit = snapshot.blockSeqLimit;
      if (this.cursorStore.bytes > CURSOR_LOG_BYTES_MAX) {
        await this.pipeline.idle();
        await this.cursorStore.compact(this.persistedPositions());
      }
    };
    const next = this.checkpointChain.then(run, run);
    this.checkpointChain = next.catch(() => {});
    return next;
  }

  private snapshot(): Checkpoint {
    const topics: Checkpoint['topics'] = {};
    for (const log of this.topicMap.values()) {
      topics[log.name] = { firstOffset: log.firstOffset, nextOffset: log.visibleNext, ...log.config };
    }
    return {
      format: 1,
      segmentIdMax: this.segments.nextSegmentId - 1,
      reclaimed: [...this.segments.reclaiming],
      blockSeqMax: this.segments.nextBlockSeq - 1,
      blockSeqLimit: this.segments.nextBlockSeq + BLOCK_SEQ_RESERVE,
      segments: [...this.segments.segments.values()].filter((s) => !this.segments.reclaiming.has(s.id)).map((s) => ({
        id: s.id,
        slotBytes: s.slotBytes,
        slotCount: s.slotCount,
        nextSlot: s.nextSlot,
        closed: s.closed,
        blocks: [...s.blocks].map((b) => ({
          seq: b.seq,
          slot: b.slot,
          slotCount: b.slotCount,
          topic: b.topic,
          firstOffset: b.firstOffset,
          epoch: b.epoch,
          end: b.syncedEnd,
          count: b.syncedCount,
          sealed: b.sealed && b.syncedEnd === b.writtenEnd,
          lastTimestamp: b.lastTimestamp,
        })),
      })),
      topics,
    };
  }

  private scheduleReclaim(): void {
    if (this.reclaimScheduled || this.closed) return;
    this.reclaimScheduled = true;
    setImmediate(() => {
      this.reclaimScheduled = false;
      this.reclaim().catch((error) => this.opts.logger.error({ err: (error as Error).message }, 'reclaim failed'));
    });
  }

  /**
   * Coordination-free deletion. Blocks every cursor of their topic has durably moved past leave the
   * topic's chain; a closed segment with no live block left is deleted after a checkpoint that no
   * longer lists it. A fully consumed active block in a closed segment is sealed so an idle topic
   * cannot pin a segment forever. Readers are never blocked: a segment's handle closes once unpinned.
   */
  private reclaim(): Promise<void> {
    const run = (): Promise<void> => this.reclaimOnce();
    const next = this.reclaimChain.then(run, run);
    this.reclaimChain = next.catch(() => {});
    return next;
  }

  private async reclaimOnce(): Promise<void> {
    if (this.closed) return;
    const now = this.opts.now();
    for (const log of this.topicMap.values()) {
      if (log.config.retentionBytes !== undefined || log.config.retentionMs !== undefined) this.applyRetention(log, now);
      let min: number | null = null;
      for (const c of log.cursors.values()) if (min === null || c.persisted < min) min = c.persisted;
      if (min === null) continue;
      while (log.blocks.length > 0) {
        const block = log.blocks[0];
        const end = block.firstOffset + block.writtenCount;
        if (end > min || block.writtenCount === 0) break;
        if (block === log.active) {
          if (log.pendingAppends > 0 || !block.segment.closed) break;
          block.sealed = true;
          log.active = null;
        }
        if (!block.sealed) break;
        log.dropBlock(block);
        block.segment.blocks.delete(block);
      }
    }
    const empty = [...this.segments.segments.values()].filter(
      (s) => s.closed && s.blocks.size === 0 && s !== this.segments.current && !this.segments.reclaiming.has(s.id),
    );
    if (empty.length === 0) return;
    for (const s of empty) this.segments.reclaiming.add(s.id);
    // The checkpoint no longer lists them (and names them reclaimed) before any file goes.
    await this.writeCheckpointNow();
    for (const s of empty) await this.segments.remove(s);
  }

  /**
   * Retention caps: whole sealed blocks leave the front of the topic while the rest still holds
   * `retentionBytes`, or while their newest entry is older than `retentionMs` — whether or not every
   * cursor has passed them. A cursor left behind is logged; its next read starts at the first retained
   * offset. Their segments are deleted as usual once no live block remains in them.
   */
  private applyRetention(log: TopicLog, now: number): void {
    const { retentionBytes, retentionMs } = log.config;
    let retained = log.retainedBytes();
    const before = log.firstOffset;
    while (log.blocks.length > 0) {
      const block = log.blocks[0];
      if (!block.sealed || block === log.active) break;
      const overBytes = retentionBytes !== undefined && retained - block.writtenEnd >= retentionBytes;
      const overAge = retentionMs !== undefined && block.lastTimestamp > 0 && block.lastTimestamp < now - retentionMs;
      if (!overBytes && !overAge) break;
      retained -= block.writtenEnd;
      log.dropBlock(block);
      block.segment.blocks.delete(block);
    }
    const first = log.firstOffset;
    if (first === before) return;
    for (const c of log.cursors.values()) {
      if (c.position < first) {
        this.opts.logger.warn({ topic: log.name, cursor: c.name, position: c.position, firstRetained: first }, 'cursor fell behind retention; it resumes at the first retained offset');
      }
    }
  }

  /** Test and tooling hook: the blocks of a topic (read-only view). */
  blocksOf(topic: string): readonly Block[] {
    return this.topicMap.get(topic)?.blocks ?? [];
  }
}
