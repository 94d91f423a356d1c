/**
 * Turns an untrusted decoded map into a typed `Request`, or throws a `ProtocolError`
 * (INVALID_REQUEST, UNKNOWN_OP, INVALID_TOPIC, INVALID_GROUP, BATCH_TOO_LARGE) carrying the request's
 * `id` when it had a usable one. Unknown extra fields are ignored so newer clients can add optional
 * fields. Nothing here trusts a type: every field is checked before it is read.
 */
import { ErrorCode, ProtocolError } from './error-codes.js';
import {
  ACK_TIMEOUT_MS_MAX,
  ACK_TIMEOUT_MS_MIN,
  CLIENT_ID_LENGTH_MAX,
  DELIVERIES_MAX,
  FETCH_RECORDS_MAX,
  FETCH_WAIT_MS_MAX,
  NACK_DELAY_MS_MAX,
  NACK_REASON_LENGTH_MAX,
  NAME_LENGTH_MAX,
} from './limits.js';
import type { FetchRequest, Headers, ProduceBatchRequest, ProduceRecord, Request, SeekTarget } from './messages.js';
import { readProduceBlob } from './produce-blob.js';
import { badHeaders, badHeaderValue, badKey, checkBatchCount, checkHeaderCount, checkHeaderNameBytes, invalid } from './record-rules.js';

type Fields = Record<string, unknown>;

/** `records` of a produceBatch that came as `recordsBlob` (messages.ts says why it is there). */

const NAME_PATTERN = /^[A-Za-z0-9._-]+$/;

/** True for a valid topic or group name: 1-249 of `[A-Za-z0-9._-]`, not `.` or `..`. */
export function isValidName(name: unknown): boolean {
  return (
    typeof name === 'string' &&
    name.length >= 1 &&
    name.length <= NAME_LENGTH_MAX &&
    name !== '.' &&
    name !== '..' &&
    NAME_PATTERN.test(name)
  );
}

/** True for a valid group name: a valid name that does not start with `__` (reserved by the log). */
export function isValidGroupName(name: unknown): boolean {
  return isValidName(name) && !(name as string).startsWith('__');
}

/** Validates one decoded request map. */
export function validateRequest(message: Fields): Request {
  const id = message.id;
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1) {
    throw new ProtocolError(ErrorCode.INVALID_REQUEST, 'id must be an integer in 1..2^53-1');
  }
  const op = message.op;
  if (typeof op !== 'string') throw invalid(id, 'op must be a string');
  const v = new FieldReader(message, id);
  switch (op) {
    case 'hello':
      return {
        op,
        id,
        version: v.uint('version'),
        clientId: v.optionalString('clientId', CLIENT_ID_LENGTH_MAX),
        token: v.optionalString('token', 4096),
      };
    case 'produce': {
      const topic = v.topic();
      return { op, id, topic, ...readRecord(message, id, '') };
    }
    case 'produceBatch':
      return readProduceBatch(message, id, v.topic());
    case 'fetch': {
      const request: FetchRequest = {
        op,
        id,
        topic: v.topic(),
        group: v.optionalGroup(),
        offset: v.optionalUint('offset'),
        maxBytes: v.optionalUint('maxBytes'),
        maxRecords: v.optionalUint('maxRecords'),
        maxWaitMs: v.optionalUint('maxWaitMs'),
        ackTimeoutMs: v.optionalUint('ackTimeoutMs'),
        maxDeliveries: v.optionalUint('maxDeliveries'),
        deadLetterTopic: v.optionalTopic('deadLetterTopic'),
        recordsBlob: v.optionalBoolean('recordsBlob'),
      };
      if (request.group === undefined && request.offset === undefined) throw invalid(id, 'fetch needs offset or group');
      if (request.group !== undefined && request.offset !== undefined) throw invalid(id, 'fetch takes offset or group, not both');
      if (request.maxRecords !== undefined && (request.maxRecords < 1 || request.maxRecords > FETCH_RECORDS_MAX)) {
        throw invalid(id, `maxRecords must be in 1..${FETCH_RECORDS_MAX}`);
      }
      if (request.maxBytes !== undefined && request.maxBytes < 1) throw invalid(id, 'maxBytes must be at least 1');
      if (request.maxWaitMs !== undefined && request.maxWaitMs > FETCH_WAIT_MS_MAX) {
        throw invalid(id, `maxWaitMs must be at most ${FETCH_WAIT_MS_MAX}`);
      }
      if (request.ackTimeoutMs !== undefined) {
        if (request.ackTimeoutMs < ACK_TIMEOUT_MS_MIN || request.ackTimeoutMs > ACK_TIMEOUT_MS_MAX) {
          throw invalid(id, `ackTimeoutMs must be in ${ACK_TIMEOUT_MS_MIN}..${ACK_TIMEOUT_MS_MAX}`);
        }
        // Meaningless without a group; dropped rather than refused so a client may always send it.
        if (request.group === undefined) request.ackTimeoutMs = undefined;
      }
      if (request.maxDeliveries !== undefined && (request.maxDeliveries < 1 || request.maxDeliveries > DELIVERIES_MAX)) {
        throw invalid(id, `maxDeliveries must be in 1..${DELIVERIES_MAX}`);
      }
      if (request.group === undefined) {
        // Group policy without a group: dropped like ackTimeoutMs.
        request.maxDeliveries = undefined;
        request.deadLetterTopic = undefined;
      }
      return request;
    }
    case 'commit':
      return { op, id, topic: v.topic(), group: v.group(), offset: v.uint('offset'), seenHandOutId: v.optionalUint('seenHandOutId') };
    case 'createTopic':
      return { op, id, topic: v.topic(), retentionMs: v.optionalUint('retentionMs'), retentionBytes: v.optionalUint('retentionBytes') };
    case 'deleteTopic':
    case 'describeTopic':
      return { op, id, topic: v.topic() };
    case 'listTopics':
      return { op, id };
    case 'seek':
      return { op, id, topic: v.topic(), group: v.group(), to: readSeekTarget(message.to, id) };
    case 'nack': {
      const request = {
        op,
        id,
        topic: v.topic(),
        group: v.group(),
        offset: v.uint('offset'),
        delayMs: v.optionalUint('delayMs'),
        reason: v.optionalString('reason', NACK_REASON_LENGTH_MAX),
      } as const;
      if (request.delayMs !== undefined && request.delayMs > NACK_DELAY_MS_MAX) throw invalid(id, `delayMs must be at most ${NACK_DELAY_MS_MAX}`);
      return request;
    }
    case 'extend': {
      const request = { op, id, topic: v.topic(), group: v.group(), offset: v.uint('offset'), ms: v.uint('ms') } as const;
      if (request.ms < ACK_TIMEOUT_MS_MIN || request.ms > ACK_TIMEOUT_MS_MAX) {
        throw invalid(id, `ms must be in ${ACK_TIMEOUT_MS_MIN}..${ACK_TIMEOUT_MS_MAX}`);
      }
      return request;
    }
    case 'configureGroup': {
      const request = {
        op,
        id,
        topic: v.topic(),
        group: v.group(),
        maxDeliveries: v.uint('maxDeliveries'),
        deadLetterTopic: v.optionalTopic('deadLetterTopic'),
      } as const;
      if (request.maxDeliveries > DELIVERIES_MAX) throw invalid(id, `maxDeliveries must be in 0..${DELIVERIES_MAX} (0 = unlimited)`);
      return request;
    }
    default:
      throw new ProtocolError(ErrorCode.UNKNOWN_OP, `unknown op ${JSON.stringify(op.slice(0, 64))}`, { requestId: id });
  }
}

function isMap(value: unknown): value is Fields {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function isUint(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function readSeekTarget(to: unknown, id: number): SeekTarget {
  if (to === 'earliest' || to === 'latest') return to;
  if (isUint(to)) return to;
  throw invalid(id, 'to must be an offset, "earliest" or "latest"');
}

/**
 * `produceBatch` carries its records as `records` (an array of maps) or as `recordsBlob` (one bin,
 * produce-blob.ts), exactly one of the two. Either way: structure first, then the record count (0 is
 * INVALID_REQUEST, past `BATCH_RECORDS_MAX` BATCH_TOO_LARGE), then each record.
 */
function readProduceBatch(message: Fields, id: number, topic: string): ProduceBatchRequest {
  const records = message.records;
  const blob = message.recordsBlob;
  const hasRecords = records !== undefined && records !== null;
  const hasBlob = blob !== undefined && blob !== null;
  if (hasRecords && hasBlob) throw invalid(id, 'produceBatch takes records or recordsBlob, not both');
  if (hasBlob) {
    if (!(blob instanceof Uint8Array)) throw invalid(id, 'recordsBlob must be bin');
    const { bodies, valueBytes } = readProduceBlob(blob, id);
    return { op: 'produceBatch', id, topic, recordBodies: bodies, valueBytes };
  }
  if (!hasRecords) throw invalid(id, 'produceBatch needs records or recordsBlob');
  if (!Array.isArray(records)) throw invalid(id, 'records must be an array');
  if (records.length === 0) throw invalid(id, 'records must not be empty');
  checkBatchCount(records.length, id);
  const out: ProduceRecord[] = new Array(records.length);
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    if (!isMap(r)) throw invalid(id, `records[${i}] must be a map`);
    out[i] = readRecord(r, id, `records[${i}].`);
  }
  return { op: 'produceBatch', id, topic, records: out };
}

function readRecord(fields: Fields, id: number, prefix: string): ProduceRecord {
  const value = fields.value;
  if (!(value instanceof Uint8Array)) throw invalid(id, `${prefix}value must be bin`);
  const record: ProduceRecord = { value };
  const key = fields.key;
  if (key !== undefined && key !== null) {
    if (!(key instanceof Uint8Array)) throw badKey(id, prefix);
    record.key = key;
  }
  const headers = fields.headers;
  if (headers !== undefined && headers !== null) record.headers = readHeaders(headers, id, prefix);
  return record;
}

function readHeaders(headers: unknown, id: number, prefix: string): Headers {
  if (!isMap(headers)) throw badHeaders(id, prefix);
  const out: Headers = {};
  let count = 0;
  for (const name in headers) {
    checkHeaderCount(++count, id, prefix);
    checkHeaderNameBytes(name.length === 0 ? 0 : Buffer.byteLength(name), id, prefix);
    const value = headers[name];
    if (typeof value !== 'string' && !(value instanceof Uint8Array)) throw badHeaderValue(id, prefix, name);
    out[name] = value;
  }
  return out;
}

/** Reads typed fields of one request, throwing INVALID_REQUEST/INVALID_TOPIC/INVALID_GROUP with its id. */
class FieldReader {
  constructor(
    private readonly fields: Fields,
    private readonly id: number,
  ) {}

  uint(name: string): number {
    const value = this.fields[name];
    if (value === undefined || value === null) throw invalid(this.id, `${name} is required`);
    if (!isUint(value)) throw invalid(this.id, `${name} must be a non-negative integer below 2^53`);
    return value;
  }

  optionalUint(name: string): number | undefined {
    const value = this.fields[name];
    return value === undefined || value === null ? undefined : this.uint(name);
  }

  optionalBoolean(name: string): boolean | undefined {
    const value = this.fields[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'boolean') throw invalid(this.id, `${name} must be a boolean`);
    return value;
  }

  optionalString(name: string, lengthMax: number): string | undefined {
    const value = this.fields[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string' || value.length > lengthMax) {
      throw invalid(this.id, `${name} must be a string of at most ${lengthMax} characters`);
    }
    return value;
  }

  topic(): string {
    const topic = this.fields.topic;
    if (topic === undefined || topic === null) throw invalid(this.id, 'topic is required');
    if (typeof topic !== 'string') throw invalid(this.id, 'topic must be a string');
    if (!isValidName(topic)) {
      throw new ProtocolError(ErrorCode.INVALID_TOPIC, `invalid topic name ${JSON.stringify(topic.slice(0, 300))}: use 1-249 of [A-Za-z0-9._-], not "." or ".."`, { requestId: this.id });
    }
    return topic;
  }

  /** An optional field holding a topic name (e.g. `deadLetterTopic`). */
  optionalTopic(name: string): string | undefined {
    const topic = this.fields[name];
    if (topic === undefined || topic === null) return undefined;
    if (typeof topic !== 'string') throw invalid(this.id, `${name} must be a string`);
    if (!isValidName(topic)) {
      throw new ProtocolError(ErrorCode.INVALID_TOPIC, `invalid ${name} ${JSON.stringify(topic.slice(0, 300))}: use 1-249 of [A-Za-z0-9._-], not "." or ".."`, { requestId: this.id });
    }
    return topic;
  }

  group(): string {
    const group = this.fields.group;
    if (group === undefined || group === null) throw invalid(this.id, 'group is required');
    return this.checkGroup(group);
  }

  optionalGroup(): string | undefined {
    const group = this.fields.group;
    return group === undefined || group === null ? undefined : this.checkGroup(group);
  }

  private checkGroup(group: unknown): string {
    if (typeof group !== 'string') throw invalid(this.id, 'group must be a string');
    if (!isValidGroupName(group)) {
      throw new ProtocolError(ErrorCode.INVALID_GROUP, `invalid group name ${JSON.stringify(group.slice(0, 300))}: use 1-249 of [A-Za-z0-9._-], not "." or "..", not starting with "__"`, { requestId: this.id });
    }
    return group;
  }
}
