/**
 * Public face of the wire protocol: frame codec, message types, error-code table and request
 * validation. Bytes in, values out; no sockets, timers or files. docs/protocol.md is the spec.
 */
export {
  PROTOCOL_VERSION,
  FRAME_HEADER_BYTES,
  FRAME_BYTES_MAX,
  FRAME_BYTES_CEILING,
  FRAME_BYTES_FLOOR,
  BATCH_RECORDS_MAX,
  FETCH_RECORDS_MAX,
  FETCH_BYTES_DEFAULT,
  FETCH_WAIT_MS_MAX,
  ACK_TIMEOUT_MS_MIN,
  ACK_TIMEOUT_MS_MAX,
  DELIVERIES_MAX,
  NACK_DELAY_MS_MAX,
  NACK_REASON_LENGTH_MAX,
  HEADERS_COUNT_MAX,
  HEADER_NAME_BYTES_MAX,
  NAME_LENGTH_MAX,
} from './limits.js';
export { ErrorCode, ErrorCodes, ProtocolError, isErrorCode, isRetriable } from './error-codes.js';
export type { ErrorCodeInfo } from './error-codes.js';
export { encodeFrame, FrameEncoder } from './frame-encoder.js';
export { FrameDecoder, createUnpackr } from './frame-decoder.js';
export type { FrameDecoderOptions } from './frame-decoder.js';
export { MsgpackWriter } from './msgpack-writer.js';
export { BLOB_RECORD_HEADER_BYTES, RECORD_TAG_META, RECORD_TAG_VALUE, readRecordsBlob, recordsBlobBytes, writeRecordsBlob } from './records-blob.js';
export type { BlobRecordVisitor, MetaUnpacker } from './records-blob.js';
export { PRODUCE_BLOB_RECORD_HEADER_BYTES, produceBlobBytes, readProduceBlob, writeProduceBlob } from './produce-blob.js';
export type { ProduceBlobRecords } from './produce-blob.js';
export { validateRequest, isValidName, isValidGroupName } from './validate-request.js';
export { Op, DeadLetterHeader, Feature } from './messages.js';
export type {
  Headers,
  RequestBase,
  HelloRequest,
  ProduceRecord,
  ProduceRequest,
  ProduceBatchRequest,
  ProduceBatchRecordsRequest,
  ProduceBatchBlobRequest,
  FetchRequest,
  CommitRequest,
  CreateTopicRequest,
  DeleteTopicRequest,
  ListTopicsRequest,
  DescribeTopicRequest,
  SeekTarget,
  SeekRequest,
  NackRequest,
  ExtendRequest,
  ConfigureGroupRequest,
  Request,
  HelloResult,
  ProduceResult,
  ProduceBatchResult,
  FetchedRecord,
  FetchResult,
  FetchReply,
  CommitResult,
  CreateTopicResult,
  DeleteTopicResult,
  ListTopicsResult,
  GroupDescription,
  DescribeTopicResult,
  SeekResult,
  NackResult,
  ExtendResult,
  ConfigureGroupResult,
  ResultByOp,
  WireError,
  OkResponse,
  ErrorResponse,
  Response,
} from './messages.js';
