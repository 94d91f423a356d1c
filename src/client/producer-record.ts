import type { ProduceRecord } from '../protocol/index.js';
import { clientError, ClientErrorCode } from './errors.js';
import { RECORD_OVERHEAD_BYTES } from './limits.js';
import type { Serializer } from './serde.js';
import type { Headers, ProducerRecord, SendInput } from './types.js';

/**
 * Turns what a caller passed to `send` into the wire record and its size. The size counts payload,
 * key and header bytes plus a fixed per-record envelope; it is what the in-flight and batch byte caps
 * measure, so it must never under-count by more than the envelope allowance.
 */

const RECORD_FIELDS = new Set(['value', 'key', 'headers']);

/**
 * True when `input` is a `{ value, key?, headers? }` record rather than a bare value: a plain object
 * with an own `value` and no fields beyond those three. (To send the object `{ value: 1 }` itself
 * through a serializer, wrap it: `{ value: { value: 1 } }`.)
 */
export function isProducerRecord<T>(input: SendInput<T>): input is ProducerRecord<T> {
  if (typeof input !== 'object' || input === null || input instanceof Uint8Array || Array.isArray(input)) return false;
  if (!Object.hasOwn(input, 'value')) return false;
  for (const field of Object.keys(input)) if (!RECORD_FIELDS.has(field)) return false;
  return true;
}

/** A wire record and the bytes it counts for. */
export interface SizedRecord {
  record: ProduceRecord;
  bytes: number;
}

/** Builds the wire record; throws `SERIALIZE_FAILED` or `INVALID_ARGUMENT`. */
export function toWireRecord<T>(input: SendInput<T>, serializer: Serializer<T> | undefined): SizedRecord {
  const fields: ProducerRecord<T> = isProducerRecord(input) ? input : { value: input as T };
  let value: Uint8Array;
  if (serializer !== undefined) {
    try {
      value = serializer(fields.value);
    } catch (cause) {
      throw clientError(ClientErrorCode.SERIALIZE_FAILED, `serializer failed: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    }
    if (!(value instanceof Uint8Array)) throw clientError(ClientErrorCode.SERIALIZE_FAILED, 'serializer must return a Uint8Array');
  } else if (fields.value instanceof Uint8Array) {
    value = fields.value;
  } else {
    throw clientError(ClientErrorCode.INVALID_ARGUMENT, 'value must be a Buffer or Uint8Array (or configure a serializer)');
  }
  const record: ProduceRecord = { value };
  let bytes = RECORD_OVERHEAD_BYTES + value.byteLength;
  if (fields.key !== undefined) {
    const key = typeof fields.key === 'string' ? Buffer.from(fields.key, 'utf8') : fields.key;
    if (!(key instanceof Uint8Array)) throw clientError(ClientErrorCode.INVALID_ARGUMENT, 'key must be a string, Buffer or Uint8Array');
    record.key = key;
    bytes += key.byteLength;
  }
  if (fields.headers !== undefined) {
    record.headers = fields.headers;
    bytes += headersBytes(fields.headers);
  }
  return { record, bytes };
}

function headersBytes(headers: Headers): number {
  if (typeof headers !== 'object' || headers === null) {
    throw clientError(ClientErrorCode.INVALID_ARGUMENT, 'headers must be an object of strings or bytes');
  }
  let bytes = 0;
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    bytes += Buffer.byteLength(name) + RECORD_OVERHEAD_BYTES;
    if (typeof value === 'string') bytes += Buffer.byteLength(value);
    else if (value instanceof Uint8Array) bytes += value.byteLength;
    else throw clientError(ClientErrorCode.INVALID_ARGUMENT, `header ${JSON.stringify(name)} must be a string or bytes`);
  }
  return bytes;
}
