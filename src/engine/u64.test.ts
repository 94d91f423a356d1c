import { describe, expect, it } from 'vitest';
import { readU64, writeU64 } from './u64.js';

describe('u64 fields', () => {
  it('round-trips values at the 32-bit edge and the safe-integer maximum, little-endian', () => {
    const buf = Buffer.alloc(8);
    for (const v of [0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 1_795_696_205_265, Number.MAX_SAFE_INTEGER]) {
      writeU64(buf, v, 0);
      expect(readU64(buf, 0)).toBe(v);
      expect(buf.readBigUInt64LE(0)).toBe(BigInt(v));
    }
  });
});
