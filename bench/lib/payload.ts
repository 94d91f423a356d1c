/**
 * Message layout used by every target: bytes 0–7 hold the send time as a big-endian u64 of
 * nanoseconds on the monotonic clock (`process.hrtime.bigint()`, CLOCK_MONOTONIC, shared by all
 * processes of one machine), so a consumer in another process can compute produce-to-consume
 * latency. The rest is filler; its content is fixed so that every target moves the same bytes.
 */
export const STAMP_BYTES = 8;

/** Fresh payload template of `bytes` bytes; stamp it before each send. */
export function payloadTemplate(bytes: number): Buffer {
  const buffer = Buffer.alloc(bytes);
  for (let i = STAMP_BYTES; i < bytes; i += 1) buffer[i] = (i * 31 + 7) & 0xff;
  return buffer;
}

/**
 * A copy of `template` stamped with `sentNs`. A copy per send, because clients may keep the buffer
 * until it is written to the socket.
 */
export function stampedPayload(template: Buffer, sentNs: bigint): Buffer {
  const buffer = Buffer.allocUnsafe(template.length);
  template.copy(buffer, STAMP_BYTES, STAMP_BYTES);
  buffer.writeBigUInt64BE(sentNs, 0);
  return buffer;
}

/** Send time stamped in `payload`, in ns on the monotonic clock; 0n if the payload is too short. */
export function readStamp(payload: Uint8Array): bigint {
  if (payload.length < STAMP_BYTES) return 0n;
  const view = new DataView(payload.buffer, payload.byteOffset, STAMP_BYTES);
  return view.getBigUint64(0, false);
}
