import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameEncoder } from './frame-encoder.js';
import { FrameDecoder } from './frame-decoder.js';
import { ErrorCode, ProtocolError } from './error-codes.js';

function collect(maxFrameBytes?: number) {
  const messages: Record<string, unknown>[] = [];
  const errors: ProtocolError[] = [];
  const decoder = new FrameDecoder({ maxFrameBytes, onMessage: (m) => messages.push(m), onError: (e) => errors.push(e) });
  return { decoder, messages, errors };
}

function frameOf(body: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(body.length);
  return Buffer.concat([header, body]);
}

const sample = [
  { id: 1, op: 'hello', version: 1 },
  { id: 2, op: 'produce', topic: 't', value: new Uint8Array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]) },
  { id: 3, op: 'fetch', topic: 't', offset: 2 ** 40 },
];

describe('FrameDecoder', () => {
  it('decodes frames fed in every possible two-way and three-way split', () => {
    const stream = Buffer.concat(sample.map((m) => encodeFrame(m)));
    for (let i = 0; i <= stream.length; i++) {
      for (let j = i; j <= stream.length; j += 3) {
        const { decoder, messages, errors } = collect();
        decoder.push(stream.subarray(0, i));
        decoder.push(stream.subarray(i, j));
        decoder.push(stream.subarray(j));
        expect(errors).toEqual([]);
        expect(messages.length, `split ${i}/${j}`).toBe(3);
        expect(messages[0]).toEqual(sample[0]);
        expect(Buffer.from(messages[1].value as Uint8Array)).toEqual(Buffer.from(sample[1].value as Uint8Array));
        expect(messages[2].offset).toBe(2 ** 40);
      }
    }
  });

  it('decodes a stream fed one byte at a time', () => {
    const stream = Buffer.concat(sample.map((m) => encodeFrame(m)));
    const { decoder, messages } = collect();
    for (let i = 0; i < stream.length; i++) decoder.push(stream.subarray(i, i + 1));
    expect(messages.length).toBe(3);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('keeps decoded bin values valid when the pushed chunks are later overwritten', () => {
    const stream = encodeFrame({ id: 1, op: 'produce', topic: 't', value: Buffer.from('payload-bytes') });
    const a = Buffer.from(stream.subarray(0, 7));
    const b = Buffer.from(stream.subarray(7));
    const { decoder, messages } = collect();
    decoder.push(a);
    decoder.push(b);
    a.fill(0);
    b.fill(0);
    expect(Buffer.from(messages[0].value as Uint8Array).toString()).toBe('payload-bytes');
  });

  it('accepts a frame of exactly maxFrameBytes and rejects max+1 before buffering its body', () => {
    const max = 1024;
    const body = encodeFrame({ id: 1, op: 'x', pad: 'p'.repeat(max) }).subarray(4);
    // Trim the pad so the map body is exactly `max` bytes.
    const exact = encodeFrame({ id: 1, op: 'x', pad: 'p'.repeat(max - (body.length - max)) });
    expect(exact.length - 4).toBe(max);
    const ok = collect(max);
    ok.decoder.push(exact);
    expect(ok.errors).toEqual([]);
    expect(ok.messages.length).toBe(1);

    const over = collect(max);
    const header = Buffer.alloc(4);
    header.writeUInt32BE(max + 1);
    over.decoder.push(header);
    expect(over.errors.map((e) => e.code)).toEqual([ErrorCode.FRAME_TOO_LARGE]);
    expect(over.decoder.isStopped).toBe(true);
    over.decoder.push(exact);
    expect(over.messages).toEqual([]);
  });

  it('rejects a 1 GiB length prefix from its first four bytes, even split, without allocating', () => {
    const { decoder, errors } = collect();
    const header = Buffer.alloc(4);
    header.writeUInt32BE(2 ** 30);
    decoder.push(header.subarray(0, 1));
    decoder.push(header.subarray(1, 3));
    expect(errors).toEqual([]);
    decoder.push(header.subarray(3));
    expect(errors[0].code).toBe(ErrorCode.FRAME_TOO_LARGE);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('reports BAD_FRAME for an empty body, malformed msgpack, trailing bytes and non-maps, then keeps going', () => {
    const bad = [
      Buffer.alloc(0),
      Buffer.from([0xc1]),
      Buffer.from([0x82, 0xa1]),
      Buffer.from([0x80, 0x01]),
      Buffer.from([0x93, 1, 2, 3]),
      Buffer.from([0x2a]),
      Buffer.from([0xc4, 0x01, 0x00]),
    ];
    const stream = Buffer.concat([...bad.map(frameOf), encodeFrame({ id: 9, op: 'listTopics' })]);
    const { decoder, messages, errors } = collect();
    decoder.push(stream);
    expect(errors.map((e) => e.code)).toEqual(bad.map(() => ErrorCode.BAD_FRAME));
    expect(messages).toEqual([{ id: 9, op: 'listTopics' }]);
  });

  it('ignores empty chunks', () => {
    const { decoder, messages } = collect();
    decoder.push(Buffer.alloc(0));
    decoder.push(encodeFrame({ id: 1, op: 'listTopics' }));
    decoder.push(Buffer.alloc(0));
    expect(messages.length).toBe(1);
  });

  it('validates maxFrameBytes at construction', () => {
    expect(() => collect(0)).toThrow(RangeError);
    expect(() => collect(2 ** 31)).toThrow(RangeError);
  });
});

describe('FrameEncoder', () => {
  it('coalesces frames into one buffer and starts over after take()', () => {
    const enc = new FrameEncoder(16);
    enc.push({ id: 1, ok: true });
    enc.push({ id: 2, ok: true, offset: 2 ** 33 });
    const out = enc.take();
    expect(enc.pendingBytes).toBe(0);
    const { decoder, messages } = collect();
    decoder.push(out);
    expect(messages).toEqual([{ id: 1, ok: true }, { id: 2, ok: true, offset: 2 ** 33 }]);
  });

  it('hands over large batches whole and stays usable', () => {
    const enc = new FrameEncoder(16);
    enc.push({ id: 1, value: Buffer.alloc(100_000, 7) });
    const big = enc.take();
    enc.push({ id: 2 });
    const small = enc.take();
    const { decoder, messages } = collect();
    decoder.push(big);
    decoder.push(small);
    expect(messages.length).toBe(2);
    expect((messages[0].value as Uint8Array).length).toBe(100_000);
  });

  it('encodes offsets and timestamps as msgpack integers (0xcf), not float64 (0xcb)', () => {
    const frame = encodeFrame({ t: 1_764_000_000_000 });
    // 4-byte length, fixmap(1), fixstr "t", then the number's type byte.
    expect(frame[4]).toBe(0x81);
    expect(frame[5]).toBe(0xa1);
    expect(frame[7]).toBe(0xcf);
    expect(frame.readUInt32BE(0)).toBe(frame.length - 4);
  });

  it('pushOk and pushError build the documented reply maps', () => {
    const enc = new FrameEncoder();
    enc.pushOk(7, { offset: 2 ** 40, skipped: undefined, records: [{ value: Buffer.from('v') }] });
    enc.pushError(8, 'NOT_FOUND', 'no such topic');
    const { decoder, messages } = collect();
    decoder.push(enc.take());
    expect(messages[0]).toEqual({ id: 7, ok: true, offset: 2 ** 40, records: [{ value: Buffer.from('v') }] });
    expect(messages[1]).toEqual({ id: 8, ok: false, error: { code: 'NOT_FOUND', message: 'no such topic' } });
  });

  it('leaves the buffer unchanged when a message cannot be encoded', () => {
    const enc = new FrameEncoder();
    enc.push({ id: 1 });
    const before = enc.pendingBytes;
    expect(() => enc.push({ id: 2, f: () => 1 })).toThrow(TypeError);
    expect(enc.pendingBytes).toBe(before);
  });
});

describe('captured bytes (the example exchange in docs/protocol.md)', () => {
  const requestHex = '0000002284a26f70a770726f64756365a2696401a5746f706963a174a576616c7565c4026869';
  const replyHex = '0000002484a2696401a26f6bc3a66f666673657400a974696d657374616d70cf0000019ab697e800';

  it('the encoder produces the documented request and reply bytes exactly', () => {
    expect(encodeFrame({ op: 'produce', id: 1, topic: 't', value: Buffer.from('hi') }).toString('hex')).toBe(requestHex);
    expect(encodeFrame({ id: 1, ok: true, offset: 0, timestamp: 1764000000000 }).toString('hex')).toBe(replyHex);
  });

  it('the decoder reads the documented bytes', () => {
    const { decoder, messages } = collect();
    decoder.push(Buffer.from(requestHex + replyHex, 'hex'));
    expect(messages[0]).toEqual({ op: 'produce', id: 1, topic: 't', value: Buffer.from('hi') });
    expect(messages[1]).toEqual({ id: 1, ok: true, offset: 0, timestamp: 1764000000000 });
  });
});
