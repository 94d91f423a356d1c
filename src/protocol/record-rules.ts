/**
 * The rules a produced record's key and headers follow, whichever form they arrive in: a `records`
 * map (validate-request.ts) or the meta map of a `recordsBlob` body (produce-blob.ts). One place, so
 * the two forms accept exactly the same records and refuse them with the same messages.
 */
import { ErrorCode, ProtocolError } from './error-codes.js';
import { BATCH_RECORDS_MAX, HEADER_NAME_BYTES_MAX, HEADERS_COUNT_MAX } from './limits.js';

/** INVALID_REQUEST carrying the request's id. */
export function invalid(id: number, message: string): ProtocolError {
  return new ProtocolError(ErrorCode.INVALID_REQUEST, message, { requestId: id });
}

/** BATCH_TOO_LARGE past `BATCH_RECORDS_MAX` records (either form of produceBatch). */
export function checkBatchCount(count: number, id: number): void {
  if (count > BATCH_RECORDS_MAX) {
    throw new ProtocolError(ErrorCode.BATCH_TOO_LARGE, `batch of ${count} records exceeds ${BATCH_RECORDS_MAX}`, { requestId: id });
  }
}

/** Refuses the `count`-th header of a record past `HEADERS_COUNT_MAX`. */
export function checkHeaderCount(count: number, id: number, prefix: string): void {
  if (count > HEADERS_COUNT_MAX) throw invalid(id, `${prefix}headers: more than ${HEADERS_COUNT_MAX}`);
}

/** Refuses a header name of `nameBytes` UTF-8 bytes outside 1..`HEADER_NAME_BYTES_MAX`. */
export function checkHeaderNameBytes(nameBytes: number, id: number, prefix: string): void {
  if (nameBytes === 0 || nameBytes > HEADER_NAME_BYTES_MAX) {
    throw invalid(id, `${prefix}headers: names must be 1..${HEADER_NAME_BYTES_MAX} bytes`);
  }
}

/** A header whose value is neither str nor bin. */
export function badHeaderValue(id: number, prefix: string, name: string): ProtocolError {
  return invalid(id, `${prefix}headers.${name.slice(0, 64)} must be a string or bin`);
}

/** A key that is not bin. */
export function badKey(id: number, prefix: string): ProtocolError {
  return invalid(id, `${prefix}key must be bin`);
}

/** Headers that are not a map. */
export function badHeaders(id: number, prefix: string): ProtocolError {
  return invalid(id, `${prefix}headers must be a map`);
}
