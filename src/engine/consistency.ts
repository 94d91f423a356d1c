/**
 * Read consistency: when a cursor's movement is made durable.
 *
 * - `StrictlyAtOnce`: a checkpointing read or a commit resolves only after the new cursor position is
 *   on disk (fdatasync'd). A restart never replays an entry that a checkpointing read returned.
 * - `AtLeastOnce({ persistEvery: N })`: the position is persisted once it has moved N or more entries
 *   past the last persisted position (and always on close). A crash replays fewer than N entries.
 */
export type ReadConsistency =
  | { readonly kind: 'strictly-at-once' }
  | { readonly kind: 'at-least-once'; readonly persistEvery: number };

export const ReadConsistency = {
  StrictlyAtOnce: { kind: 'strictly-at-once' } as ReadConsistency,
  AtLeastOnce(options: { persistEvery: number }): ReadConsistency {
    const persistEvery = Math.max(1, Math.floor(options.persistEvery));
    if (!Number.isFinite(persistEvery)) throw new RangeError('persistEvery must be a finite number');
    return { kind: 'at-least-once', persistEvery };
  },
} as const;

/**
 * Fsync schedule: when appended bytes are made durable.
 *
 * - `SyncEach`: an append resolves only after its bytes are fdatasync'd. Concurrent appends share one
 *   write and one fdatasync per commit cycle (group commit).
 * - `milliseconds(n)`: an append resolves once written to the OS; a background sync runs at most
 *   n ms after the first unsynced write.
 * - `NoFsync`: an append resolves once written to the OS; the engine syncs only when it seals a block,
 *   writes a checkpoint, or closes.
 */
export type FsyncSchedule =
  | { readonly kind: 'sync-each' }
  | { readonly kind: 'interval'; readonly intervalMs: number }
  | { readonly kind: 'none' };

export const FsyncSchedule = {
  SyncEach: { kind: 'sync-each' } as FsyncSchedule,
  NoFsync: { kind: 'none' } as FsyncSchedule,
  milliseconds(n: number): FsyncSchedule {
    if (!Number.isFinite(n) || n < 1) throw new RangeError('fsync interval must be at least 1 ms');
    return { kind: 'interval', intervalMs: Math.floor(n) };
  },
  /** Parses the CLI/env spelling: `sync-each`, `none`/`no-fsync`, `async` (1000 ms), `<n>ms` or `<n>`. */
  parse(text: string): FsyncSchedule {
    const t = text.trim().toLowerCase();
    if (t === 'sync-each' || t === 'synceach') return FsyncSchedule.SyncEach;
    if (t === 'none' || t === 'no-fsync' || t === 'nofsync') return FsyncSchedule.NoFsync;
    if (t === 'async') return FsyncSchedule.milliseconds(1000);
    const m = /^(\d+)(ms)?$/.exec(t);
    if (m) return FsyncSchedule.milliseconds(Number(m[1]));
    throw new RangeError(`unknown fsync schedule "${text}": use sync-each, none, or <n>ms`);
  },
  format(s: FsyncSchedule): string {
    return s.kind === 'sync-each' ? 'sync-each' : s.kind === 'none' ? 'none' : `${s.intervalMs}ms`;
  },
} as const;
