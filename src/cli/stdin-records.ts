import { Packr } from 'msgpackr';
import { CliUsageError } from './cli-error.js';
import { MSGPACK_STDIN_BYTES_MAX, STDIN_LINE_BYTES_MAX } from './limits.js';

/**
 * Turns `produce`'s stdin into record values:
 *   lines    one record per line, the line's bytes (without `\n` or `\r\n`); a last newline ends
 *            the input rather than adding an empty record
 *   json     one JSON value per non-blank line, stored as compact JSON text
 *   msgpack  a stream of concatenated msgpack values, each stored re-encoded as plain msgpack
 */

/** Input formats of `produce`. */
export const InputFormat = { lines: 'lines', json: 'json', msgpack: 'msgpack' } as const;
/** One of `InputFormat`. */
export type InputFormat = (typeof InputFormat)[keyof typeof InputFormat];

/** Same codec settings as the SDK's msgpackSerializer: plain maps, readable by any msgpack library. */
const MSGPACK_OPTIONS = { useRecords: false, mapsAsObjects: true } as const;

/** Splits a byte stream into lines, refusing a line longer than `STDIN_LINE_BYTES_MAX` before buffering more. */
export async function* readLines(input: AsyncIterable<Buffer | string>): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const chunk of input) {
    let bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    let newline: number;
    while ((newline = bytes.indexOf(0x0a)) >= 0) {
      pending.push(bytes.subarray(0, newline));
      const line = Buffer.concat(pending);
      pending = [];
      pendingBytes = 0;
      yield line.length > 0 && line[line.length - 1] === 0x0d ? line.subarray(0, line.length - 1) : line;
      bytes = bytes.subarray(newline + 1);
    }
    pendingBytes += bytes.length;
    if (pendingBytes > STDIN_LINE_BYTES_MAX) throw new CliUsageError(`a stdin line is longer than ${STDIN_LINE_BYTES_MAX} bytes`);
    if (bytes.length > 0) pending.push(bytes);
  }
  if (pendingBytes > 0) yield Buffer.concat(pending);
}

/** Record values read from `input` in `format`. Malformed input throws `CliUsageError` naming where. */
export async function* readValues(input: AsyncIterable<Buffer | string>, format: InputFormat): AsyncGenerator<Uint8Array> {
  if (format === InputFormat.msgpack) {
    yield* readMsgpackValues(input);
    return;
  }
  let lineNumber = 0;
  for await (const line of readLines(input)) {
    lineNumber += 1;
    if (format === InputFormat.lines) {
      yield line;
      continue;
    }
    const text = line.toString('utf8');
    if (text.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new CliUsageError(`stdin line ${lineNumber} is not JSON: ${(error as Error).message}`);
    }
    yield Buffer.from(JSON.stringify(value), 'utf8');
  }
}

async function* readMsgpackValues(input: AsyncIterable<Buffer | string>): AsyncGenerator<Uint8Array> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of input) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    total += bytes.length;
    if (total > MSGPACK_STDIN_BYTES_MAX) throw new CliUsageError(`msgpack input is larger than ${MSGPACK_STDIN_BYTES_MAX} bytes`);
    chunks.push(bytes);
  }
  const packr = new Packr(MSGPACK_OPTIONS);
  let values: unknown[];
  try {
    values = total === 0 ? [] : (packr.unpackMultiple(Buffer.concat(chunks)) as unknown[]);
  } catch (error) {
    throw new CliUsageError(`stdin is not a sequence of msgpack values: ${(error as Error).message}`);
  }
  for (const value of values) yield packr.pack(value);
}
