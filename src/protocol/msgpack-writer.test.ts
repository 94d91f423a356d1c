import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createUnpackr } from './frame-decoder.js';
import { MsgpackWriter } from './msgpack-writer.js';

const unpackr = createUnpackr();

function encode(value: unknown): Buffer {
  const w = new MsgpackWriter(8);
  w.write(value);
  return Buffer.from(w.buffer.subarray(0, w.position));
}

describe('MsgpackWriter', () => {
  it('writes integers past 32 bits as uint64 / int64, never float64', () => {
    const timestamp = 1_764_000_000_000;
    const bytes = encode(timestamp);
    expect(bytes[0]).toBe(0xcf);
    expect(bytes.length).toBe(9);
    expect(bytes.readBigUInt64BE(1)).toBe(BigInt(timestamp));
    expect(encode(2 ** 32)[0]).toBe(0xcf);
    expect(encode(Number.MAX_SAFE_INTEGER)[0]).toBe(0xcf);
    expect(encode(-(2 ** 31) - 1)[0]).toBe(0xd3);
    expect(encode(Number.MIN_SAFE_INTEGER)[0]).toBe(0xd3);
    expect(encode(0.5)[0]).toBe(0xcb);
    expect(unpackr.unpack(encode(timestamp))).toBe(timestamp);
  });

  it('uses the smallest integer form at each boundary', () => {
    const cases: Array<[number, number]> = [
      [0, 0x00], [127, 0x7f], [128, 0xcc], [255, 0xcc], [256, 0xcd], [65535, 0xcd], [65536, 0xce],
      [2 ** 32 - 1, 0xce], [-1, 0xff], [-32, 0xe0], [-33, 0xd0], [-128, 0xd0], [-129, 0xd1],
      [-32768, 0xd1], [-32769, 0xd2], [-(2 ** 31), 0xd2],
    ];
    for (const [n, first] of cases) {
      const bytes = encode(n);
      expect(bytes[0], String(n)).toBe(first);
      expect(unpackr.unpack(bytes), String(n)).toBe(n);
    }
  });

  it('writes Uint8Array as bin and leaves out undefined map values', () => {
    const bytes = encode({ a: new Uint8Array([1, 2, 3]), b: undefined, c: null });
    expect(bytes[0]).toBe(0x82);
    const decoded = unpackr.unpack(bytes);
    expect(Buffer.from(decoded.a)).toEqual(Buffer.from([1, 2, 3]));
    expect(decoded).not.toHaveProperty('b');
    expect(decoded.c).toBeNull();
  });

  it('round-trips strings of every header size, including multi-byte text', () => {
    for (const s of ['', 'a', 'x'.repeat(31), 'x'.repeat(32), 'é'.repeat(20), '😀'.repeat(10), 'y'.repeat(300), 'z'.repeat(70_000)]) {
      expect(unpackr.unpack(encode(s))).toBe(s);
    }
  });

  it('round-trips arbitrary protocol values through msgpackr', () => {
    const value = fc.letrec((tie) => ({
      leaf: fc.oneof(
        fc.integer(),
        fc.maxSafeInteger(),
        fc.double({ noNaN: true }).filter((d) => !Number.isInteger(d)),
        fc.string(),
        fc.boolean(),
        fc.constant(null),
      ),
      node: fc.oneof({ depthSize: 'small' }, tie('leaf'), fc.array(tie('node'), { maxLength: 5 }), fc.dictionary(fc.string().filter((k) => k !== '__proto__'), tie('node'), { maxKeys: 5 })),
    })).node;
    fc.assert(fc.property(value, (v) => {
      expect(unpackr.unpack(encode(v))).toEqual(v);
    }));
  });
});
