/**
 * walrus-broker/engine — the storage engine, usable embedded without the broker.
 */
export { Walrus } from './walrus.js';
export type { BackendInfo } from './walrus.js';
export { ReadConsistency, FsyncSchedule } from './consistency.js';
export type { Entry, WalrusOptions, CursorOptions, ReadFromOptions, TopicStats, TopicConfig } from './types.js';
export type { FileIO, FileHandle, FileMapper } from './file-io.js';
export { FsFileIO } from './fs-file-io.js';
export { selectBackend, BackendChoice, IO_BACKEND_ENV, ReadsChoice, READS_ENV } from './backends/index.js';
export type { SelectedBackend, SelectBackendOptions } from './backends/index.js';
export {
  WalrusError,
  EngineErrorCode,
  InvalidTopicError,
  InvalidCursorError,
  InvalidArgumentError,
  TopicNotFoundError,
  EntryTooLargeError,
  BatchTooLargeError,
  StorageFullError,
  CorruptEntryError,
  CorruptLogError,
  LockedError,
  ClosedError,
  IoError,
} from './errors.js';
export { BATCH_ENTRIES_MAX, READ_ENTRIES_MAX } from './limits.js';
