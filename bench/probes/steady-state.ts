/**
 * Durable appends in a produce-and-consume steady state, with and without segment recycling: one
 * closed loop of SyncEach batch appends (256 × 1 KiB) and one consumer (1 MiB checkpointing reads
 * of one cursor) in the same process, on the default geometry (64 MiB segments). After a warm-up
 * long enough for segments to be reclaimed, DUR ms are measured. `recycleSegments: true` reuses
 * reclaimed files; `false` deletes them and zero-fills new ones while the appends run. Alternating,
 * ROUNDS rounds; prints appended and consumed entries/s and how many files were reused.
 */
import { pino } from 'pino';
import { FsyncSchedule } from '../../src/engine/index.js';
import { openProbeLog } from './probe-log.js';

const DUR = Number(process.env.DUR ?? 3000);
const WARM = Number(process.env.WARM ?? 2000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const data = Buffer.alloc(1024, 0x61);
const batch = Array.from({ length: 256 }, () => data);

async function run(recycleSegments: boolean): Promise<{ appended: number; consumed: number; reused: number }> {
  let reused = 0;
  const logger = pino({ level: 'debug' }, { write: (line: string) => void (line.includes('segment file recycled') && reused++) });
  const { wal, close } = await openProbeLog({ fsync: FsyncSchedule.SyncEach, logger, recycleSegments });
  let appended = 0;
  let consumed = 0;
  let stop = false;
  const producer = (async () => {
    while (!stop) {
      await wal.batchAppendForTopic('t', batch);
      appended += batch.length;
    }
  })();
  const consumer = (async () => {
    while (!stop) {
      const got = await wal.batchReadForTopic('t', 1024 * 1024, true, { cursor: 'c' });
      consumed += got.length;
      if (got.length === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    }
  })();
  try {
    await new Promise((resolve) => setTimeout(resolve, WARM));
    const a0 = appended;
    const c0 = consumed;
    const r0 = reused;
    const t0 = performance.now();
    await new Promise((resolve) => setTimeout(resolve, DUR));
    const seconds = (performance.now() - t0) / 1000;
    return { appended: (appended - a0) / seconds, consumed: (consumed - c0) / seconds, reused: reused - r0 };
  } finally {
    stop = true;
    await Promise.all([producer, consumer]);
    await close();
  }
}

const fmt = (n: number): string => `${Math.round(n / 1000)}k/s`;
for (let round = 1; round <= ROUNDS; round++) {
  const order = round % 2 === 1 ? [true, false] : [false, true];
  const got = new Map<boolean, Awaited<ReturnType<typeof run>>>();
  for (const recycle of order) got.set(recycle, await run(recycle));
  const on = got.get(true)!;
  const off = got.get(false)!;
  console.log(
    `round ${round}: recycling appended ${fmt(on.appended)} (consumed ${fmt(on.consumed)}, ${on.reused} files reused), ` +
      `zero-filling appended ${fmt(off.appended)} (consumed ${fmt(off.consumed)}), recycling/zero-filling ${(on.appended / off.appended).toFixed(2)}`,
  );
}
