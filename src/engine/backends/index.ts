/**
 * File backends beyond the pure fs one (src/engine/fs-file-io.ts), and the choice between them.
 * The engine's `Walrus.open` calls `selectBackend`; tests and benches may build a backend directly.
 */
export { BackendChoice, IO_BACKEND_ENV, selectBackend } from './select-backend.js';
export type { SelectBackendOptions, SelectedBackend } from './select-backend.js';
export { DirectWrites, UringFileIO } from './uring-file-io.js';
export type { UringFileIOOptions } from './uring-file-io.js';
export { loadUringAddon } from './uring-ring.js';
export type { UringAddon } from './uring-ring.js';
