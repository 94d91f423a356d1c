/**
 * SyncEach appends of 1 KiB at a steady RATE in-process (no broker, no network): ack latency from
 * each append's scheduled time, after a 1 s warm-up. The engine's share of the broker's latency tail.
 * The pacer spins on setImmediate (no 1 ms timer tick in the figure; it keeps one core busy).
 */
import fs from 'node:fs';
import { pino } from 'pino';
import { FsyncSchedule, ReadConsistency, Walrus } from '../../src/engine/index.js';

const RATE = Number(process.env.RATE ?? 20000);
const DURATION_MS = Number(process.env.DUR ?? 6000);
const dir = fs.mkdtempSync('/tmp/walrus-probe-');
const wal = await Walrus.open({
  dataDir: dir,
  logger: pino({ level: 'silent' }),
  fsync: FsyncSchedule.SyncEach,
  backend: (process.env.B ?? 'auto') as 'auto' | 'fs' | 'uring',
  consistency: ReadConsistency.AtLeastOnce({ persistEvery: 5000 }),
});
const data = Buffer.alloc(1024, 0x61);
await wal.appendForTopic('warm', data);
const latencies: number[] = [];
const t0 = performance.now();
let sent = 0;
await new Promise<void>((resolve) => {
  const tick = (): void => {
    const now = performance.now();
    if (now - t0 > DURATION_MS) return resolve();
    const due = Math.floor(((now - t0) * RATE) / 1000);
    while (sent < due) {
      const scheduled = t0 + (sent * 1000) / RATE;
      sent++;
      void wal.appendForTopic('t', data).then(() => {
        if (scheduled - t0 > 1000) latencies.push(performance.now() - scheduled);
      });
    }
    setImmediate(tick);
  };
  tick();
});
await new Promise((r) => setTimeout(r, 200));
latencies.sort((a, b) => a - b);
const q = (p: number): string => latencies[Math.floor(latencies.length * p)].toFixed(3);
console.log(`${wal.backend.name}: ${latencies.length} appends at ${RATE}/s after warm-up; ack p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, p99.9 ${q(0.999)} ms, max ${latencies[latencies.length - 1].toFixed(1)} ms`);
await wal.close();
fs.rmSync(dir, { recursive: true });
