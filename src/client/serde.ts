import { Packr } from 'msgpackr';

/**
 * Payload hooks. A producer turns each value into bytes with its `serializer`; a consumer turns each
 * record's bytes back with its `deserializer`. Without hooks, values are raw bytes both ways.
 */

/** Turns an application value into the bytes stored in the log. */
export type Serializer<T> = (value: T) => Uint8Array;

/** Turns stored bytes back into an application value. */
export type Deserializer<T> = (bytes: Buffer) => T;

/** Serializes with `JSON.stringify` as UTF-8. */
export const jsonSerializer: Serializer<unknown> = (value) => Buffer.from(JSON.stringify(value), 'utf8');

/** Parses UTF-8 JSON. Generic so `consumer<Order>({ deserializer: jsonDeserializer })` types `msg.value`; nothing checks the shape. */
export function jsonDeserializer<T = unknown>(bytes: Buffer): T {
  return JSON.parse(bytes.toString('utf8')) as T;
}

// One codec instance shared by both hooks: plain maps, no record extension, so any msgpack reader
// (not only msgpackr) can decode what we write. Immutable configuration, so sharing is safe.
const packr = new Packr({ useRecords: false, mapsAsObjects: true });

/** Serializes with msgpack (plain maps, readable by any msgpack library). */
export const msgpackSerializer: Serializer<unknown> = (value) => packr.pack(value);

/** Parses msgpack. Generic like `jsonDeserializer`; nothing checks the shape. */
export function msgpackDeserializer<T = unknown>(bytes: Buffer): T {
  return packr.unpack(bytes) as T;
}
