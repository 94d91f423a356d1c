import type { Headers } from '../client/index.js';

/** A record as `tail` prints it, from a plain read or a group consumer alike. */
export interface PrintableRecord {
  readonly offset: number;
  readonly timestamp: number;
  readonly value: Uint8Array;
  readonly key?: Uint8Array;
  readonly headers?: Headers;
}

/** Bytes as UTF-8 text when they are valid UTF-8, else undefined (the caller then uses base64). */
function utf8(bytes: Uint8Array): string | undefined {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = buffer.toString('utf8');
  return Buffer.from(text, 'utf8').equals(buffer) ? text : undefined;
}

function bytesField(name: string, bytes: Uint8Array): Record<string, string> {
  const text = utf8(bytes);
  return text === undefined ? { [`${name}Base64`]: Buffer.from(bytes).toString('base64') } : { [name]: text };
}

/**
 * The `--json` shape of a record: `value`/`key` as UTF-8 text, or `valueBase64`/`keyBase64` when the
 * bytes are not UTF-8; header values likewise (`{ base64: … }` for bytes that are not text).
 */
export function recordJson(topic: string, record: PrintableRecord): Record<string, unknown> {
  const headers: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(record.headers ?? {})) {
    headers[name] = typeof value === 'string' ? value : (utf8(value) ?? { base64: Buffer.from(value).toString('base64') });
  }
  return {
    topic,
    offset: record.offset,
    timestamp: record.timestamp,
    time: new Date(record.timestamp).toISOString(),
    ...(record.key === undefined ? {} : bytesField('key', record.key)),
    ...bytesField('value', record.value),
    ...(record.headers === undefined ? {} : { headers }),
  };
}

/** The human line of a record: `OFFSET  TIME  [key=K]  [name=value …]  VALUE`. */
export function recordLine(record: PrintableRecord): string {
  const parts = [String(record.offset), new Date(record.timestamp).toISOString()];
  if (record.key !== undefined) parts.push(`key=${utf8(record.key) ?? `base64:${Buffer.from(record.key).toString('base64')}`}`);
  for (const [name, value] of Object.entries(record.headers ?? {})) {
    parts.push(`${name}=${typeof value === 'string' ? value : (utf8(value) ?? `base64:${Buffer.from(value).toString('base64')}`)}`);
  }
  parts.push(utf8(record.value) ?? `base64:${Buffer.from(record.value).toString('base64')}`);
  return parts.join('  ');
}
