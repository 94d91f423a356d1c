import type { TargetSpec } from '../targets/types.js';

/** What a worker process does; passed as its single argv entry, JSON-encoded. */
export interface WorkerTask {
  role: 'producer' | 'consumer';
  workerId: number;
  target: TargetSpec;
  payloadBytes: number;
  /** Sends in flight (window mode) or the in-flight cap (fixed-rate mode). */
  window: number;
  /** Fixed send rate of this worker in msgs/s; 0 = window mode (as fast as acks come back). */
  ratePerS: number;
  /** Producers stop sending after this long; consumers stop by themselves after it (a safety bound). */
  durationMs: number;
  /** Producers send for this long before counting starts (not part of `durationMs`). */
  warmupMs: number;
  /** Producers stop after this many sends; 0 = no count bound (duration only). */
  countMax: number;
}

/** Runner → worker. */
export type RunnerMessage =
  /** Begin now; count only what is sent from `measureFromNs` on (monotonic ns as a decimal string, shared by all workers). */
  | { type: 'start'; measureFromNs: string }
  | { type: 'stop' };

/** A worker's final figures; histograms are HDR, µs, compressed base64. */
export interface WorkerReport {
  count: number;
  bytes: number;
  errors: number;
  /** Fixed-rate sends skipped because the in-flight cap was reached (the target fell behind). */
  skipped: number;
  /** From `start` to the last ack (producer) or last message (consumer), in ms. */
  activeMs: number;
  ackHistogram: string;
  e2eHistogram: string;
  /** CPU this worker process used during the run, in µs (user + system). */
  cpuUs: number;
  firstError: string | undefined;
}

/** Worker → runner. Counts in `progress` are cumulative. */
export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'progress'; count: number; bytes: number }
  | { type: 'done'; report: WorkerReport }
  | { type: 'failed'; message: string };
