/** N closed-loop appenders (await append, then the next) over 8 topics for 3 s: entries/s and CPU µs per entry. */
import { openProbeLog, probeFsyncName } from './probe-log.js';

const N = Number(process.env.N ?? 256);
const { wal, close } = await openProbeLog();
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
  `${wal.backend.name}, ${probeFsyncName}, ${N} appenders, WALRUS_NATIVE_CRC=${process.env.WALRUS_NATIVE_CRC ?? '(default)'}: ` +
    `${Math.round((count / elapsed) * 1000)}/s, ${((cpu.user + cpu.system) / count).toFixed(2)} µs CPU/entry`,
);
await close();
