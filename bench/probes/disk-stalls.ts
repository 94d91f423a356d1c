/**
 * The disk's own latency tail: one linked write+fdatasync of SZ bytes after another for 5 s, into a
 * preallocated, zero-filled file (the engine's best case). Prints percentiles and the stalls over
 * 2 ms; a 2 ms produce-to-ack p99 at 20k msgs/s needs these to be rare.
 */
import fs from 'node:fs';
import { selectBackend } from '../../src/engine/backends/select-backend.js';

const dir = fs.mkdtempSync('/tmp/walrus-probe-');
const selected = await selectBackend({ backend: 'uring', dataDir: dir });
const file = await selected.io.open(`${dir}/probe`, { create: true });
await file.preallocateZeroed(64 << 20);
await file.datasync();
const bytes = Buffer.alloc(Number(process.env.SZ ?? 2048), 7);
const times: number[] = [];
let position = 0;
let stalls = 0;
let stalledMs = 0;
const end = performance.now() + 5000;
while (performance.now() < end) {
  const start = performance.now();
  if (file.writevAndSync) await file.writevAndSync([bytes], position);
  else {
    await file.writev([bytes], position);
    await file.datasync();
  }
  const ms = performance.now() - start;
  times.push(ms);
  if (ms > 2) {
    stalls++;
    stalledMs += ms;
  }
  position += bytes.length;
  if (position > 60 << 20) position = 0;
}
times.sort((a, b) => a - b);
const q = (p: number): string => times[Math.floor(times.length * p)].toFixed(3);
console.log(
  `${selected.name}: ${times.length} × (${bytes.length} B write + fdatasync) in 5 s; p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, p99.9 ${q(0.999)} ms, ` +
    `max ${times[times.length - 1].toFixed(1)} ms; over 2 ms: ${stalls} (${stalledMs.toFixed(0)} ms in all)`,
);
await file.close();
fs.rmSync(dir, { recursive: true });
