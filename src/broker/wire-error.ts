/**
 * Maps anything thrown while serving a request onto a wire error (docs/errors.md, "How engine errors
 * map to wire codes"). Engine codes are never forwarded as they are.
 */
import { ErrorCode, ProtocolError } from '../protocol/index.js';
import { WalrusError } from '../engine/errors.js';

const ENGINE_TO_WIRE: Readonly<Record<string, ErrorCode>> = {
  INVALID_TOPIC: ErrorCode.INVALID_TOPIC,
  INVALID_CURSOR: ErrorCode.INVALID_GROUP,
  INVALID_ARGUMENT: ErrorCode.INVALID_REQUEST,
  NOT_FOUND: ErrorCode.NOT_FOUND,
  ENTRY_TOO_LARGE: ErrorCode.RECORD_TOO_LARGE,
  BATCH_TOO_LARGE: ErrorCode.BATCH_TOO_LARGE,
  STORAGE_FULL: ErrorCode.STORAGE_FULL,
  CORRUPT_ENTRY: ErrorCode.CORRUPT_DATA,
  CORRUPT_LOG: ErrorCode.CORRUPT_DATA,
  IO_ERROR: ErrorCode.STORAGE_ERROR,
  CLOSED: ErrorCode.SHUTTING_DOWN,
  LOCKED: ErrorCode.INTERNAL,
};

/** The wire error for `error`, carrying `requestId`. */
export function toWireError(error: unknown, requestId: number): ProtocolError {
  if (error instanceof ProtocolError) {
    return error.requestId === requestId ? error : new ProtocolError(error.code, error.message, { cause: error, requestId });
  }
  const engineCode = error instanceof WalrusError ? error.code : undefined;
  const code = (engineCode !== undefined && ENGINE_TO_WIRE[engineCode]) || ErrorCode.INTERNAL;
  const message = error instanceof Error ? error.message : String(error);
  return new ProtocolError(code, message, { cause: error, requestId });
}
