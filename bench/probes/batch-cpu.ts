/** Batch append of 256 × 1 KiB in a closed loop for 3 s, then readFrom over all of it: entries/s and CPU µs per entry. */
import { openProbeLog, probeFsyncName } from './probe-log.js';

const { wal, close } = await openProbeLog();
const entries = Array.from({ length: 256 }, () => Buffer.alloc(1024, 0x61));
await wal.appendForTopic('warm', entries[0]);
let stop = false;
let count = 0;
setTimeout(() => (stop = true), 3000);
const t0 = performance.now();
const c0 = process.cpuUsage();
while (!stop) {
  await wal.batchAppendForTopic('t', entries);
  count += 256;
}
const elapsed = performance.now() - t0;
const cpu = process.cpuUsage(c0);
const r0 = process.cpuUsage();
const rt = performance.now();
let read = 0;
for (let offset = 0; ; ) {
  const got = await wal.readFrom('t', offset, { maxBytes: 1 << 20 });
  if (got.length === 0) break;
  read += got.length;
  offset = got[got.length - 1].offset + 1;
}
const readCpu = process.cpuUsage(r0);
const readElapsed = performance.now() - rt;
console.log(
  `${wal.backend.name}, ${probeFsyncName}, WALRUS_NATIVE_CRC=${process.env.WALRUS_NATIVE_CRC ?? '(default)'}: ` +
    `batch append ${Math.round((count / elapsed) * 1000)}/s, ${((cpu.user + cpu.system) / count).toFixed(2)} µs CPU/entry; ` +
    `readFrom ${Math.round((read / readElapsed) * 1000)}/s, ${((readCpu.user + readCpu.system) / read).toFixed(2)} µs CPU/entry (reads: ${wal.reads.name})`,
);
await close();
