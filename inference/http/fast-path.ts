/**
 * A fast path in front of `node:http` for the requests that make up nearly all of the traffic: a
 * keep-alive HTTP/1.1 `GET` or `POST` with a `Content-Length` body (or none), plain headers and nothing
 * else. It reads such requests off the socket itself, answers them with one write, and hands the
 * connection to the `node:http` server — bytes not yet parsed included — the moment it sees anything
 * it does not fully understand: chunked or other transfer codings, `Expect`, `Upgrade`, HTTP/1.0, a
 * second `Content-Length` or `Host`, obsolete line folding, control characters, a header
 * block over 16 KB, a body over its route's limit, or bytes that are not an HTTP request at all.
 * From then on that connection is `node:http`'s (llhttp parses it, its 400/413/431 answers apply), so
 * the fast path never has to be lenient: when in doubt it hands over.
 *
 * Why: at this server's request sizes `node:http`'s own machinery (IncomingMessage and
 * ServerResponse objects, their streams and events, header objects) costs about as much CPU per
 * request as the decision itself (measured with bench/inference's own-HTTP-layer baseline against
 * bare node:http; figures in bench/RESULTS.md).
 *
 * One request per connection is handled at a time (pipelined requests wait in the buffer, answered
 * in order). While the server closes, idle connections are closed and busy ones answer with
 * `Connection: close`.
 */
import type { Server } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { internalError, type ServerFault } from './errors';

/** What the router sees of one fast-path request; the same object serves the connection's next one. */
export interface FastExchange {
  /** Writes the whole response (status line, headers, body) in one socket write; `retryAfter`: seconds for a Retry-After header. */
  send(status: number, contentType: string, payload: string, close?: boolean, retryAfter?: number | null): void;
  /** True once `send` ran for the current request. */
  readonly sent: boolean;
  /** Cuts the connection (an answer can no longer be sent). */
  abort(): void;
}

/**
 * Routes one request: `body` is the body's bytes (empty when there was none), a view into the
 * connection's buffer valid only until the dispatch returns: read or copy it synchronously.
 */
export type FastDispatch = (method: 'GET' | 'POST', target: string, body: Buffer, ex: FastExchange, start: number, hostMissing: boolean, authorization: string | undefined) => void;

const NO_BODY = Buffer.alloc(0);

export interface FastPathOptions {
  /** Bodies longer than this go to node:http (whose body reader answers 413), unless `largeBodies` takes them. */
  maxBodyBytes: number;
  /** Routes with a larger limit than maxBodyBytes (KServe v2 infer): asked only for a body longer than maxBodyBytes. */
  largeBodies?: LargeBodies;
  /** Idle time after which a keep-alive connection is closed (node:http's keepAliveTimeout). */
  keepAliveTimeoutMs: number;
  /**
   * Absolute deadline for a request's head, from its first byte (node:http's `headersTimeout`): not
   * moved by the bytes that keep arriving, so a client sending one byte a second is cut at the
   * deadline (408 and close). Default 10 s.
   */
  headersTimeoutMs?: number;
  /** Absolute deadline for a request's body, from the end of its head. Default 30 s. */
  bodyTimeoutMs?: number;
  /** Our own fault while routing (a bug guard): logged by the caller under the id the client is sent. */
  onFault?: (fault: ServerFault, target: string) => void;
}

/** The body limits of routes that take more than the common limit. */
export interface LargeBodies {
  /** The body limit of a request to `target` (path and query, as sent). */
  limitOf(target: string): number;
}

/** Default absolute deadline of a request's head, from its first byte. */
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
/** Default absolute deadline of a request's body, from the end of its head. */
export const DEFAULT_BODY_TIMEOUT_MS = 30_000;

/** Longest header block the fast path reads; a longer one is node:http's to judge (431 or accept). */
export const MAX_HEAD_BYTES = 16 * 1024;

// RFC 9110 tchar, by char code.
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TCHAR[c.charCodeAt(0)] = 1;

const CRLFCRLF = Buffer.from('\r\n\r\n');

/** The answer to an HTTP/1.1 request without a Host header, on either path. */
export const MISSING_HOST = JSON.stringify({ error: 'an HTTP/1.1 request must have a Host header', field: 'headers.host', expected: 'a Host header' });

/** A parsed request head, or null: not for the fast path (hand over). */
interface Head {
  method: 'GET' | 'POST';
  target: string;
  contentLength: number;
  close: boolean;
  /** False: no Host header (an HTTP/1.1 request must have one: the router answers 400, RFC 9112 §3.2). */
  host: boolean;
  /** The Authorization header's value (inference/auth/ checks it), or undefined. */
  authorization: string | undefined;
}

/**
 * Parses a request head strictly: `buf[0, end)`, the bytes before CRLFCRLF. Null for anything outside
 * the fast path's subset, a body over its route's limit included (`maxBodyBytes`, or `largeBodies`'s
 * limit for the target when that is larger). Works on the bytes (one pass, no string for the head),
 * exported for tests.
 */
export function parseHead(buf: Uint8Array, end: number, maxBodyBytes: number, largeBodies?: LargeBodies): Head | null {
  let method: 'GET' | 'POST';
  let i: number;
  if (end > 6 && buf[0] === 0x50 && buf[1] === 0x4f && buf[2] === 0x53 && buf[3] === 0x54 && buf[4] === 0x20 && buf[5] === 0x2f) {
    method = 'POST';
    i = 5;
  } else if (end > 5 && buf[0] === 0x47 && buf[1] === 0x45 && buf[2] === 0x54 && buf[3] === 0x20 && buf[4] === 0x2f) {
    method = 'GET';
    i = 4;
  } else return null;
  // request target: visible ASCII up to the space, then exactly "HTTP/1.1" and the line's end
  const targetStart = i;
  for (let c = buf[i]; c !== 0x20; c = buf[++i]) {
    if (i >= end || c < 0x21 || c > 0x7e) return null;
  }
  const targetEnd = i;
  if (i + 9 > end || !matches(buf, i + 1, VERSION)) return null;
  i += 9;
  if (i < end) {
    if (buf[i] !== 0x0d || buf[i + 1] !== 0x0a) return null;
    i += 2;
  }
  let contentLength = -1;
  let close = false;
  let host = false;
  let authorization: string | undefined;
  while (i < end) {
    // name: token characters up to the colon (no whitespace before it, RFC 9112 §5.1)
    const nameStart = i;
    for (let c = buf[i]; c !== 0x3a; c = buf[++i]) {
      if (i >= end || c >= 128 || TCHAR[c] === 0) return null; // also catches obs-fold (a line starting with SP/HT) and a line without a colon
    }
    const nameLength = i - nameStart;
    if (nameLength === 0) return null;
    // value: no control character but HTAB, no CR or LF but the line's CRLF
    const valueStart = ++i;
    for (; i < end; i++) {
      const c = buf[i];
      if (c < 0x20 ? c !== 0x09 : c === 0x7f) {
        if (c === 0x0d && buf[i + 1] === 0x0a && i + 1 < end) break;
        return null;
      }
    }
    const valueEnd = i;
    i += 2;
    // Only the names that change how the request is framed or answered are looked at (by length first).
    if (nameLength === 4) {
      if (sameName(buf, nameStart, 'host')) {
        if (host) return null;
        host = true;
      }
    } else if (nameLength === 14) {
      if (sameName(buf, nameStart, 'content-length')) {
        if (contentLength !== -1) return null;
        let k = valueStart;
        let ve = valueEnd;
        while (k < ve && isOws(buf[k])) k++;
        while (ve > k && isOws(buf[ve - 1])) ve--;
        if (ve === k || ve - k > 15) return null;
        let n = 0;
        for (; k < ve; k++) {
          const d = buf[k] - 48;
          if (d < 0 || d > 9) return null;
          n = n * 10 + d;
        }
        contentLength = n;
      }
    } else if (nameLength === 10) {
      if (sameName(buf, nameStart, 'connection')) {
        let k = valueStart;
        let ve = valueEnd;
        while (k < ve && isOws(buf[k])) k++;
        while (ve > k && isOws(buf[ve - 1])) ve--;
        if (ve - k === 5 && sameName(buf, k, 'close')) close = true;
        else if (!(ve - k === 10 && sameName(buf, k, 'keep-alive'))) return null;
      }
    } else if (nameLength === 13) {
      if (sameName(buf, nameStart, 'authorization')) {
        if (authorization !== undefined) return null; // twice: node:http's to judge
        let k = valueStart;
        let ve = valueEnd;
        while (k < ve && isOws(buf[k])) k++;
        while (ve > k && isOws(buf[ve - 1])) ve--;
        authorization = Buffer.from(buf.buffer, buf.byteOffset + k, ve - k).toString('latin1');
      }
    } else if (nameLength === 17) {
      if (sameName(buf, nameStart, 'transfer-encoding')) return null;
    } else if (nameLength === 6) {
      if (sameName(buf, nameStart, 'expect')) return null;
    } else if (nameLength === 7) {
      if (sameName(buf, nameStart, 'upgrade')) return null;
    }
  }
  if (method === 'GET') {
    if (contentLength > 0) return null;
    contentLength = 0;
  } else if (contentLength === -1) return null;
  const target = Buffer.from(buf.buffer, buf.byteOffset + targetStart, targetEnd - targetStart).toString('latin1');
  // Over the common limit (rare): only a route with a larger one is still the fast path's.
  if (contentLength > maxBodyBytes && (largeBodies === undefined || contentLength > largeBodies.limitOf(target))) return null;
  return { method, target, contentLength, close, host, authorization };
}

const VERSION = Buffer.from('HTTP/1.1');

function matches(buf: Uint8Array, at: number, what: Uint8Array): boolean {
  for (let k = 0; k < what.length; k++) if (buf[at + k] !== what[k]) return false;
  return true;
}

function isOws(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** Whether the bytes at `at` are `lower` (ASCII, case-insensitive; the caller checked the length). */
function sameName(buf: Uint8Array, at: number, lower: string): boolean {
  for (let k = 0; k < lower.length; k++) {
    const c = buf[at + k];
    if ((c >= 0x41 && c <= 0x5a ? c | 0x20 : c) !== lower.charCodeAt(k)) return false;
  }
  return true;
}

let dateText = '';
let dateSecond = -1;
/** The Date header's value, rebuilt once a second. */
function httpDate(): string {
  const now = Date.now();
  const s = Math.floor(now / 1000);
  if (s !== dateSecond) {
    dateSecond = s;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

class FastConnection implements FastExchange {
  private buf: Buffer | null = null;
  /** Chunks of a body still arriving, joined to `buf` once `need` bytes are there (no copy per chunk). */
  private more: Buffer[] = [];
  private moreLength = 0;
  /** Bytes the request at the front of `buf` needs in all (head and body), once its head is parsed; 0 otherwise. */
  private need = 0;
  private busy = false;
  /** The socket's current inactivity timeout (re-armed only when it changes; reads and writes refresh it). */
  private timerMs = -1;
  /** The absolute deadline of the request being read (head or body), or null between requests. */
  private deadline: NodeJS.Timeout | null = null;
  /** What the armed deadline is for. */
  private deadlineFor: 'head' | 'body' | null = null;
  /** A response write was buffered (the client is not reading): no next request until it drains. */
  private draining = false;
  /** Reading stopped: more unparsed bytes than one request may have, while one is being answered. */
  private paused = false;
  private closeAfter = false;
  private done = false;
  /** next() is on the stack: a synchronous answer lets its loop go on instead of recursing. */
  private parsing = false;
  /** The client ended its side (node:http servers allow half-open connections): answer what is complete, then end ours. */
  private ended = false;
  sent = false;

  constructor(
    private readonly socket: Socket,
    private readonly path: FastPath,
  ) {
    socket.on('data', this.onData);
    socket.on('error', this.onError);
    socket.on('close', this.onClose);
    socket.on('timeout', this.onTimeout);
    socket.on('end', this.onEnd);
    this.setTimer(path.opts.keepAliveTimeoutMs);
  }

  private setTimer(ms: number): void {
    if (ms !== this.timerMs) {
      this.timerMs = ms;
      this.socket.setTimeout(ms);
    }
  }

  get idle(): boolean {
    return !this.busy && !this.draining && this.buf === null;
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.done) return; // answered with Connection: close (or handed over): nothing more is read
    if (this.need > 0 && this.buf !== null && this.buf.length + this.moreLength + chunk.length < this.need) {
      // The rest of a body: kept as chunks until the whole request is there, so a client sending it in
      // many small pieces costs one copy, not one per piece.
      this.more.push(chunk);
      this.moreLength += chunk.length;
      return;
    }
    if (this.more.length > 0) {
      this.buf = Buffer.concat([this.buf!, ...this.more, chunk]);
      this.more = [];
      this.moreLength = 0;
    } else this.buf = this.buf === null ? chunk : Buffer.concat([this.buf, chunk]);
    if (!this.busy && !this.draining) this.next();
    // A client pipelining faster than it is answered: stop reading until the buffer is worked down.
    if (!this.paused && !this.done && this.overBuffered()) {
      this.paused = true;
      this.socket.pause();
    }
  };

  private readonly onDrain = (): void => {
    this.draining = false;
    if (!this.busy && !this.parsing) this.next();
  };

  private readonly onError = (): void => {
    this.socket.destroy();
  };

  private readonly onClose = (): void => {
    this.done = true;
    this.clearDeadline();
    this.path.connections.delete(this);
  };

  private readonly onEnd = (): void => {
    this.ended = true;
    if (!this.busy && !this.parsing) this.next();
  };

  private readonly onTimeout = (): void => {
    if (this.busy) return; // our own handler is slow: not the client's fault
    this.socket.destroy();
  };

  /**
   * More unparsed bytes than a connection may hold, none of them the start of a request still being
   * read (a large body, up to its route's limit, must be read in whole however little is buffered).
   */
  private overBuffered(): boolean {
    return this.buf !== null && this.buf.length > this.path.maxBuffered && this.need === 0;
  }

  /** Parses and dispatches the next buffered request, if a whole one is there. */
  private next(): void {
    this.parsing = true;
    try {
      this.parse();
    } finally {
      this.parsing = false;
    }
    if (this.paused && !this.done && !this.overBuffered()) {
      this.paused = false;
      this.socket.resume();
    }
    // Nothing more can come: a partial request left in the buffer is dropped with the connection.
    if (this.ended && !this.busy && !this.draining && !this.done) {
      this.done = true;
      this.buf = null;
      this.more = [];
      this.socket.end();
    }
  }

  private parse(): void {
    while (!this.busy && !this.draining && !this.done && this.buf !== null) {
      const buf = this.buf;
      const headEnd = buf.indexOf(CRLFCRLF);
      if (headEnd === -1) {
        // Not a request this path takes, or a head longer than it reads: node:http decides.
        if (buf.length > MAX_HEAD_BYTES || !looksLikeStart(buf)) this.handOver();
        else this.armDeadline('head');
        return;
      }
      const head = headEnd > MAX_HEAD_BYTES ? null : parseHead(buf, headEnd, this.path.opts.maxBodyBytes, this.path.opts.largeBodies);
      if (head === null) {
        this.handOver();
        return;
      }
      const bodyStart = headEnd + 4;
      const total = bodyStart + head.contentLength;
      if (buf.length < total) {
        this.need = total;
        this.armDeadline('body');
        return;
      }
      this.need = 0;
      this.clearDeadline();
      const body = head.contentLength === 0 ? NO_BODY : buf.subarray(bodyStart, total);
      this.buf = buf.length === total ? null : buf.subarray(total);
      this.busy = true;
      this.sent = false;
      this.closeAfter = head.close;
      if (this.buf === null) this.setTimer(this.path.opts.keepAliveTimeoutMs);
      this.path.stats.requests++;
      try {
        this.path.dispatch(head.method, head.target, body, this, performance.now(), !head.host, head.authorization);
      } catch (err) {
        // The router answers every error itself; this is a guard against our own bug, not a path.
        if (this.sent) this.abort();
        else {
          const fault = internalError(err);
          this.path.opts.onFault?.(fault, head.target);
          this.send(500, 'application/json', JSON.stringify(fault.toJSON()), true);
        }
      }
    }
  }

  send(status: number, contentType: string, payload: string, close = false, retryAfter: number | null = null): void {
    if (this.sent) throw new Error('response already sent');
    this.sent = true;
    const closing = close || this.closeAfter || this.path.closing;
    if (!this.done) {
      const flushed = this.socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\ncontent-type: ${contentType}\r\ncontent-length: ${Buffer.byteLength(payload)}\r\nDate: ${httpDate()}\r\n${retryAfter === null ? '' : `Retry-After: ${retryAfter}\r\n`}${closing ? 'Connection: close\r\n\r\n' : this.path.keepAliveHeader}${payload}`,
      );
      if (closing) {
        this.done = true;
        this.socket.end();
        return;
      }
      if (!flushed) {
        this.draining = true;
        this.socket.once('drain', this.onDrain);
      }
    }
    this.busy = false;
    if ((this.buf !== null || this.ended) && !this.parsing && !this.draining) this.next();
  }

  abort(): void {
    this.done = true;
    this.clearDeadline();
    this.socket.destroy();
  }

  /**
   * Arms the absolute deadline of the request being read: once per phase (a head's deadline is not
   * moved by its later bytes; the body's starts when the head is complete). Between requests only the
   * keep-alive inactivity timeout applies.
   */
  private armDeadline(phase: 'head' | 'body'): void {
    if (this.deadlineFor === phase) return;
    if (this.deadline !== null) clearTimeout(this.deadline);
    this.deadlineFor = phase;
    this.deadline = setTimeout(this.onDeadline, phase === 'head' ? this.path.headersTimeoutMs : this.path.bodyTimeoutMs);
  }

  private clearDeadline(): void {
    if (this.deadline !== null) {
      clearTimeout(this.deadline);
      this.deadline = null;
    }
    this.deadlineFor = null;
  }

  /** The request was not read in time: 408 and close (what node:http answers at its deadlines). */
  private readonly onDeadline = (): void => {
    const phase = this.deadlineFor;
    this.deadline = null;
    this.deadlineFor = null;
    if (this.done) return;
    this.done = true;
    this.buf = null;
    this.more = [];
    this.path.stats.deadlines++;
    if (!this.busy && !this.draining) {
      const body = JSON.stringify({ error: `the request's ${phase} was not received within ${phase === 'head' ? this.path.headersTimeoutMs : this.path.bodyTimeoutMs} ms`, field: 'request', expected: 'a request sent in time' });
      this.socket.write(`HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    }
    this.socket.destroy();
  };

  /** Gives the connection, with the bytes not parsed yet, to node:http. */
  private handOver(): void {
    const { socket } = this;
    if (this.ended) {
      // node:http never saw this connection's end, so it could not finish the request either: what
      // is left after a half-close (a request the fast path does not take) is dropped with the connection.
      this.buf = null;
      this.done = true;
      socket.end();
      return;
    }
    const rest = this.buf;
    this.buf = null;
    this.done = true;
    this.clearDeadline(); // node:http's own absolute deadlines (headersTimeout, requestTimeout) take over
    this.path.connections.delete(this);
    socket.pause();
    socket.off('data', this.onData);
    socket.off('error', this.onError);
    socket.off('close', this.onClose);
    socket.off('timeout', this.onTimeout);
    socket.off('end', this.onEnd);
    socket.off('drain', this.onDrain);
    socket.setTimeout(0);
    this.path.stats.handOffs++;
    if (rest !== null) socket.unshift(rest);
    this.path.handOff(socket);
    socket.resume();
  }

  /** Closes the connection if it is between requests; a busy one closes after its answer. */
  closeIfIdle(): void {
    if (this.idle) this.abort();
  }
}

/** Could these bytes (no CRLFCRLF yet) start a request the fast path takes? */
function looksLikeStart(buf: Buffer): boolean {
  const n = Math.min(buf.length, 5);
  const post = 'POST ';
  const get = 'GET /';
  let okPost = true;
  let okGet = true;
  for (let i = 0; i < n; i++) {
    const c = buf[i];
    if (c !== post.charCodeAt(i)) okPost = false;
    if (c !== get.charCodeAt(i)) okGet = false;
  }
  return okPost || okGet;
}

/** What the fast path did so far (tests, diagnostics). */
export interface FastPathStats {
  /** Requests it read and routed itself. */
  requests: number;
  /** Connections it gave to node:http. */
  handOffs: number;
  /** Connections closed because a request's head or body missed its absolute deadline. */
  deadlines: number;
}

const STATS = new WeakMap<Server, FastPathStats>();

/** The fast path's counters for a server it was installed on, or null. */
export function fastPathStats(server: Server): FastPathStats | null {
  return STATS.get(server) ?? null;
}

class FastPath {
  readonly connections = new Set<FastConnection>();
  readonly stats: FastPathStats = { requests: 0, handOffs: 0, deadlines: 0 };
  closing = false;
  readonly keepAliveHeader: string;
  readonly headersTimeoutMs: number;
  readonly bodyTimeoutMs: number;
  /**
   * Unparsed bytes a connection may hold before it stops reading: a full head and body of the common
   * limit, and as much again (a request with a larger body is still read in whole: see overBuffered).
   */
  readonly maxBuffered: number;

  constructor(
    readonly opts: FastPathOptions,
    readonly dispatch: FastDispatch,
    readonly handOff: (socket: Socket) => void,
  ) {
    this.keepAliveHeader = `Connection: keep-alive\r\nKeep-Alive: timeout=${Math.floor(opts.keepAliveTimeoutMs / 1000)}\r\n\r\n`;
    this.headersTimeoutMs = opts.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS;
    this.bodyTimeoutMs = opts.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
    this.maxBuffered = 2 * (MAX_HEAD_BYTES + opts.maxBodyBytes);
  }
}

/**
 * Puts the fast path in front of `server` (a node:http server): its connections are read by the fast
 * path first and handed to node:http's own connection handling when needed. `close`,
 * `closeIdleConnections` and `closeAllConnections` cover the fast path's connections too.
 */
export function installFastPath(server: Server, opts: FastPathOptions, dispatch: FastDispatch): FastPathStats {
  const nodeListeners = server.listeners('connection') as ((socket: Socket) => void)[];
  if (nodeListeners.length !== 1) throw new Error(`expected node:http's one connection listener, found ${nodeListeners.length}`);
  const nodeConnection = nodeListeners[0];
  server.removeListener('connection', nodeConnection);
  const path = new FastPath(opts, dispatch, (socket) => nodeConnection.call(server, socket));
  STATS.set(server, path.stats);
  server.on('connection', (socket: Socket) => {
    if (path.closing) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    path.connections.add(new FastConnection(socket, path));
  });
  const closeIdle = server.closeIdleConnections.bind(server);
  const closeAll = server.closeAllConnections.bind(server);
  server.closeIdleConnections = () => {
    path.closing = !server.listening || path.closing;
    for (const c of [...path.connections]) c.closeIfIdle();
    closeIdle();
  };
  server.closeAllConnections = () => {
    for (const c of [...path.connections]) c.abort();
    closeAll();
  };
  server.on('close', () => {
    path.closing = true;
  });
  const close = server.close.bind(server);
  server.close = ((cb?: (err?: Error) => void) => {
    path.closing = true;
    return close(cb);
  }) as typeof server.close;
  return path.stats;
}
