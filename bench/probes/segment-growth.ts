/**
 * What growing the log costs a durable append: a closed loop of SyncEach batch appends (256 × 1 KiB)
 * for DUR ms, (a) with the default geometry, where new 64 MiB segments are zero-filled while the
 * loop runs (the spare is made once half of the current segment is handed out), against (b) one
 * first segment of BIG_BLOCKS × 4 MiB, zero-filled at open, whose first half holds every byte the
 * window writes, so no zero-fill runs during it. Alternating, ROUNDS rounds; prints entries/s of
 * each and their ratio. (b) is what the `writevSync + fdatasync` ceiling measures: rewrites of
 * space that was allocated and written before.
 */
import { FsyncSchedule } from '../../src/engine/index.js';
import { openProbeLog } from './probe-log.js';

const DUR = Number(process.env.DUR ?? 1500);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const BIG_BLOCKS = Number(process.env.BIG_BLOCKS ?? 512);
const data = Buffer.alloc(1024, 0x61);
const batch = Array.from({ length: 256 }, () => data);

async function run(blocksPerSegment: number | undefined): Promise<number> {
  const { wal, close } = await openProbeLog({ fsync: FsyncSchedule.SyncEach, ...(blocksPerSegment ? { blocksPerSegment } : {}) });
  try {
    await wal.batchAppendForTopic('warm', [data]);
    let count = 0;
    const end = performance.now() + DUR;
    const t0 = performance.now();
    while (performance.now() < end) {
      await wal.batchAppendForTopic('t', batch);
      count += batch.length;
    }
    return count / ((performance.now() - t0) / 1000);
  } finally {
    await close();
  }
}

const fmt = (n: number): string => `${Math.round(n / 1000)}k/s`;
for (let round = 1; round <= ROUNDS; round++) {
  const order = round % 2 === 1 ? ['growing', 'reserved'] : ['reserved', 'growing'];
  const got: Record<string, number> = {};
  for (const kind of order) got[kind] = await run(kind === 'reserved' ? BIG_BLOCKS : undefined);
  console.log(`round ${round}: growing (zero-fill during the window) ${fmt(got.growing)}, reserved ${fmt(got.reserved)}, growing/reserved ${(got.growing / got.reserved).toFixed(2)}`);
}
