import { describe, expect, it } from 'vitest';
import { pack } from 'msgpackr';
import { CliUsageError } from './cli-error.js';
import { STDIN_LINE_BYTES_MAX } from './limits.js';
import { readLines, readValues, type InputFormat } from './stdin-records.js';

async function* chunks(parts: Array<Buffer | string>): AsyncGenerator<Buffer | string> {
  yield* parts;
}

async function collect(input: AsyncIterable<Uint8Array>): Promise<string[]> {
  const out: string[] = [];
  for await (const value of input) out.push(Buffer.from(value).toString('utf8'));
  return out;
}

async function values(text: string | Buffer, format: InputFormat): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const value of readValues(chunks([text]), format)) out.push(Buffer.from(value));
  return out;
}

describe('readLines', () => {
  it('gives the same lines for every split of the input into two chunks', async () => {
    const text = 'one\r\ntwo\n\nthree\nlast';
    for (let split = 0; split <= text.length; split += 1) {
      const lines = await collect(readLines(chunks([text.slice(0, split), text.slice(split)])));
      expect(lines, `split at ${split}`).toEqual(['one', 'two', '', 'three', 'last']);
    }
  });

  it('adds no record for a final newline or empty input', async () => {
    expect(await collect(readLines(chunks(['a\n'])))).toEqual(['a']);
    expect(await collect(readLines(chunks([])))).toEqual([]);
    expect(await collect(readLines(chunks(['\n'])))).toEqual(['']);
  });

  it('takes a line of exactly the maximum and refuses one byte more', async () => {
    const max = Buffer.alloc(STDIN_LINE_BYTES_MAX, 0x61);
    expect((await collect(readLines(chunks([max, '\n']))))[0]).toHaveLength(STDIN_LINE_BYTES_MAX);
    await expect(collect(readLines(chunks([max, 'b'])))).rejects.toThrow(CliUsageError);
  });
});

describe('readValues', () => {
  it('json: compact JSON per non-blank line, naming the line of a bad one', async () => {
    expect((await values('{ "a" : 1 }\n\n  \n[1, 2]\n', 'json')).map(String)).toEqual(['{"a":1}', '[1,2]']);
    await expect(values('1\n{\n', 'json')).rejects.toThrow(/line 2/);
  });

  it('msgpack: each concatenated value, re-encoded', async () => {
    const input = Buffer.concat([pack({ x: 1 }), pack('hi'), pack([1, 2])]);
    const out = await values(input, 'msgpack');
    expect(out).toEqual([Buffer.from(pack({ x: 1 })), Buffer.from(pack('hi')), Buffer.from(pack([1, 2]))]);
    expect(await values(Buffer.alloc(0), 'msgpack')).toEqual([]);
    // A value cut short (the input ended inside it) is refused, after a whole one too.
    await expect(values(Buffer.from(pack('hello world')).subarray(0, 4), 'msgpack')).rejects.toThrow(CliUsageError);
    await expect(values(Buffer.concat([pack(1), Buffer.from(pack('hello world')).subarray(0, 4)]), 'msgpack')).rejects.toThrow(CliUsageError);
  });
});
