/**
 * Limits that keep the server answering its normal clients when some clients are slow or too many
 * (issue "Trust" item 6; the shape of Envoy's overload limits):
 *
 * - absolute deadlines for a request's head and body, not moved by the bytes that keep arriving, so
 *   a client dribbling one byte a second holds a connection for at most the deadline. The fast path
 *   keeps its own timers (./fast-path.ts); node:http's path gets `headersTimeout` and `requestTimeout`
 *   (whose checks run every `connectionsCheckingInterval`, set here so the deadline is kept to within
 *   a fraction of itself). A connection the fast path hands to node:http part-way (a chunked body, an
 *   Expect header) gets node:http's deadlines from that moment: its total time is still bounded, by the
 *   fast path's head deadline plus node:http's;
 * - a cap on open connections: one over it is answered `503` with `Retry-After` and closed at once,
 *   before any of its bytes is parsed, so a connection flood costs the server one write per connection.
 */
import type { Server, ServerOptions } from 'node:http';
import type { Socket } from 'node:net';
import { RETRY_AFTER_SECONDS } from './errors';
import { DEFAULT_BODY_TIMEOUT_MS, DEFAULT_HEADERS_TIMEOUT_MS } from './fast-path';

/** Default cap on open connections (`--max-connections`). */
export const DEFAULT_MAX_CONNECTIONS = 10_000;

export interface OverloadOptions {
  /** Absolute deadline of a request's head from its first byte (default 10 s). */
  headersTimeoutMs?: number;
  /** Absolute deadline of a request's body from the end of its head (default 30 s). */
  bodyTimeoutMs?: number;
  /** Most connections open at once; the next ones are answered 503 and closed (default 10,000). */
  maxConnections?: number;
}

/** The limits with their defaults, checked (a bad value is the caller's bug: thrown). */
export function overloadLimits(o: OverloadOptions): Required<OverloadOptions> {
  const limits = {
    headersTimeoutMs: o.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS,
    bodyTimeoutMs: o.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS,
    maxConnections: o.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
  };
  for (const [k, v] of Object.entries(limits)) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${k} must be a positive integer, got ${v}`);
  }
  return limits;
}

/**
 * node:http's options for the same deadlines. Its `requestTimeout` counts from the request's first byte,
 * so it is the head's deadline plus the body's; its checks run every `connectionsCheckingInterval`,
 * here a tenth of the shorter deadline (at most 1 s), so a connection is cut within ~10% of it.
 */
export function nodeDeadlineOptions(limits: Required<OverloadOptions>): Pick<ServerOptions, 'headersTimeout' | 'requestTimeout' | 'connectionsCheckingInterval'> {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.headersTimeoutMs + limits.bodyTimeoutMs,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(Math.min(limits.headersTimeoutMs, limits.bodyTimeoutMs) / 10))),
  };
}

const OVER_CAP_BODY = JSON.stringify({ error: 'the server has too many open connections', field: null, expected: `a retry after ${RETRY_AFTER_SECONDS} s` });
const OVER_CAP = `HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(OVER_CAP_BODY)}\r\nRetry-After: ${RETRY_AFTER_SECONDS}\r\nConnection: close\r\n\r\n${OVER_CAP_BODY}`;

/** A refused connection is given this long to read the 503 before it is cut. */
const REFUSED_LINGER_MS = 2000;

/** What the cap counts (tests, metrics). */
export interface ConnectionCapStats {
  /** Connections open now (accepted ones). */
  open: number;
  /** Connections refused with 503 since the start. */
  refused: number;
}

/**
 * Puts a cap of `max` open connections in front of `server`'s one connection listener (node:http's or
 * the fast path's, whichever is installed). A connection over the cap is answered 503 + Retry-After and
 * closed: its bytes are read and dropped (so the client sees the answer, not a reset) for at most
 * REFUSED_LINGER_MS.
 */
export function installConnectionCap(server: Server, max: number): ConnectionCapStats {
  const listeners = server.listeners('connection') as ((socket: Socket) => void)[];
  if (listeners.length !== 1) throw new Error(`expected one connection listener, found ${listeners.length}`);
  const inner = listeners[0];
  server.removeListener('connection', inner);
  const stats: ConnectionCapStats = { open: 0, refused: 0 };
  server.on('connection', (socket: Socket) => {
    if (stats.open >= max) {
      stats.refused++;
      refuse(socket);
      return;
    }
    stats.open++;
    socket.once('close', () => stats.open--);
    inner.call(server, socket);
  });
  return stats;
}

function refuse(socket: Socket): void {
  socket.on('error', () => socket.destroy());
  socket.on('data', () => undefined); // read and dropped: closing with unread bytes would send a reset before the answer
  socket.once('end', () => socket.destroy());
  const timer = setTimeout(() => socket.destroy(), REFUSED_LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  socket.end(OVER_CAP);
}
