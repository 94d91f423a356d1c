import { createServer } from 'node:net';

/** Loopback only: benchmarks never send traffic anywhere else. */
export const LOOPBACK_HOST = '127.0.0.1';

/**
 * A TCP port that was free on 127.0.0.1 a moment ago. The OS picks it; another process could take it
 * before the caller binds, which the callers accept (a start failure is reported, not retried).
 */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, LOOPBACK_HOST, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error('no port bound'));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}
