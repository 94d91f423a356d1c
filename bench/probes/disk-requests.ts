/**
 * Does this disk serve concurrent direct writes in parallel? The same 264 KiB per iteration, made
 * durable either as one linked write+fdatasync or as 2/4/8 concurrent O_DIRECT writes then one
 * fdatasync (uring backend, direct writes on). p50/p90 ms per iteration and MB/s.
 */
import fs from 'node:fs';
import { selectBackend } from '../../src/engine/backends/select-backend.js';

const N = Number(process.env.N ?? 300);
const dir = fs.mkdtempSync('/tmp/walrus-probe-');
const selected = await selectBackend({ backend: 'uring', dataDir: dir, directWrites: 'always' });
const file = await selected.io.open(`${dir}/probe`, { create: true });
await file.preallocateZeroed(64 << 20);
await file.datasync();
const bytes = Buffer.alloc(264 * 1024, 7);

async function run(parts: number): Promise<void> {
  const times: number[] = [];
  let position = 0;
  const size = bytes.length / parts;
  for (let i = 0; i < N; i++) {
    const start = performance.now();
    if (parts === 1) await file.writevAndSync!([bytes], position);
    else {
      await Promise.all(Array.from({ length: parts }, (_, k) => file.writev([bytes.subarray(k * size, (k + 1) * size)], position + k * size)));
      await file.datasync();
    }
    times.push(performance.now() - start);
    position = (position + bytes.length) % (60 << 20);
  }
  const total = times.reduce((a, b) => a + b, 0);
  times.sort((a, b) => a - b);
  const label = parts === 1 ? 'one 264 KiB linked write+fdatasync' : `${parts} × ${size / 1024} KiB concurrent + fdatasync`;
  console.log(`${label}: p50 ${times[N >> 1].toFixed(3)} ms, p90 ${times[Math.floor(N * 0.9)].toFixed(3)} ms, ${((bytes.length * N) / total / 1000).toFixed(0)} MB/s`);
}

if (selected.name !== 'uring') console.log(`uring backend unavailable: ${selected.reason}`);
else for (let round = 0; round < 2; round++) for (const parts of [1, 2, 4, 8]) await run(parts);
await file.close();
fs.rmSync(dir, { recursive: true });
