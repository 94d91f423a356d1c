import type { Logger } from 'pino';
import type { ReadConsistency, FsyncSchedule } from './consistency.js';
import type { FileIO } from './file-io.js';

/** One stored entry. `offset` is dense per topic (0, 1, 2, …); `timestamp` is ms since the epoch. */
export interface Entry {
  offset: number;
  timestamp: number;
  /**
   * The payload, verified against its checksum. Under `reads: 'mmap'` it may be a view of a
   * copy-on-write file mapping: writing into it is safe and changes only this view, never the log.
   * Holding it keeps that mapping, and a deleted segment's disk space, until the GC collects it.
   */
  data: Buffer;
}

/** Options of `Walrus.open`. Explicit options win over environment variables. */
export interface WalrusOptions {
  /** Root of all data. Default: `$WALRUS_DATA_DIR`, else `./wal_files`. */
  dataDir?: string;
  /** Namespace: files live under `<dataDir>/<sanitized key>/`. Default: `$WALRUS_INSTANCE_KEY`, else none. */
  key?: string;
  /** Default `ReadConsistency.StrictlyAtOnce`. */
  consistency?: ReadConsistency;
  /** Default `FsyncSchedule.milliseconds(1000)`. */
  fsync?: FsyncSchedule;
  /** Largest payload of one entry in bytes. Default 16 MiB. */
  entryBytesMax?: number;
  /** Size of one block slot in bytes (a multiple of 4096). Default 4 MiB. */
  blockBytes?: number;
  /** Block slots per segment file. Default 16 (so a segment holds 64 MiB of blocks). */
  blocksPerSegment?: number;
  /**
   * I/O backend: `fs` (pure node:fs), `uring` (the @walrus/uring-napi io_uring addon; fails if it
   * cannot run here) or `auto` (uring when it works, else fs). Default `auto`, where
   * `$WALRUS_IO_BACKEND` (auto|fs|uring) may force one. See docs/engine.md, "I/O backends".
   */
  backend?: 'auto' | 'fs' | 'uring';
  /**
   * Read path: `pread` (through the backend), `mmap` (frozen segment files mapped copy-on-write through the
   * addon, batch reads served as views of the mapping; fails if the addon cannot load) or `auto` (what
   * measured faster here). Default: `$WALRUS_READS` read as with `auto`, else `auto`. See
   * docs/engine.md, "Read paths".
   */
  reads?: 'auto' | 'pread' | 'mmap';
  /** A FileIO to use instead (tests plug in fault-injecting doubles); wins over `backend`. */
  io?: FileIO;
  /** Logger; default a pino logger at `warn` (`silent` when `WALRUS_QUIET=1`). */
  logger?: Logger;
  /** Clock in ms since the epoch; default `Date.now`. */
  now?: () => number;
  /**
   * Called after each group fdatasync with its wall time in ms and the number of files it synced
   * (for latency metrics; keep it cheap, it runs on the commit path).
   */
  onSync?: (durationMs: number, files: number) => void;
  /** Replication epoch stamped on every batch written by this process. Default 0 (single node). */
  epoch?: number;
  /** Write a recovery checkpoint after this many bytes have been appended since the last one. Default 64 MiB. */
  checkpointBytesInterval?: number;
  /**
   * Under SyncEach, reuse the files of reclaimed segments (up to 2 kept ready) instead of deleting
   * them and zero-filling new ones. Default true. See docs/engine.md, "Coordination-free deletion".
   */
  recycleSegments?: boolean;
}

/** Options of the cursor-based reads. */
export interface CursorOptions {
  /** Named cursor; default the topic's own read cursor. */
  cursor?: string;
}

/** Options of `readFrom`. */
export interface ReadFromOptions {
  /** Stop once this many payload bytes are returned (at least one entry is always returned). Default 1 MiB. */
  maxBytes?: number;
  /** At most this many entries (capped at 2,000). Default 2,000. */
  maxEntries?: number;
}

/** Per-topic retention caps; whichever is exceeded reclaims whole sealed blocks, cursors or not. */
export interface TopicConfig {
  /** Reclaim blocks whose newest entry is older than this many ms. */
  retentionMs?: number;
  /** Reclaim the oldest blocks while the rest still holds at least this many bytes. */
  retentionBytes?: number;
}

/** What `topicStats` reports. */
export interface TopicStats {
  /** Offset of the oldest retained entry (equals `nextOffset` when nothing is retained). */
  firstOffset: number;
  /** Offset the next append will get. */
  nextOffset: number;
  /** Payload plus header bytes retained on disk for this topic. */
  bytes: number;
  /** Every registered cursor and the offset of the next entry it will read. */
  cursors: Record<string, number>;
  /** Retention caps (empty: keep until every cursor has passed). */
  config: TopicConfig;
}
