/**
 * The broker's listening socket: plain TCP (node:net) or, with a certificate, TLS (node:tls). Either
 * way each accepted socket is a `net.Socket` (a TLSSocket is one, handed over after the handshake),
 * so connections are served the same.
 */
import { createServer as createTcpServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import type { Logger } from 'pino';
import { TLS_HANDSHAKE_TIMEOUT_MS } from './limits.js';
import type { BrokerTlsOptions } from './options.js';

/** A server calling `onSocket` per connection (per completed handshake with TLS). */
export function createListener(tls: BrokerTlsOptions | undefined, onSocket: (socket: Socket) => void, logger: Logger): Server {
  if (tls === undefined) return createTcpServer(onSocket);
  const server = createTlsServer({ cert: tls.cert, key: tls.key, minVersion: 'TLSv1.2', handshakeTimeout: TLS_HANDSHAKE_TIMEOUT_MS }, onSocket);
  // A plain-TCP client, a client that distrusts our certificate, or a scanner: the socket is
  // destroyed by node:tls; debug only, as any peer can cause it at will.
  server.on('tlsClientError', (error, socket) => {
    logger.debug({ err: error.message, remote: `${socket.remoteAddress}:${socket.remotePort}` }, 'TLS handshake failed');
  });
  return server;
}
