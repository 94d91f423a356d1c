/**
 * The vocabulary of the power-loss properties (power-loss.test.ts): the operations fast-check
 * generates, their weights and sizes, and the fsync × consistency modes every run is repeated under.
 */
import fc from 'fast-check';
import { FsyncSchedule, ReadConsistency } from '../../src/engine/consistency.js';

export const TOPICS = ['t0', 't1', 't2'];
export const CURSORS = [undefined, 'c1', 'c2'] as const;

/** One step of a generated history. */
export type Op =
  | { kind: 'append'; topic: number; size: number; wait: boolean }
  | { kind: 'batch'; topic: number; sizes: number[]; wait: boolean }
  | { kind: 'read'; topic: number; cursor: number; checkpoint: boolean; maxBytes: number }
  | { kind: 'commit'; topic: number; cursor: number; delta: number }
  | { kind: 'pause'; ms: number }
  | { kind: 'crash'; seed: number; settle: number }
  | { kind: 'restart' }
  | { kind: 'delete'; topic: number }
  | { kind: 'fault'; target: 'segment' | 'cursors'; writes: number; keep: number };

const sizeArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 24, max: 600 }) },
  { weight: 3, arbitrary: fc.integer({ min: 600, max: 5000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 5000, max: 24000 }) },
);
const topicArb = fc.integer({ min: 0, max: TOPICS.length - 1 });
/** A step, weighted so most runs append a lot, read and commit some, and crash a few times. */
export const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 30, arbitrary: fc.record({ kind: fc.constant('append' as const), topic: topicArb, size: sizeArb, wait: fc.boolean() }) },
  {
    weight: 12,
    arbitrary: fc.record({
      kind: fc.constant('batch' as const),
      topic: topicArb,
      sizes: fc.oneof(fc.array(sizeArb, { minLength: 1, maxLength: 8 }), fc.array(fc.integer({ min: 24, max: 120 }), { minLength: 20, maxLength: 300 })),
      wait: fc.boolean(),
    }),
  },
  {
    weight: 14,
    arbitrary: fc.record({
      kind: fc.constant('read' as const),
      topic: topicArb,
      cursor: fc.integer({ min: 0, max: CURSORS.length - 1 }),
      checkpoint: fc.boolean(),
      maxBytes: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 40000 })),
    }),
  },
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('commit' as const), topic: topicArb, cursor: fc.integer({ min: 1, max: CURSORS.length - 1 }), delta: fc.integer({ min: 0, max: 30 }) }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('pause' as const), ms: fc.constantFrom(-1, 0, 1, 3) }) },
  { weight: 7, arbitrary: fc.record({ kind: fc.constant('crash' as const), seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }), settle: fc.integer({ min: 0, max: 4 }) }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'restart' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), topic: topicArb }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('fault' as const),
      target: fc.constantFrom('segment' as const, 'cursors' as const),
      writes: fc.integer({ min: 1, max: 3 }),
      keep: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
  },
);

/**
 * A steady produce-and-consume history on one topic: large appends and batches, checkpointing reads
 * of one cursor, power cuts and restarts. Segments fill and are reclaimed every few steps, so under
 * SyncEach their files are recycled (segment-manager.ts) with cuts falling before, during and after.
 */
export const steadyOpArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ kind: fc.constant('append' as const), topic: fc.constant(0), size: fc.integer({ min: 1000, max: 9000 }), wait: fc.boolean() }) },
  {
    weight: 6,
    arbitrary: fc.record({ kind: fc.constant('batch' as const), topic: fc.constant(0), sizes: fc.array(fc.integer({ min: 500, max: 4000 }), { minLength: 2, maxLength: 6 }), wait: fc.boolean() }),
  },
  {
    weight: 12,
    arbitrary: fc.record({ kind: fc.constant('read' as const), topic: fc.constant(0), cursor: fc.constant(1), checkpoint: fc.constant(true), maxBytes: fc.integer({ min: 4000, max: 40000 }) }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('pause' as const), ms: fc.constantFrom(-1, 0, 1, 3) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('crash' as const), seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }), settle: fc.integer({ min: 0, max: 4 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'restart' as const }) },
);

/** An fsync schedule with a read consistency. */
export interface Mode {
  name: string;
  fsync: FsyncSchedule;
  consistency: ReadConsistency;
}

/** Every fsync schedule × both consistencies. */
export const MODES: Mode[] = [];
for (const [fname, fsync] of [
  ['SyncEach', FsyncSchedule.SyncEach],
  ['milliseconds(2)', FsyncSchedule.milliseconds(2)],
  ['NoFsync', FsyncSchedule.NoFsync],
] as const) {
  MODES.push({ name: `${fname} × StrictlyAtOnce`, fsync, consistency: ReadConsistency.StrictlyAtOnce });
  MODES.push({ name: `${fname} × AtLeastOnce(5)`, fsync, consistency: ReadConsistency.AtLeastOnce({ persistEvery: 5 }) });
}
