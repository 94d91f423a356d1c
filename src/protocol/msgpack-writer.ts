/**
 * A small msgpack encoder for the values the protocol sends: nil, booleans, numbers, strings, bin,
 * arrays and string-keyed maps.
 *
 * Why not msgpackr's encoder: msgpackr writes a JS number outside 32 bits as float64 (0xcb), so a
 * millisecond timestamp or an offset past 4 G would reach typed clients as a float. Here every
 * safe integer is written in the smallest integer form, using uint64 (0xcf) / int64 (0xd3) past
 * 32 bits; only non-integers (and integers beyond 2^53, which JS cannot hold exactly) become float64.
 *
 * Map entries whose value is `undefined` are left out, so optional fields cost nothing.
 * The writer appends into one growable buffer that it owns; `subarray`/`copy` hand the bytes out.
 */
import assert from 'node:assert';
import { ENCODE_DEPTH_MAX } from './limits.js';

/** Initial capacity of a writer's buffer: most replies and requests fit, so few regrowths. */
const WRITER_BYTES_INITIAL = 16 * 1024;

/** Appends msgpack values to a growable buffer. Not thread-shared; one per connection or encoder. */
export class MsgpackWriter {
  /** Backing store; `position` bytes of it are written. */
  buffer: Buffer;
  position = 0;

  constructor(initialBytes: number = WRITER_BYTES_INITIAL) {
    this.buffer = Buffer.allocUnsafe(initialBytes);
  }

  /** Makes room for `bytes` more bytes, doubling to amortise growth. */
  ensure(bytes: number): void {
    const needed = this.position + bytes;
    if (needed <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < needed) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buffer.copy(next, 0, 0, this.position);
    this.buffer = next;
  }

  /** Forgets everything written; keeps the buffer. */
  reset(): void {
    this.position = 0;
  }

  /** Writes one value. Throws TypeError for types the protocol never sends (functions, symbols, …). */
  write(value: unknown, depth = 0): void {
    assert(depth <= ENCODE_DEPTH_MAX, 'msgpack value nested too deeply');
    switch (typeof value) {
      case 'number':
        this.writeNumber(value);
        return;
      case 'string':
        this.writeString(value);
        return;
      case 'boolean':
        this.ensure(1);
        this.buffer[this.position++] = value ? 0xc3 : 0xc2;
        return;
      case 'undefined':
        this.writeNil();
        return;
      case 'bigint':
        this.writeBigInt(value);
        return;
      case 'object':
        if (value === null) this.writeNil();
        else if (value instanceof Uint8Array) this.writeBin(value);
        else if (Array.isArray(value)) this.writeArray(value, depth);
        else this.writeMap(value as Record<string, unknown>, depth);
        return;
      default:
        throw new TypeError(`cannot encode a ${typeof value} as msgpack`);
    }
  }

  writeNil(): void {
    this.ensure(1);
    this.buffer[this.position++] = 0xc0;
  }

  /** Integers in the smallest integer encoding (uint64/int64 past 32 bits); other numbers as float64. */
  writeNumber(value: number): void {
    this.ensure(9);
    const b = this.buffer;
    let p = this.position;
    if (Number.isSafeInteger(value)) {
      if (value >= 0) {
        if (value < 0x80) b[p++] = value;
        else if (value < 0x100) {
          b[p++] = 0xcc;
          b[p++] = value;
        } else if (value < 0x10000) {
          b[p++] = 0xcd;
          b.writeUInt16BE(value, p);
          p += 2;
        } else if (value < 0x100000000) {
          b[p++] = 0xce;
          b.writeUInt32BE(value, p);
          p += 4;
        } else {
          b[p++] = 0xcf;
          b.writeUInt32BE(Math.floor(value / 0x100000000), p);
          b.writeUInt32BE(value >>> 0, p + 4);
          p += 8;
        }
      } else if (value >= -0x20) b[p++] = value & 0xff;
      else if (value >= -0x80) {
        b[p++] = 0xd0;
        b.writeInt8(value, p);
        p += 1;
      } else if (value >= -0x8000) {
        b[p++] = 0xd1;
        b.writeInt16BE(value, p);
        p += 2;
      } else if (value >= -0x80000000) {
        b[p++] = 0xd2;
        b.writeInt32BE(value, p);
        p += 4;
      } else {
        b[p++] = 0xd3;
        b.writeBigInt64BE(BigInt(value), p);
        p += 8;
      }
    } else {
      b[p++] = 0xcb;
      b.writeDoubleBE(value, p);
      p += 8;
    }
    this.position = p;
  }

  writeBigInt(value: bigint): void {
    this.ensure(9);
    if (value >= 0n && value < 2n ** 64n) {
      this.buffer[this.position++] = 0xcf;
      this.buffer.writeBigUInt64BE(value, this.position);
    } else if (value < 0n && value >= -(2n ** 63n)) {
      this.buffer[this.position++] = 0xd3;
      this.buffer.writeBigInt64BE(value, this.position);
    } else {
      throw new RangeError('bigint does not fit in 64 bits');
    }
    this.position += 8;
  }

  writeString(value: string): void {
    // Short strings dominate (field names, codes); `value.length * 3` bounds their UTF-8 size.
    const bytes = value.length < 32 ? value.length * 3 : Buffer.byteLength(value, 'utf8');
    this.ensure(5 + bytes);
    const b = this.buffer;
    if (value.length < 32) {
      // Field names and codes are short ASCII: copy char codes directly (Buffer#write's call into
      // C++ was 2% of broker CPU on the produce path, profiled with --cpu-prof).
      const start = this.position + 1;
      let p = start;
      for (let i = 0; i < value.length; i++) {
        const c = value.charCodeAt(i);
        if (c >= 0x80) {
          p = -1;
          break;
        }
        b[p++] = c;
      }
      if (p >= 0) {
        b[this.position] = 0xa0 | value.length;
        this.position = p;
        return;
      }
      // Multi-byte text: write first, then fill the fixstr header (fixstr holds up to 31 bytes).
      const written = b.write(value, start, 'utf8');
      if (written < 32) {
        b[this.position] = 0xa0 | written;
        this.position = start + written;
        return;
      }
      // 11-31 chars of multi-byte text can exceed 31 bytes: fall through with the exact length.
      return this.writeStringSlow(value, Buffer.byteLength(value, 'utf8'));
    }
    this.writeStringSlow(value, bytes);
  }

  private writeStringSlow(value: string, bytes: number): void {
    this.ensure(5 + bytes);
    this.writeHeader(bytes, 0xa0, 32, 0xd9, 0xda, 0xdb);
    this.position += this.buffer.write(value, this.position, 'utf8');
  }

  writeBin(value: Uint8Array): void {
    this.ensure(5 + value.length);
    this.writeHeader(value.length, -1, 0, 0xc4, 0xc5, 0xc6);
    this.buffer.set(value, this.position);
    this.position += value.length;
  }

  writeArrayHeader(length: number): void {
    this.ensure(5);
    this.writeHeader(length, 0x90, 16, -1, 0xdc, 0xdd);
  }

  writeMapHeader(size: number): void {
    this.ensure(5);
    this.writeHeader(size, 0x80, 16, -1, 0xde, 0xdf);
  }

  private writeArray(value: readonly unknown[], depth: number): void {
    this.writeArrayHeader(value.length);
    for (const item of value) this.write(item, depth + 1);
  }

  private writeMap(value: Record<string, unknown>, depth: number): void {
    let size = 0;
    for (const key in value) if (value[key] !== undefined) size++;
    this.writeMapHeader(size);
    for (const key in value) {
      const item = value[key];
      if (item === undefined) continue;
      this.writeString(key);
      this.write(item, depth + 1);
    }
  }

  /**
   * Writes a length header: fix form (`fixBase | n` when n < fixLimit, skipped when fixBase < 0),
   * else the 8-bit form (skipped when code8 < 0), 16-bit, 32-bit. Capacity is ensured by the caller.
   */
  private writeHeader(n: number, fixBase: number, fixLimit: number, code8: number, code16: number, code32: number): void {
    const b = this.buffer;
    if (fixBase >= 0 && n < fixLimit) b[this.position++] = fixBase | n;
    else if (code8 >= 0 && n < 0x100) {
      b[this.position++] = code8;
      b[this.position++] = n;
    } else if (n < 0x10000) {
      b[this.position++] = code16;
      b.writeUInt16BE(n, this.position);
      this.position += 2;
    } else {
      assert(n < 0x100000000, 'msgpack length beyond 32 bits');
      b[this.position++] = code32;
      b.writeUInt32BE(n, this.position);
      this.position += 4;
    }
  }
}
