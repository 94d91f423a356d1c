/**
 * The operator's HTTP port (`--metrics-port`): `GET /metrics` (Prometheus text), `GET /healthz`
 * (200 while the process runs) and `GET /readyz` (200 while the engine is open and the broker
 * accepts connections, 503 while it starts or stops). Plain `node:http`, no framework: three routes,
 * no request bodies. It binds the broker's host, so a default install is reachable from loopback only.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from 'pino';

/** Scrapers and probes open few connections; more is a misconfiguration or an attack. */
export const HTTP_CONNECTIONS_MAX = 64;

/** Longest a probe may take to send its request headers; a scraper sends them at once. */
export const HTTP_HEADERS_TIMEOUT_MS = 5000;

/** Longest a whole request may take to arrive. */
export const HTTP_REQUEST_TIMEOUT_MS = 10_000;

/** Options of `startHttpEndpoints`. */
export interface HttpEndpointsOptions {
  host: string;
  /** TCP port; 0 picks a free one (read it from `port`). */
  port: number;
  logger: Logger;
  /** True while the broker is ready to serve (engine open, accepting connections, not stopping). */
  isReady(): boolean;
  /** Renders the metrics. */
  scrape(): Promise<string>;
  /** Content type of what `scrape` returns. */
  contentType: string;
}

/** A running HTTP endpoint server. */
export interface HttpEndpoints {
  readonly host: string;
  readonly port: number;
  /** Stops listening and closes every connection; idempotent. */
  close(): Promise<void>;
}

/** Binds the HTTP port; rejects when it cannot (port in use, bad host). */
export async function startHttpEndpoints(options: HttpEndpointsOptions): Promise<HttpEndpoints> {
  const server: Server = createServer((request, response) => serve(options, request, response));
  server.maxConnections = HTTP_CONNECTIONS_MAX;
  server.headersTimeout = HTTP_HEADERS_TIMEOUT_MS;
  server.requestTimeout = HTTP_REQUEST_TIMEOUT_MS;
  server.on('clientError', (error: Error, socket: Socket) => {
    options.logger.debug({ err: error.message }, 'metrics http client error');
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => options.logger.error({ err: error.message }, 'metrics http server error'));
  const address = server.address() as AddressInfo;
  const closed: { promise: Promise<void> | undefined } = { promise: undefined };
  return {
    host: address.address,
    port: address.port,
    close(): Promise<void> {
      closed.promise ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed.promise;
    },
  };
}

function serve(options: HttpEndpointsOptions, request: IncomingMessage, response: ServerResponse): void {
  const path = (request.url ?? '/').split('?', 1)[0];
  if (path !== '/metrics' && path !== '/healthz' && path !== '/readyz') {
    reply(response, 404, 'not found\n');
    return;
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('allow', 'GET, HEAD');
    reply(response, 405, 'method not allowed\n');
    return;
  }
  if (path === '/healthz') {
    reply(response, 200, 'ok\n');
  } else if (path === '/readyz') {
    if (options.isReady()) reply(response, 200, 'ready\n');
    else reply(response, 503, 'not ready\n');
  } else {
    options.scrape().then(
      (body) => reply(response, 200, body, options.contentType),
      (error: Error) => {
        options.logger.error({ err: error.message }, 'metrics scrape failed');
        reply(response, 500, 'scrape failed\n');
      },
    );
  }
}

function reply(response: ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
  response.statusCode = status;
  response.setHeader('content-type', contentType);
  response.setHeader('cache-control', 'no-store');
  response.end(body);
}
