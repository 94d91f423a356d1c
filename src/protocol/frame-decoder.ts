/**
 * Incremental decoder for a stream of frames (layout in frame-encoder.ts: uint32 big-endian length
 * N, then N bytes of one msgpack map). Chunks may split frames anywhere, including inside the length.
 *
 * Memory and copies:
 * - The declared length is checked against `maxFrameBytes` as soon as its 4 bytes are in, before any
 *   of the body is buffered, so a hostile 1 GiB prefix costs nothing.
 * - A frame that lies wholly inside one pushed chunk is decoded in place; `bin` values in the result
 *   are views into that chunk (msgpackr does not copy them). A frame split across chunks is copied
 *   once into a buffer of exactly its size, owned by the result. The decoder never reuses a buffer,
 *   so decoded values stay valid after later pushes. The caller must not reuse pushed chunks
 *   either (Node's socket 'data' chunks are fresh allocations).
 *
 * Errors: a body that is not one msgpack map reports BAD_FRAME and decoding goes on with the next
 * frame (framing is intact). A length over the maximum reports FRAME_TOO_LARGE and the decoder stops:
 * the stream cannot be trusted any more, and every later push is ignored.
 */
import { Unpackr } from 'msgpackr';
import { ErrorCode, ProtocolError } from './error-codes.js';
import { FRAME_BYTES_CEILING, FRAME_BYTES_MAX, FRAME_HEADER_BYTES } from './limits.js';

/**
 * msgpackr decoder settings for protocol frames: plain maps to objects (`__proto__` keys are
 * renamed by msgpackr, so no prototype pollution), no record extension, and 64-bit integers as JS
 * numbers when within ±2^53 ('auto'), else as bigint, which every validator rejects as out of range.
 */
export function createUnpackr(): Unpackr {
  return new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'auto' as 'number' });
}

/** Options of `FrameDecoder`. */
export interface FrameDecoderOptions {
  /** Largest accepted frame body in bytes. Default `FRAME_BYTES_MAX` (16 MiB). */
  maxFrameBytes?: number;
  /** Called with each decoded map, in stream order. */
  onMessage: (message: Record<string, unknown>) => void;
  /** Called with BAD_FRAME (decoding continues) or FRAME_TOO_LARGE (decoding stops). */
  onError: (error: ProtocolError) => void;
}

/** Incremental frame decoder; one per connection. */
export class FrameDecoder {
  readonly maxFrameBytes: number;
  private readonly onMessage: (message: Record<string, unknown>) => void;
  private readonly onError: (error: ProtocolError) => void;
  private readonly unpackr = createUnpackr();
  /** Bytes of an incomplete frame (header included), oldest first; empty between frames. */
  private chunks: Buffer[] = [];
  /** Sum of `chunks` lengths. */
  private buffered = 0;
  /** Declared body length of the incomplete frame, or -1 while its header is not complete. */
  private bodyBytes = -1;
  private stopped = false;

  constructor(options: FrameDecoderOptions) {
    const max = options.maxFrameBytes ?? FRAME_BYTES_MAX;
    if (!Number.isSafeInteger(max) || max < 1 || max > FRAME_BYTES_CEILING) {
      throw new RangeError(`maxFrameBytes must be an integer in 1..${FRAME_BYTES_CEILING}, got ${max}`);
    }
    this.maxFrameBytes = max;
    this.onMessage = options.onMessage;
    this.onError = options.onError;
  }

  /** Bytes held for an incomplete frame. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** True once a fatal error was reported or `stop()` was called. */
  get isStopped(): boolean {
    return this.stopped;
  }

  /** Stops decoding: later pushes and the rest of the current chunk are ignored. */
  stop(): void {
    this.stopped = true;
    this.chunks = [];
    this.buffered = 0;
  }

  /** Feeds bytes from the stream; emits every frame they complete. */
  push(chunk: Buffer): void {
    if (this.stopped || chunk.length === 0) return;
    if (this.buffered === 0) {
      this.scan(chunk, 0);
      return;
    }
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.bodyBytes < 0) {
      if (this.buffered < FRAME_HEADER_BYTES) return;
      if (!this.acceptLength(this.peekLength())) return;
    }
    if (this.buffered < FRAME_HEADER_BYTES + this.bodyBytes) return;
    this.assemble();
  }

  /** Decodes whole frames straight from `chunk` starting at `offset`; keeps the tail. */
  private scan(chunk: Buffer, offset: number): void {
    let o = offset;
    while (!this.stopped && chunk.length - o >= FRAME_HEADER_BYTES) {
      const length = chunk.readUInt32BE(o);
      if (!this.acceptLength(length)) return;
      const end = o + FRAME_HEADER_BYTES + length;
      if (end > chunk.length) break;
      this.bodyBytes = -1;
      this.emit(chunk.subarray(o + FRAME_HEADER_BYTES, end));
      o = end;
    }
    if (this.stopped || o === chunk.length) {
      this.bodyBytes = -1;
      return;
    }
    this.chunks = [chunk.subarray(o)];
    this.buffered = chunk.length - o;
    // bodyBytes was set by acceptLength when the header is complete, else -1.
    if (this.buffered < FRAME_HEADER_BYTES) this.bodyBytes = -1;
  }

  /** Copies the completed frame out of `chunks` into its own buffer, then scans what follows it. */
  private assemble(): void {
    const bodyBytes = this.bodyBytes;
    const body = Buffer.allocUnsafe(bodyBytes);
    let skip = FRAME_HEADER_BYTES;
    let filled = 0;
    let rest: Buffer | undefined;
    for (const c of this.chunks) {
      let start = 0;
      if (skip > 0) {
        start = Math.min(skip, c.length);
        skip -= start;
      }
      const n = Math.min(c.length - start, bodyBytes - filled);
      c.copy(body, filled, start, start + n);
      filled += n;
      if (filled === bodyBytes && skip === 0) {
        // Only the last pushed chunk can complete the frame, so nothing follows this one.
        rest = c.subarray(start + n);
        break;
      }
    }
    this.chunks = [];
    this.buffered = 0;
    this.bodyBytes = -1;
    this.emit(body);
    if (rest !== undefined && rest.length > 0) this.scan(rest, 0);
  }

  /** Reads the 4-byte length across the first chunks. */
  private peekLength(): number {
    const first = this.chunks[0];
    if (first.length >= FRAME_HEADER_BYTES) return first.readUInt32BE(0);
    const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
    let filled = 0;
    for (const c of this.chunks) {
      filled += c.copy(header, filled, 0, Math.min(c.length, FRAME_HEADER_BYTES - filled));
      if (filled === FRAME_HEADER_BYTES) break;
    }
    return header.readUInt32BE(0);
  }

  /** Records the declared length, or reports FRAME_TOO_LARGE and stops. */
  private acceptLength(length: number): boolean {
    if (length > this.maxFrameBytes) {
      this.stop();
      this.onError(
        new ProtocolError(
          ErrorCode.FRAME_TOO_LARGE,
          `frame of ${length} bytes exceeds maxFrameBytes ${this.maxFrameBytes}`,
        ),
      );
      return false;
    }
    this.bodyBytes = length;
    return true;
  }

  private emit(body: Buffer): void {
    let value: unknown;
    try {
      value = this.unpackr.unpack(body);
    } catch (cause) {
      this.onError(new ProtocolError(ErrorCode.BAD_FRAME, `frame body is not valid msgpack: ${(cause as Error).message}`, { cause }));
      return;
    }
    if (!isPlainMap(value)) {
      this.onError(new ProtocolError(ErrorCode.BAD_FRAME, 'frame body is not a msgpack map'));
      return;
    }
    this.onMessage(value as Record<string, unknown>);
  }
}

/** True for what msgpackr makes of a msgpack map; arrays, bin, ext values (Date, 0xc1 markers) are not. */
function isPlainMap(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
