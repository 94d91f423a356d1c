/** µs per 1 KiB entry: node:zlib's crc32 one entry at a time vs the addon's crc32Entries (folded where the CPU can). */
import { crc32 } from 'node:zlib';
import { loadEntryChecksums } from '../../src/engine/entry-checksums.js';

const N = 256;
const PAYLOAD = 1024;
const HEADER = 32;
const buffer = Buffer.alloc(N * (HEADER + PAYLOAD), 0x61);
const spans = new Float64Array(2 * N);
for (let i = 0; i < N; i++) {
  spans[2 * i] = i * (HEADER + PAYLOAD);
  spans[2 * i + 1] = PAYLOAD;
}
const ROUNDS = 4000;

function perEntry(label: string, fn: (round: number) => void): void {
  for (let r = 0; r < 200; r++) fn(r); // warm-up
  const start = performance.now();
  for (let r = 0; r < ROUNDS; r++) fn(r);
  console.log(`${label}: ${(((performance.now() - start) * 1000) / (ROUNDS * N)).toFixed(3)} µs per entry`);
}

perEntry('node:zlib crc32, one call per entry', (seed) => {
  for (let i = 0; i < N; i++) {
    const at = spans[2 * i];
    buffer.writeUInt32LE(crc32(buffer.subarray(at + 4, at + HEADER + PAYLOAD), seed), at);
  }
});
const native = await loadEntryChecksums({});
if (native === null) console.log('addon: not built');
else perEntry(`addon crc32Entries (${native.folds ? 'folded, PCLMULQDQ' : "zlib's code"})`, (seed) => native.crc32Entries(buffer, spans, N, seed));
