/**
 * Simulated power loss, property-based. fast-check generates sequences of appends, atomic batches,
 * checkpointing reads, cursor commits, pauses, power cuts and clean restarts; each run executes them
 * against the real engine on the PowerLossDisk double (test/support/power-loss-io.ts) and checks,
 * after every reopen, the promises of docs/engine.md (listed in docs/reliability.md):
 *
 * - recovery never throws on a torn tail, and no read returns a corrupt or partial entry;
 * - offsets stay dense, batches are all or nothing, a topic keeps its entries in issue order;
 * - SyncEach: nothing acknowledged is lost, and nothing a reader saw is lost (visible ⇒ synced);
 * - every mode: an acknowledged offset never comes back holding another entry; a clean close loses nothing;
 * - StrictlyAtOnce: a cursor never comes back behind an acknowledged read or commit;
 * - AtLeastOnce({ persistEvery: N }): a restart replays fewer than N entries;
 * - entries are reclaimed only below every cursor; a deleted topic never comes back;
 * - an append or cursor write refused with STORAGE_FULL (injected short write + ENOSPC) leaves the
 *   rest intact, never comes back, and moves no cursor.
 *
 * A second property runs a produce-and-consume steady state on one topic under SyncEach, where
 * reclaimed segment files are recycled as new segments while power cuts fall around it.
 *
 * Runs per mode: POWER_LOSS_RUNS (default 50, 200 under WALRUS_SOAK=1). Replay a failure with the
 * seed and path fast-check prints: WALRUS_FC_SEED=<seed> WALRUS_FC_PATH=<path>.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MODES, opArb, steadyOpArb, type Mode, type Op } from './power-loss-ops.js';
import { Run, totals } from './power-loss-model.js';

const SOAK = process.env.WALRUS_SOAK === '1';
const RUNS = Number(process.env.POWER_LOSS_RUNS ?? (SOAK ? 200 : 50));
const OPS_MAX = SOAK ? 120 : 60;

/**
 * `make test` replays one fixed seed, so CI is deterministic; `make test-soak` (WALRUS_SOAK=1) and
 * WALRUS_FC_RANDOM=1 draw a fresh seed per run to explore. Why: a random seed found an open bug
 * (docs/reliability.md, bug 8) in about one run in thirty, which would fail CI at random.
 */
const FIXED_SEED = 20261126;
const fcParams: fc.Parameters<[Op[]]> = {
  numRuns: RUNS,
  seed: process.env.WALRUS_FC_SEED ? Number(process.env.WALRUS_FC_SEED) : SOAK || process.env.WALRUS_FC_RANDOM === '1' ? undefined : FIXED_SEED,
  path: process.env.WALRUS_FC_PATH,
  endOnFailure: process.env.WALRUS_FC_SHRINK !== '1',
};

/** One generated history against the real engine on the power-loss double, checked by the model. */
async function runHistory(mode: Mode, ops: Op[]): Promise<void> {
  const run = new Run(mode);
  let ok = false;
  try {
    await run.open();
    for (const op of ops) await run.execute(op);
    await run.crash(ops.length, 1);
    await run.finish();
    ok = true;
  } finally {
    totals.runs++;
    if (!ok) run.abandon();
  }
}

describe('power loss (simulated disk, fast-check)', () => {
  for (const mode of MODES) {
    it(`keeps every promise under ${mode.name}`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: OPS_MAX }), (ops) => runHistory(mode, ops)),
        fcParams,
      );
    });
  }

  // Recycling of reclaimed segment files happens under SyncEach only (segment-manager.ts).
  for (const mode of MODES.filter((m) => m.fsync.kind === 'sync-each')) {
    it(`keeps every promise in a produce-and-consume steady state, reclaimed segments recycled, under ${mode.name}`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(steadyOpArb, { minLength: 20, maxLength: OPS_MAX }), (ops) => runHistory(mode, ops)),
        fcParams,
      );
    });
  }

  it('prints its figures', () => {
    console.log(`power-loss figures: ${JSON.stringify(totals)}`);
    expect(totals.runs).toBeGreaterThanOrEqual(MODES.length * RUNS);
  });
});
