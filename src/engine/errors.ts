/**
 * Operating errors of the storage engine. Callers branch on `code`, never on message text; the
 * broker maps these codes one to one onto its wire error codes (docs/errors.md lists every code).
 */
export const EngineErrorCode = {
  INVALID_TOPIC: 'INVALID_TOPIC',
  INVALID_CURSOR: 'INVALID_CURSOR',
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  NOT_FOUND: 'NOT_FOUND',
  ENTRY_TOO_LARGE: 'ENTRY_TOO_LARGE',
  BATCH_TOO_LARGE: 'BATCH_TOO_LARGE',
  STORAGE_FULL: 'STORAGE_FULL',
  CORRUPT_ENTRY: 'CORRUPT_ENTRY',
  CORRUPT_LOG: 'CORRUPT_LOG',
  LOCKED: 'LOCKED',
  CLOSED: 'CLOSED',
  IO_ERROR: 'IO_ERROR',
} as const;
export type EngineErrorCode = (typeof EngineErrorCode)[keyof typeof EngineErrorCode];

/** Base class of every error the engine throws on purpose. */
export class WalrusError extends Error {
  readonly code: EngineErrorCode;
  constructor(code: EngineErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A topic name outside `[A-Za-z0-9._-]{1,249}`, or `.`/`..`. Rejected before any file is touched. */
export class InvalidTopicError extends WalrusError {
  constructor(topic: unknown) {
    super(EngineErrorCode.INVALID_TOPIC, `invalid topic name ${JSON.stringify(String(topic)).slice(0, 300)}: use 1-249 of [A-Za-z0-9._-], not "." or ".."`);
  }
}

/** A cursor name outside `[A-Za-z0-9._-]{1,249}`. */
export class InvalidCursorError extends WalrusError {
  constructor(cursor: unknown) {
    super(EngineErrorCode.INVALID_CURSOR, `invalid cursor name ${JSON.stringify(String(cursor)).slice(0, 300)}: use 1-249 of [A-Za-z0-9._-]`);
  }
}

/** An argument of the wrong type or range (negative offset, non-buffer payload, …). */
export class InvalidArgumentError extends WalrusError {
  constructor(message: string) {
    super(EngineErrorCode.INVALID_ARGUMENT, message);
  }
}

/** The topic does not exist (for operations that need an existing topic, such as commitCursor). */
export class TopicNotFoundError extends WalrusError {
  constructor(topic: string) {
    super(EngineErrorCode.NOT_FOUND, `topic "${topic}" does not exist`);
  }
}

/** One entry larger than the engine's `entryBytesMax`. Nothing was written. */
export class EntryTooLargeError extends WalrusError {
  constructor(bytes: number, max: number) {
    super(EngineErrorCode.ENTRY_TOO_LARGE, `entry of ${bytes} bytes exceeds the maximum of ${max} bytes`);
  }
}

/** A batch over 2,000 entries or over the batch byte maximum. Nothing was written. */
export class BatchTooLargeError extends WalrusError {
  constructor(message: string) {
    super(EngineErrorCode.BATCH_TOO_LARGE, message);
  }
}

/** The disk is full (ENOSPC). Everything acknowledged before stays intact and readable. */
export class StorageFullError extends WalrusError {
  constructor(cause?: unknown) {
    super(EngineErrorCode.STORAGE_FULL, 'storage full: no space left on the data directory\'s device', { cause });
  }
}

/** A stored entry failed its checksum where the log says a valid entry must be. */
export class CorruptEntryError extends WalrusError {
  constructor(message: string) {
    super(EngineErrorCode.CORRUPT_ENTRY, message);
  }
}

/** A structural inconsistency found while recovering (checkpointed data missing or corrupt). */
export class CorruptLogError extends WalrusError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(EngineErrorCode.CORRUPT_LOG, message, options);
  }
}

/** Another live process owns this data directory and key. */
export class LockedError extends WalrusError {
  constructor(message: string) {
    super(EngineErrorCode.LOCKED, message);
  }
}

/** The engine was closed; no further calls are accepted. */
export class ClosedError extends WalrusError {
  constructor() {
    super(EngineErrorCode.CLOSED, 'the write-ahead log is closed');
  }
}

/** An I/O failure other than a full disk (EIO, EBADF, …). */
export class IoError extends WalrusError {
  constructor(operation: string, cause: unknown) {
    super(EngineErrorCode.IO_ERROR, `${operation} failed: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

/** Maps a raw fs error onto the engine's typed errors. */
export function toEngineError(operation: string, error: unknown): WalrusError {
  if (error instanceof WalrusError) return error;
  if ((error as NodeJS.ErrnoException)?.code === 'ENOSPC' || (error as NodeJS.ErrnoException)?.code === 'EDQUOT') {
    return new StorageFullError(error);
  }
  return new IoError(operation, error);
}
