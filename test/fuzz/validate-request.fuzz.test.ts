/**
 * Fuzzing the request validator (src/protocol/validate-request.ts) with fast-check: every op, every
 * field given values of the wrong msgpack type, out of range, or hostile names (`/`, `..`, NUL,
 * unicode, 250 characters, `__` prefixes), unknown ops and extra fields — also through the real
 * frame codec, so msgpack's own types (bigint for 64-bit integers, bin, nil) reach the validator.
 *
 * The validator must either return a request whose every field is safe to hand to the engine, or
 * throw a ProtocolError with a code from the table and the request's id when it had a usable one.
 * Runs: FUZZ_RUNS (default 300, 5000 under WALRUS_SOAK=1).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeFrame, FrameDecoder, Op, ProtocolError, validateRequest, BATCH_RECORDS_MAX, FETCH_RECORDS_MAX, FETCH_WAIT_MS_MAX, HEADERS_COUNT_MAX } from '../../src/protocol/index.js';
import type { Request } from '../../src/protocol/index.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? (process.env.WALRUS_SOAK === '1' ? 5000 : 300));
const NAME = /^[A-Za-z0-9._-]{1,249}$/;
const VALIDATION_CODES = ['INVALID_REQUEST', 'UNKNOWN_OP', 'INVALID_TOPIC', 'INVALID_GROUP', 'BATCH_TOO_LARGE'];

/** Names a hostile client would try, plus valid ones so the happy path is exercised too. */
const nameArb = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9._-]{1,20}$/),
  fc.constantFrom('.', '..', '../etc', 'a/b', '/abs', 'a\u0000b', '\u0000', 'ünïcödé', '🦭', 'a b', '', '__default', '__x', 'x'.repeat(249), 'x'.repeat(250), 'CON', 'a\\b'),
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
);

/** Any value msgpack can carry (and a few it maps to JS oddly: bigint, -0, NaN, Infinity). */
const anyValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.constant(undefined),
    fc.boolean(),
    fc.integer(),
    fc.constantFrom(-1, 0, -0, 2 ** 53, 2 ** 53 - 1, 2 ** 32, -(2 ** 53), 1.5, Number.NaN, Infinity, -Infinity),
    fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }),
    fc.double(),
    fc.string({ maxLength: 20 }),
    nameArb,
    fc.uint8Array({ maxLength: 32 }).map((a) => Buffer.from(a)),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 6 }), tie('value'), { maxKeys: 4 }),
  ),
})).value;

const opArb = fc.oneof(fc.constantFrom(...Object.values(Op)), fc.string({ maxLength: 12 }), anyValue);
const recordArb = fc.oneof(
  fc.record({ value: fc.oneof(fc.uint8Array({ maxLength: 16 }).map((a) => Buffer.from(a)), anyValue) }, { requiredKeys: [] }),
  fc.record(
    {
      value: fc.uint8Array({ maxLength: 16 }).map((a) => Buffer.from(a)),
      key: anyValue,
      headers: fc.oneof(anyValue, fc.dictionary(fc.string({ maxLength: 300 }), fc.oneof(fc.string(), anyValue), { maxKeys: 70 })),
    },
    { requiredKeys: ['value'] },
  ),
  anyValue,
);

/** A produceBatch `recordsBlob`: length-prefixed bodies (tag 0x00/0x01 or junk, lengths sometimes lying), or any bytes. */
const blobArb = fc.oneof(
  fc
    .array(fc.record({ tag: fc.constantFrom(0, 0, 1, 2, 0xff), rest: fc.uint8Array({ maxLength: 24 }), lie: fc.constantFrom(0, 0, 0, 1, -1, 1000) }), { maxLength: 6 })
    .map((bodies) =>
      Buffer.concat(
        bodies.map(({ tag, rest, lie }) => {
          const body = Buffer.concat([Buffer.from([tag]), Buffer.from(rest)]);
          const length = Buffer.alloc(4);
          length.writeUInt32BE(Math.max(0, body.length + lie));
          return Buffer.concat([length, body]);
        }),
      ),
    ),
  fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
  anyValue,
);

/** A request map: a plausible op with each field right, wrong or missing, plus junk fields. */
const requestArb = fc.record(
  {
    id: fc.oneof(fc.integer({ min: 1, max: 1000 }), anyValue),
    op: opArb,
    version: fc.oneof(fc.constant(1), anyValue),
    clientId: fc.oneof(fc.string({ maxLength: 300 }), anyValue),
    token: fc.oneof(fc.string({ maxLength: 5000 }), anyValue),
    topic: fc.oneof(nameArb, anyValue),
    group: fc.oneof(nameArb, anyValue),
    offset: fc.oneof(fc.nat(), anyValue),
    maxBytes: fc.oneof(fc.nat(), anyValue),
    maxRecords: fc.oneof(fc.integer({ min: 0, max: FETCH_RECORDS_MAX + 2 }), anyValue),
    maxWaitMs: fc.oneof(fc.integer({ min: 0, max: FETCH_WAIT_MS_MAX + 2 }), anyValue),
    value: fc.oneof(fc.uint8Array({ maxLength: 16 }).map((a) => Buffer.from(a)), anyValue),
    key: anyValue,
    headers: anyValue,
    records: fc.oneof(fc.array(recordArb, { maxLength: 5 }), anyValue, fc.constant(new Array(BATCH_RECORDS_MAX + 1).fill({ value: Buffer.alloc(1) }))),
    recordsBlob: blobArb,
    to: fc.oneof(fc.constantFrom('earliest', 'latest'), fc.nat(), anyValue),
    junk: anyValue,
  },
  { requiredKeys: [] },
);

const isSafeName = (n: unknown): boolean => typeof n === 'string' && NAME.test(n) && n !== '.' && n !== '..';
const isUint = (n: unknown): boolean => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

/** Every field of an accepted request is what the broker may hand to the engine without another check. */
function checkAccepted(r: Request, input: Record<string, unknown>): void {
  expect(Object.values(Op)).toContain(r.op);
  expect(r.id).toBe(input.id);
  expect(isUint(r.id) && r.id >= 1).toBe(true);
  if ('topic' in r) expect(isSafeName(r.topic), `topic ${JSON.stringify(r.topic)}`).toBe(true);
  if ('group' in r && r.group !== undefined) {
    expect(isSafeName(r.group) && !r.group.startsWith('__'), `group ${JSON.stringify(r.group)}`).toBe(true);
  }
  for (const f of ['offset', 'maxBytes', 'maxRecords', 'maxWaitMs', 'version'] as const) {
    const v = (r as unknown as Record<string, unknown>)[f];
    if (v !== undefined) expect(isUint(v), `${f} = ${String(v)}`).toBe(true);
  }
  if (r.op === 'fetch') {
    expect((r.group === undefined) !== (r.offset === undefined)).toBe(true);
    if (r.maxRecords !== undefined) expect(r.maxRecords >= 1 && r.maxRecords <= FETCH_RECORDS_MAX).toBe(true);
    if (r.maxWaitMs !== undefined) expect(r.maxWaitMs).toBeLessThanOrEqual(FETCH_WAIT_MS_MAX);
  }
  const records = r.op === 'produce' ? [r] : r.op === 'produceBatch' ? (r.records ?? []) : [];
  if (r.op === 'produceBatch') {
    // Exactly one form: maps in `records`, or bodies from a `recordsBlob` in `recordBodies`.
    expect((r.records === undefined) !== (r.recordBodies === undefined)).toBe(true);
    const count = r.recordBodies?.length ?? records.length;
    expect(count >= 1 && count <= BATCH_RECORDS_MAX).toBe(true);
    for (const body of r.recordBodies ?? []) expect(body.length >= 1 && (body[0] === 0 || body[0] === 1)).toBe(true);
  }
  for (const rec of records) {
    expect(rec.value).toBeInstanceOf(Uint8Array);
    if (rec.key !== undefined) expect(rec.key).toBeInstanceOf(Uint8Array);
    if (rec.headers !== undefined) {
      expect(Object.keys(rec.headers).length).toBeLessThanOrEqual(HEADERS_COUNT_MAX);
      for (const v of Object.values(rec.headers)) expect(typeof v === 'string' || v instanceof Uint8Array).toBe(true);
    }
  }
  if (r.op === 'seek') expect(r.to === 'earliest' || r.to === 'latest' || isUint(r.to)).toBe(true);
}

function checkOutcome(input: Record<string, unknown>): void {
  let accepted: Request | undefined;
  try {
    accepted = validateRequest(input);
  } catch (error) {
    expect(error, `validateRequest threw a non-protocol error: ${String(error)}`).toBeInstanceOf(ProtocolError);
    const e = error as ProtocolError;
    expect(VALIDATION_CODES).toContain(e.code);
    const id = input.id;
    const usableId = typeof id === 'number' && Number.isSafeInteger(id) && id >= 1;
    expect(e.requestId).toBe(usableId ? id : 0);
    return;
  }
  checkAccepted(accepted, input);
}

describe('validateRequest under fuzzing', () => {
  it('hostile maps: a safe request or a ProtocolError carrying the id, never anything else', () => {
    fc.assert(
      fc.property(requestArb, (input) => checkOutcome(input as Record<string, unknown>)),
      { numRuns: RUNS },
    );
  });

  it('each op with exactly one field spoiled is rejected with a validation code', () => {
    const ops = ['produce', 'produceBatch', 'fetch', 'commit', 'createTopic', 'deleteTopic', 'describeTopic', 'seek'] as const;
    const good: Record<(typeof ops)[number], Record<string, unknown>> = {
      produce: { op: 'produce', topic: 't', value: Buffer.from('v') },
      produceBatch: { op: 'produceBatch', topic: 't', records: [{ value: Buffer.from('v') }] },
      fetch: { op: 'fetch', topic: 't', offset: 0 },
      commit: { op: 'commit', topic: 't', group: 'g', offset: 1 },
      createTopic: { op: 'createTopic', topic: 't' },
      deleteTopic: { op: 'deleteTopic', topic: 't' },
      describeTopic: { op: 'describeTopic', topic: 't' },
      seek: { op: 'seek', topic: 't', group: 'g', to: 'earliest' },
    };
    const spoiled = fc.oneof(
      fc.constantFrom('.', '..', 'a/b', 'a\u0000b', 'é', '', 'x'.repeat(250), '../../etc/passwd'),
      fc.constantFrom(-1, 1.5, 2 ** 53, Number.NaN, null, true, [], {}, 7n),
    );
    fc.assert(
      fc.property(fc.constantFrom(...ops), fc.nat(), spoiled, (op, pick, bad) => {
        const base = { ...good[op], id: 9 };
        expect(() => validateRequest(base)).not.toThrow();
        const fields = Object.keys(base).filter((k) => k !== 'op' && k !== 'id');
        const field = fields[pick % fields.length];
        const input = { ...base, [field]: bad };
        // `to` accepts any non-negative integer; `offset` too; neither is spoiled by a valid one.
        if (bad === null && (op === 'fetch') && field === 'offset') return;
        checkOutcome(input);
        expect(() => validateRequest(input), `${op}.${field} = ${String(bad)}`).toThrow(ProtocolError);
      }),
      { numRuns: RUNS },
    );
  });

  it('through the real codec: encoded, split, decoded and validated without a stray exception', () => {
    fc.assert(
      fc.property(requestArb, fc.nat(), (input, cut) => {
        let bytes: Buffer;
        try {
          bytes = encodeFrame(input as object);
        } catch {
          return; // our encoder refuses some JS values (NaN keys, undefined in arrays…); not the point here
        }
        const decoded: Record<string, unknown>[] = [];
        const decoder = new FrameDecoder({ onMessage: (m) => decoded.push(m), onError: (e) => expect(e.code).toBe('BAD_FRAME') });
        const at = cut % (bytes.length + 1);
        decoder.push(bytes.subarray(0, at));
        decoder.push(bytes.subarray(at));
        for (const m of decoded) checkOutcome(m);
      }),
      { numRuns: RUNS },
    );
  });
});
