/**
 * walrus-broker/client: the Node SDK. `connect()` a client, then make producers, consumers and use
 * `client.admin`. docs/client.md is the guide; delivery semantics are stated there.
 */
export { connect, WalrusClient } from './client.js';
export { Producer } from './producer.js';
export { Consumer } from './consumer.js';
export { Admin } from './admin.js';
export {
  WalrusError,
  BrokerError,
  ConnectionError,
  ClientClosedError,
  AbortedError,
  UsageError,
  ClientErrorCode,
  isRetriable,
} from './errors.js';
export { DeserializeError } from './consumed-message.js';
export { jsonSerializer, jsonDeserializer, msgpackSerializer, msgpackDeserializer } from './serde.js';
export type { Serializer, Deserializer } from './serde.js';
export type { Transport, TransportConnector, TransportEvents, TransportTarget } from './transport.js';
export type {
  BatchesOptions,
  CallOptions,
  ClientEvents,
  CloseOptions,
  ConnectOptions,
  ConnectedEvent,
  ConsumerOptions,
  DisconnectedEvent,
  GroupLag,
  Headers,
  Message,
  MessageBatch,
  MessagesOptions,
  NackOptions,
  ProducerOptions,
  ProducerRecord,
  ReconnectOptions,
  ReconnectingEvent,
  SeekTarget,
  SendBatchResult,
  SendInput,
  SendResult,
  TopicDescription,
  TopicRetention,
} from './types.js';
