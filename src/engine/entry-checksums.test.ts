import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { loadEntryChecksums, NATIVE_CRC_ENV } from './entry-checksums.js';
import { ENTRY_HEADER_BYTES } from './limits.js';
import { FsyncSchedule } from './index.js';
import { open, payload, removeTempDirs, tempDir } from '../../test/engine/helpers.js';

const native = await loadEntryChecksums({});
console.info(`[entry-checksums.test] checksums: ${native ? `addon (${native.folds ? 'folded with PCLMULQDQ' : 'zlib code'})` : 'addon not built (node:zlib only)'}`);
afterAll(removeTempDirs);

describe('entry checksums', () => {
  it('are off with WALRUS_NATIVE_CRC=0', async () => {
    expect(await loadEntryChecksums({ [NATIVE_CRC_ENV]: '0' })).toBeNull();
  });

  it.skipIf(native === null)('match node:zlib crc32 of header bytes 4..31 and the payload, for any entries and seed', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(3000), { minLength: 0, maxLength: 20 }), fc.nat(0xffffffff), fc.uint8Array({ minLength: 1, maxLength: 64 }), (lengths, seed, fill) => {
        const total = lengths.reduce((sum, n) => sum + ENTRY_HEADER_BYTES + n, 0);
        const buffer = Buffer.alloc(total);
        for (let i = 0; i < total; i++) buffer[i] = fill[i % fill.length] ^ (i * 31);
        const spans = new Float64Array(2 * lengths.length);
        let at = 0;
        const expected: number[] = [];
        lengths.forEach((n, i) => {
          spans[2 * i] = at;
          spans[2 * i + 1] = n;
          expected.push(crc32(buffer.subarray(at + 4, at + ENTRY_HEADER_BYTES + n), seed));
          at += ENTRY_HEADER_BYTES + n;
        });
        native!.crc32Entries(buffer, spans, lengths.length, seed);
        expect(lengths.map((_, i) => buffer.readUInt32LE(spans[2 * i]))).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });

  it.skipIf(native === null)('crc32 of one buffer equals node:zlib for any bytes, length, alignment and seed', () => {
    // Lengths around the folding path's edges (16-byte lanes, 64-byte blocks) and well past them.
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 5000 }), fc.nat(15), fc.nat(0xffffffff), (bytes, shift, seed) => {
        const backing = Buffer.alloc(bytes.length + shift);
        backing.set(bytes, shift);
        const view = backing.subarray(shift);
        expect(native!.crc32(view, seed)).toBe(crc32(view, seed));
      }),
      { numRuns: 500 },
    );
    for (let n = 0; n <= 200; n++) {
      const bytes = Buffer.alloc(n, n * 7 + 1);
      expect(native!.crc32(bytes, n)).toBe(crc32(bytes, n));
    }
  });

  it.skipIf(native === null)('refuse an entry outside the buffer and write nothing', () => {
    const buffer = Buffer.alloc(100, 7);
    const spans = new Float64Array([0, 10, 50, 30]); // the second runs to byte 112
    expect(() => native!.crc32Entries(buffer, spans, 2, 1)).toThrow(RangeError);
    expect(buffer.every((b) => b === 7)).toBe(true);
    expect(() => native!.crc32Entries(buffer, spans, 3, 1)).toThrow(RangeError);
  });

  it('write logs that read back the same with and without the addon', async () => {
    const dir = tempDir();
    const saved = process.env[NATIVE_CRC_ENV];
    const written = [payload(0), payload(1, 20_000), payload(2, 3000), Buffer.alloc(0)];
    try {
      for (const mode of ['1', '0']) {
        process.env[NATIVE_CRC_ENV] = mode;
        const wal = await open(dir, { fsync: FsyncSchedule.SyncEach });
        await wal.batchAppendForTopic(`t${mode}`, written);
        await wal.appendForTopic(`t${mode}`, payload(9));
        await wal.close();
      }
      for (const mode of ['0', '1']) {
        process.env[NATIVE_CRC_ENV] = mode;
        const wal = await open(dir, { fsync: FsyncSchedule.SyncEach });
        for (const topic of ['t1', 't0']) {
          const entries = await wal.readFrom(topic, 0);
          expect(entries.map((e) => e.data.toString('hex'))).toEqual([...written, payload(9)].map((p) => p.toString('hex')));
        }
        await wal.close();
      }
    } finally {
      if (saved === undefined) delete process.env[NATIVE_CRC_ENV];
      else process.env[NATIVE_CRC_ENV] = saved;
    }
  });
});
