import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './broker-process.js';

/**
 * Users import `walrus-broker/client`; package.json maps it to dist/client (built by `make test`
 * before vitest runs). This checks the built entry point exposes the public API and its types.
 */
const built = existsSync(path.join(ROOT, 'dist/client/index.js'));

describe('package export walrus-broker/client', () => {
  it.skipIf(!built)('resolves by package name and exposes the public API', async () => {
    // A variable specifier: typechecking must not depend on dist/ existing.
    const specifier = 'walrus-broker/client';
    const sdk = (await import(specifier)) as Record<string, unknown>;
    for (const name of ['connect', 'WalrusClient', 'Producer', 'Consumer', 'Admin', 'WalrusError', 'ClientErrorCode', 'isRetriable', 'jsonSerializer', 'jsonDeserializer', 'msgpackSerializer', 'msgpackDeserializer', 'DeserializeError']) {
      expect(sdk[name], name).toBeDefined();
    }
    expect(existsSync(path.join(ROOT, 'dist/client/index.d.ts'))).toBe(true);
  });
});
