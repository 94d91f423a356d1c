/**
 * For the blob codecs' tests (src/protocol/produce-blob.test.ts, records-blob.test.ts): what `write`
 * appends to a fresh MsgpackWriter, checked to be one bin32 whose length is everything after its
 * 5-byte header, returned without that header.
 */
import { expect } from 'vitest';
import { MsgpackWriter } from '../../src/protocol/msgpack-writer.js';

export function bin32Body(write: (w: MsgpackWriter) => void): Buffer {
  const w = new MsgpackWriter(8);
  write(w);
  const bytes = Buffer.from(w.buffer.subarray(0, w.position));
  expect(bytes[0]).toBe(0xc6);
  expect(bytes.readUInt32BE(1)).toBe(bytes.length - 5);
  return bytes.subarray(5);
}
