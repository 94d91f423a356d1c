/**
 * SyncEach with one appender, against what lies under it, alternating in one process: the engine
 * (uring backend, 1 KiB appends), a raw io_uring write of one 4 KiB page linked to an fdatasync
 * through the addon's ring (O_DIRECT, preallocated file), and the bench's ceiling (`writevSync` of
 * 1 KiB + `fdatasync` on the main thread). µs per operation and the shares of the ceiling.
 */
import fs from 'node:fs';
import { pino } from 'pino';
import { loadUringAddon } from '../../src/engine/backends/uring-ring.js';
import { FsyncSchedule, ReadConsistency, Walrus } from '../../src/engine/index.js';

const addon = await loadUringAddon();
const MS = Number(process.env.MS ?? 1500);
const data = Buffer.alloc(1024, 0x61);

async function engine(): Promise<number> {
  const dir = fs.mkdtempSync('/tmp/walrus-probe-');
  const wal = await Walrus.open({ dataDir: dir, logger: pino({ level: 'silent' }), fsync: FsyncSchedule.SyncEach, backend: 'uring', consistency: ReadConsistency.AtLeastOnce({ persistEvery: 5000 }) });
  await wal.appendForTopic('t', data);
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < MS) {
    await wal.appendForTopic('t', data);
    n++;
  }
  const us = ((performance.now() - t0) * 1000) / n;
  await wal.close();
  fs.rmSync(dir, { recursive: true });
  return us;
}

const file = '/tmp/walrus-probe-one-appender';
const zeros = Buffer.alloc(1 << 20);
const fd0 = fs.openSync(file, 'w+');
for (let i = 0; i < 64; i++) fs.writeSync(fd0, zeros, 0, zeros.length, i << 20);
fs.fdatasyncSync(fd0);
fs.closeSync(fd0);
const page = addon.allocAligned(4096, 4096).fill(0x61);
const directFd = fs.openSync(file, fs.constants.O_RDWR | addon.O_DIRECT);
const completions = new Int32Array(64);
let onSync: (() => void) | null = null;
const onComplete = (n: number): void => {
  for (let i = 0; i < n; i++) if (completions[2 * i] === 1) onSync?.();
};
const ring = new addon.Ring(16, onComplete, completions);

async function raw(): Promise<number> {
  let n = 0;
  let pos = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < MS) {
    await new Promise<void>((resolve) => {
      onSync = resolve;
      ring.write(0, directFd, page, pos, 1);
    });
    pos = (pos + 4096) % (60 << 20);
    n++;
  }
  return ((performance.now() - t0) * 1000) / n;
}

function ceiling(): number {
  const fd = fs.openSync(file, 'r+');
  let n = 0;
  let pos = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < MS) {
    fs.writevSync(fd, [data], pos);
    fs.fdatasyncSync(fd);
    pos = (pos + 1024) % (60 << 20);
    n++;
  }
  fs.closeSync(fd);
  return ((performance.now() - t0) * 1000) / n;
}

for (let round = 1; round <= Number(process.env.ROUNDS ?? 3); round++) {
  const e = await engine();
  const r = await raw();
  const c = ceiling();
  console.log(`round ${round}: engine ${e.toFixed(1)} µs, raw ring write+fdatasync ${r.toFixed(1)} µs, ceiling ${c.toFixed(1)} µs → engine ${((c / e) * 100).toFixed(0)} %, raw ring ${((c / r) * 100).toFixed(0)} % of the ceiling`);
}
ring.close();
fs.closeSync(directFd);
fs.rmSync(file);
