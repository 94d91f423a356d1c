/** N closed-loop appenders (await append, then the next) over 8 topics for 3 s: entries/s and CPU µs per entry. */
import fs from 'node:fs';
import { pino } from 'pino';
import { FsyncSchedule, ReadConsistency, Walrus } from '../../src/engine/index.js';

const N = Number(process.env.N ?? 256);
const dir = fs.mkdtempSync('/tmp/walrus-probe-');
const wal = await Walrus.open({
  dataDir: dir,
  logger: pino({ level: 'silent' }),
  fsync: process.env.F === 'none' ? FsyncSchedule.NoFsync : FsyncSchedule.SyncEach,
  backend: (process.env.B ?? 'auto') as 'auto' | 'fs' | 'uring',
  consistency: ReadConsistency.AtLeastOnce({ persistEvery: 5000 }),
});
const data = Buffer.alloc(1024, 0x61);
await wal.appendForTopic('warm', data);
let stop = false;
let count = 0;
setTimeout(() => (stop = true), 3000);
const t0 = performance.now();
const c0 = process.cpuUsage();
await Promise.all(
  Array.from({ length: N }, async (_, i) => {
    while (!stop) {
      await wal.appendForTopic(`t${i % 8}`, data);
      count++;
    }
  }),
);
const elapsed = performance.now() - t0;
const cpu = process.cpuUsage(c0);
console.log(
  `${wal.backend.name}, ${process.env.F === 'none' ? 'NoFsync' : 'SyncEach'}, ${N} appenders, WALRUS_NATIVE_CRC=${process.env.WALRUS_NATIVE_CRC ?? '(default)'}: ` +
    `${Math.round((count / elapsed) * 1000)}/s, ${((cpu.user + cpu.system) / count).toFixed(2)} µs CPU/entry`,
);
await wal.close();
fs.rmSync(dir, { recursive: true });
