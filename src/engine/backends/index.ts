/**
 * File backends beyond the pure fs one (src/engine/fs-file-io.ts), the choice between them, and the
 * choice of read path (pread, or mmap through the addon's mapFile).
 * The engine's `Walrus.open` calls `selectBackend`; tests and benches may build a backend directly.
 */
export { BackendChoice, IO_BACKEND_ENV, selectBackend } from './select-backend.js';
export type { SelectBackendOptions, SelectedBackend } from './select-backend.js';
export { DirectWrites, UringFileIO } from './uring-file-io.js';
export type { UringFileIOOptions } from './uring-file-io.js';
export { loadUringAddon } from './uring-ring.js';
export { READS_ENV, ReadsChoice, resolveReadsRequest, selectReads } from './select-reads.js';
export type { ReadsRequest, SelectReadsOptions, SelectedReads } from './select-reads.js';
export { loadMmapAddon, MmapFileMapper } from './mmap-file-mapper.js';
export type { MmapAddon } from './mmap-file-mapper.js';
export type { UringAddon } from './uring-ring.js';
