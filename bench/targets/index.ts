import { jetStreamDriver } from './jetstream-target.js';
import { redisDriver } from './redis-target.js';
import { TargetKind, type TargetDriver } from './types.js';
import { walrusRawDriver } from './walrus-raw-target.js';
import { walrusDriver } from './walrus-target.js';

/** The driver for a target kind. */
export function driverFor(kind: TargetKind): TargetDriver {
  switch (kind) {
    case TargetKind.Walrus:
      return walrusDriver;
    case TargetKind.WalrusRaw:
      return walrusRawDriver;
    case TargetKind.Redis:
      return redisDriver;
    case TargetKind.JetStream:
      return jetStreamDriver;
  }
}

export { TargetKind };
export type { ConsumerClient, ProducerClient, TargetDriver, TargetSpec } from './types.js';
