import { createServer, type RequestListener, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from './observability/logger.js';
import { RateLimitedLog } from './receiver/rate-limited-log.js';

/** The connection limits of `limits` in the config (milliseconds and a count). */
export interface ServerLimits {
  header_timeout: number;
  request_timeout: number;
  idle_timeout: number;
  max_connections: number;
}

/** What Node answers on a connection it gives up on, before closing it (its own default answers). */
const ANSWERS: Record<string, string> = {
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
};

/**
 * The HTTP server alertmux listens with (not listening yet): a client must send its headers within
 * `header_timeout` and its whole request within `request_timeout`, or get 408 and lose the connection
 * (Node's defaults, 60 s and 300 s checked every 30 s, let a stalled body hold a connection for minutes);
 * idle keep-alive connections close after `idle_timeout`; past `max_connections`, new connections are
 * closed at once. Connections cut and dropped are logged, rate-limited. Applies at start only.
 */
export function createHttpServer(handler: RequestListener, limits: ServerLimits, logger: Logger): Server {
  const headers = Math.min(limits.header_timeout, limits.request_timeout);
  const server = createServer(
    {
      headersTimeout: headers,
      requestTimeout: limits.request_timeout,
      keepAliveTimeout: limits.idle_timeout,
      // How often Node looks for requests past their timeouts: a tenth of the shorter one, within 50 ms..1 s.
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headers / 10))),
    },
    handler,
  );
  server.maxConnections = limits.max_connections;
  const log = new RateLimitedLog(logger);
  server.on('drop', (data?: { remoteAddress?: string }) => {
    log.log('warn', 'connection refused: limits.max_connections reached', { max_connections: limits.max_connections }, { remote: data?.remoteAddress });
  });
  // Node's own answer to a connection it gives up on (as without a listener), plus a log line for the ones we cut.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const code = err.code ?? 'unknown';
    if (code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      log.log('warn', 'request timed out; connection closed', { status: 408 }, { remote: socket.remoteAddress, header_timeout_ms: headers, request_timeout_ms: limits.request_timeout });
    } else if (code !== 'ECONNRESET') {
      log.log('warn', 'malformed HTTP request; connection closed', { status: ANSWERS[code] ? 431 : 400, code: code.slice(0, 40) }, { remote: socket.remoteAddress });
    }
    const response = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (socket.writable && !response?.headersSent) socket.write(`HTTP/1.1 ${ANSWERS[code] ?? '400 Bad Request'}\r\nConnection: close\r\n\r\n`);
    socket.destroy(err);
  });
  return server;
}
