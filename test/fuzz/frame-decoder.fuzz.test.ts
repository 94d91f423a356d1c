/**
 * Fuzzing the frame decoder (src/protocol/frame-decoder.ts) with fast-check: random bytes, valid
 * frames mixed with garbage bodies, truncated frames, length prefixes around and far past the maximum,
 * and deeply nested msgpack, each fed in random chunk splits. The decoder must never throw, never
 * hold more than one frame's worth of bytes, stay in step after a bad body, and stop for good after
 * an oversized length. Runs: FUZZ_RUNS (default 300, 5000 under WALRUS_SOAK=1).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder, ProtocolError } from '../../src/protocol/index.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? (process.env.WALRUS_SOAK === '1' ? 5000 : 300));
const MAX = 4096;

interface Outcome {
  messages: Record<string, unknown>[];
  errors: ProtocolError[];
  bufferedMax: number;
  decoder: FrameDecoder;
}

/** Feeds `bytes` cut at `cuts` (fractions in [0, 1)) and records everything the decoder does. */
function feed(bytes: Buffer, cuts: number[], maxFrameBytes = MAX): Outcome {
  const out: Outcome = { messages: [], errors: [], bufferedMax: 0, decoder: null as unknown as FrameDecoder };
  let stoppedAt = -1;
  const decoder = new FrameDecoder({
    maxFrameBytes,
    onMessage: (m) => {
      if (stoppedAt >= 0) throw new Error('message after FRAME_TOO_LARGE');
      out.messages.push(m);
    },
    onError: (e) => {
      if (stoppedAt >= 0) throw new Error('error after FRAME_TOO_LARGE');
      out.errors.push(e);
      if (e.code === 'FRAME_TOO_LARGE') stoppedAt = out.errors.length;
    },
  });
  out.decoder = decoder;
  const points = [...new Set(cuts.map((c) => Math.floor(c * bytes.length)))].sort((a, b) => a - b);
  let from = 0;
  for (const p of [...points, bytes.length]) {
    decoder.push(bytes.subarray(from, p));
    out.bufferedMax = Math.max(out.bufferedMax, decoder.bufferedBytes);
    from = p;
  }
  return out;
}

function frame(body: Buffer, declared = body.length): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(declared);
  return Buffer.concat([header, body]);
}

/**
 * JSON-like values normalised through JSON (so -0 becomes 0), as the encoder would carry them.
 * `__proto__` keys are left out here: the decoder renames them on purpose (see the pollution test).
 */
const plainValue = fc
  .jsonValue({ maxDepth: 4 })
  .map((v) => JSON.parse(JSON.stringify(v), (key, value: unknown) => (key === '__proto__' ? undefined : value)) as unknown);
const keyArb = fc.string({ maxLength: 8 }).filter((k) => k !== '__proto__');
const cutsArb = fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { maxLength: 12 });

describe('FrameDecoder under fuzzing', () => {
  it('random bytes: never throws, only BAD_FRAME or FRAME_TOO_LARGE, buffers at most one frame', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3 * MAX }), cutsArb, (bytes, cuts) => {
        const out = feed(Buffer.from(bytes), cuts);
        for (const e of out.errors) expect(['BAD_FRAME', 'FRAME_TOO_LARGE']).toContain(e.code);
        for (const m of out.messages) expect(Object.getPrototypeOf(m) === Object.prototype || Object.getPrototypeOf(m) === null).toBe(true);
        expect(out.bufferedMax).toBeLessThanOrEqual(MAX + 4);
      }),
      { numRuns: RUNS },
    );
  });

  it('valid frames and garbage bodies interleaved, any split: stays in step, every valid frame decoded in order', () => {
    const part = fc.oneof(
      fc.record({ kind: fc.constant('valid' as const), fields: fc.dictionary(keyArb, plainValue, { maxKeys: 6 }) }),
      fc.record({ kind: fc.constant('garbage' as const), body: fc.uint8Array({ maxLength: 200 }) }),
    );
    fc.assert(
      fc.property(fc.array(part, { maxLength: 12 }), cutsArb, (parts, cuts) => {
        const expected: Record<string, unknown>[] = [];
        const frames = parts.map((p, i) => {
          if (p.kind === 'garbage') return frame(Buffer.from(p.body));
          const message = { ...p.fields, tag: `frame-${i}` };
          expected.push(message);
          return encodeFrame(message);
        });
        const out = feed(Buffer.concat(frames), cuts);
        expect(out.errors.every((e) => e.code === 'BAD_FRAME')).toBe(true);
        expect(out.messages.length + out.errors.length).toBe(parts.length);
        const tagged = out.messages.filter((m) => typeof m.tag === 'string' && m.tag.startsWith('frame-'));
        expect(tagged).toEqual(expected);
        expect(out.decoder.bufferedBytes).toBe(0);
      }),
      { numRuns: RUNS },
    );
  });

  it('truncated stream: a frame cut short is held, not emitted, and costs at most its own bytes', () => {
    fc.assert(
      fc.property(fc.dictionary(keyArb, plainValue, { minKeys: 1, maxKeys: 6 }), fc.nat(), cutsArb, (fields, cut, cuts) => {
        const whole = encodeFrame({ ...fields, id: 1 });
        const truncated = whole.subarray(0, cut % whole.length);
        const out = feed(truncated, cuts);
        expect(out.messages).toEqual([]);
        expect(out.errors).toEqual([]);
        expect(out.decoder.bufferedBytes).toBe(truncated.length);
      }),
      { numRuns: RUNS },
    );
  });

  it('length prefixes: max is accepted, max+1 up to 2^32-1 stops the decoder before buffering the body', () => {
    fc.assert(
      fc.property(fc.integer({ min: MAX + 1, max: 2 ** 32 - 1 }), fc.uint8Array({ maxLength: 64 }), cutsArb, (declared, tail, cuts) => {
        const out = feed(Buffer.concat([frame(Buffer.alloc(0), declared), Buffer.from(tail), encodeFrame({ id: 1, op: 'hello' })]), cuts);
        expect(out.errors.map((e) => e.code)).toEqual(['FRAME_TOO_LARGE']);
        expect(out.messages).toEqual([]);
        expect(out.decoder.isStopped).toBe(true);
        expect(out.decoder.bufferedBytes).toBe(0);
      }),
      { numRuns: RUNS },
    );
    // The exact edge, once each: an empty body, a body of exactly MAX bytes, MAX + 1.
    expect(feed(frame(Buffer.alloc(0)), []).errors.map((e) => e.code)).toEqual(['BAD_FRAME']);
    const atMax = feed(frame(Buffer.alloc(MAX, 0xc0)), [0.5]);
    expect(atMax.errors.map((e) => e.code)).toEqual(['BAD_FRAME']);
    expect(atMax.decoder.isStopped).toBe(false);
    expect(feed(frame(Buffer.alloc(0), MAX + 1), []).errors.map((e) => e.code)).toEqual(['FRAME_TOO_LARGE']);
  });

  it('deep nesting: arrays and maps nested far past any sane depth are BAD_FRAME or a plain value, never a crash', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200_000 }), fc.boolean(), (depth, maps) => {
        // { id: 1, op: "produce", topic: [[[[ … nil ]]]] } with `depth` levels (fixarray 1 or fixmap 1).
        const head = Buffer.from([0x83, 0xa2, 0x69, 0x64, 0x01, 0xa2, 0x6f, 0x70, 0xa7, ...Buffer.from('produce'), 0xa5, ...Buffer.from('topic')]);
        const level = maps ? Buffer.from([0x81, 0xa1, 0x6b]) : Buffer.from([0x91]);
        const body = Buffer.concat([head, Buffer.alloc(level.length * depth).fill(level), Buffer.from([0xc0])]);
        const out = feed(frame(body), [], 64 * 1024 * 1024);
        expect(out.messages.length + out.errors.length).toBe(1);
        for (const e of out.errors) expect(e.code).toBe('BAD_FRAME');
      }),
      { numRuns: Math.min(RUNS, 60) },
    );
  });
  it('`__proto__` and `constructor` keys at any depth never reach a prototype', () => {
    fc.assert(
      fc.property(fc.constantFrom('__proto__', 'constructor', 'prototype'), fc.integer({ min: 0, max: 4 }), (key, depth) => {
        // Hand-built msgpack: { id: 1, <key>: { polluted: true } } nested `depth` maps deep.
        const keyBytes = Buffer.from(key);
        const inner = Buffer.concat([Buffer.from([0x81, 0xa8]), Buffer.from('polluted'), Buffer.from([0xc3])]);
        let value = Buffer.concat([Buffer.from([0x82, 0xa2, 0x69, 0x64, 0x01, 0xa0 + keyBytes.length]), keyBytes, inner]);
        for (let d = 0; d < depth; d++) value = Buffer.concat([Buffer.from([0x81, 0xa1, 0x6e]), value]);
        const out = feed(frame(value), []);
        expect(out.errors).toEqual([]);
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
        let m: unknown = out.messages[0];
        for (let d = 0; d < depth; d++) m = (m as Record<string, unknown>).n;
        expect(Object.getPrototypeOf(m)).toBe(Object.prototype);
        expect((m as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { numRuns: 30 },
    );
  });
});
