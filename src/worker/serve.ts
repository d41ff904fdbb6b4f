/**
 * The worker's request path: one `http.Server` that parses every connection (HTTP
 * sockets directly, uwsgi-protocol sockets through their adapter) and runs the app's
 * handler, wrapped with what uWSGI adds around a request: limits (--limit-post),
 * the scoreboard entry harakiri reads, the 500 on an app error, the request log line,
 * and the max-requests count.
 *
 * This is the hot path: no closure per request or connection, nothing computed for
 * the log line when logging is off, no synchronous I/O, no messages to the master.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { UwsgiError, echo, type UwsgiErrorCode } from '../shared/errors.js';
import { formatDefaultLine } from '../shared/request-log.js';
import { log } from '../shared/log-writer.js';
import type { Scoreboard } from '../shared/scoreboard.js';
import type { WorkerSettings } from '../shared/messages.js';
import type { NodeHandler } from './app-loader.js';
import { HttpEngineServer } from './http-server.js';
import { requestOnSocket } from './http-connection.js';
import { installResponseFraming, chunkFramingBytes } from './unchunked-response.js';
import { installInterimResponses, interimBytes } from './interim-responses.js';
import type { UwsgiPacketError } from '../shared/uwsgi-packet.js';

/** What the worker needs of a request server, whichever engine parses its HTTP. */
export type RequestServer = import('node:net').Server & { closeAllConnections(): void };

export interface ServeState {
  /** Requests started and not yet closed. */
  inflight: number;
  /** Every open client connection (HTTP sockets, uwsgi adapters, proxied sockets). */
  connections: Set<Socket>;
  stopping: boolean;
  served: number;
}

/** Requests started on a connection so far (a property on the socket: no map lookups on the hot path). */
const kRequests = Symbol('uwsgi-ts.requests');
type CountedSocket = Socket & { [kRequests]?: number };

/** The error reply owed to a connection once the pipelined requests before its bad one are answered. */
const kErrorReply = Symbol('uwsgi-ts.errorReply');
type ErrorSocket = Socket & { [kErrorReply]?: string };

/** Responses of pipelined requests queued behind the one being answered (`--http-engine node` only). */
const kQueued = Symbol('uwsgi-ts.queuedResponses');
type QueuedSocket = Socket & { [kQueued]?: ServerResponse[] };

/** Per-request values the log line needs, kept on the response only when logging is on. */
const kLog = Symbol('uwsgi-ts.log');
interface LogStart {
  readonly startMs: number;
  readonly t0: number;
  /** the URL as received: routers (Express's mounted ones) rewrite req.url while they run */
  readonly url: string;
  /** the peer, read now: once the client resets the connection it can no longer be asked */
  readonly addr: string;
  /** the socket's bytesWritten when this response's bytes start, and when they are all written (-1 until then) */
  written0: number;
  written1: number;
}
type TrackedResponse = ServerResponse & { [kLog]?: LogStart };

/** The response a connection is answering now, if any (Node's own bookkeeping). */
function currentResponse(sock: Socket): ServerResponse | null {
  return (sock as { _httpMessage?: ServerResponse | null })._httpMessage ?? null;
}

/** Stopping: every response still running closes its connection when it is done. */
export function endKeepAlive(state: ServeState): void {
  for (const sock of state.connections) {
    const res = currentResponse(sock);
    if (res) res.shouldKeepAlive = false;
  }
}

/**
 * How long a keep-alive connection found idle by a graceful stop is kept open for a next
 * request. A busy client sends its next request on the connection as soon as it has read
 * a response, often just as the stop begins: closing it at once would reset that request
 * (the client sees ECONNRESET and the request is lost). Served with `Connection: close`,
 * it loses nothing. A client idle this long is assumed to send nothing more.
 */
const KEEPALIVE_STOP_GRACE_MS = 500;

/**
 * Graceful stop of the connections: one idle between keep-alive requests gets
 * KEEPALIVE_STOP_GRACE_MS (at most `graceMs`) to send its next request; one that has
 * not sent its first request yet (it was queued just before the stop) gets `graceMs`.
 * A request that arrives is served and its connection closed after the response.
 */
export function closeIdleConnections(state: ServeState, graceMs: number): void {
  const now = Date.now();
  for (const sock of state.connections) {
    const c = sock as CountedSocket & { _uwsgiIdleSince?: number };
    if (currentResponse(c)) continue;
    c._uwsgiIdleSince ??= now;
    const grace = (c[kRequests] ?? 0) > 0 ? Math.min(graceMs, KEEPALIVE_STOP_GRACE_MS) : graceMs;
    if (now - c._uwsgiIdleSince >= grace) sock.destroy();
  }
}

export interface ServeOptions {
  readonly settings: WorkerSettings;
  readonly workerId: number;
  readonly slot: number;
  readonly scoreboard: Scoreboard;
  readonly onMaxRequests: () => void;
}

interface UwsgiSocketInfo {
  uwsgiVars?: { count: number; pktsize: number; get(key: string, encoding?: BufferEncoding): string | undefined; getFirst(key: string): string | undefined };
}

/** CGI-style var count and size uWSGI's http-socket would have built for this request. */
function httpVarsSize(req: IncomingMessage, url: string): { count: number; size: number } {
  const raw = req.rawHeaders;
  // REQUEST_METHOD REQUEST_URI PATH_INFO QUERY_STRING SERVER_PROTOCOL SCRIPT_NAME SERVER_NAME SERVER_PORT REMOTE_ADDR REMOTE_PORT
  let size = 0;
  const q = url.indexOf('?');
  size += 14 + (req.method?.length ?? 0) + 11 + url.length + 9 + (q < 0 ? url.length : q) + 12 + (q < 0 ? 0 : url.length - q - 1) + 15 + 8 + 11 + 0 + 11 + 9 + 11 + 8 + 10;
  for (let i = 0; i < raw.length; i += 2) size += 5 + raw[i].length + raw[i + 1].length;
  const pairs = 10 + raw.length / 2;
  return { count: pairs * 2, size: size + pairs * 4 };
}

export function createRequestServer(handler: NodeHandler, opts: ServeOptions): {
  server: RequestServer; uwsgiServer: http.Server; state: ServeState; logRefusedPacket: (err: UwsgiPacketError) => void;
} {
  const { settings, slot, scoreboard } = opts;
  // no chunked encoding on HTTP/1.0 and uwsgi requests, none on 204/304, chunk framing kept out of rsize
  installResponseFraming();
  // no 1xx on HTTP/1.0 and uwsgi requests; the 1xx bytes sent are kept out of rsize
  installInterimResponses();
  const state: ServeState = { inflight: 0, connections: new Set(), stopping: false, served: 0 };
  const logging = settings.logging;
  const harakiri = settings.harakiri > 0;
  const limitPost = settings.limitPost;
  const maxRequests = settings.maxRequests;
  const pid = process.pid;
  let appRequests = 0;
  let retireAsked = false;

  // Two parsers share one request path: HTTP sockets are held to --buffer-size exactly;
  // uwsgi connections were already held to it by the packet parser, and their synthesized
  // HTTP head can be longer than the vars block (percent-encoded URIs), so their limit is looser.
  const headersTimeout = Math.max(1000, settings.socketTimeout * 1000 * 15);
  const makeServer = (maxHeaderSize: number, listener: (req: IncomingMessage, res: TrackedResponse) => void): http.Server => {
    const srv = http.createServer({
      maxHeaderSize,
      keepAliveTimeout: 5000,
      requestTimeout: 0,
      // uWSGI serves an HTTP/1.1 request without Host (Node would answer 400 and log nothing)
      requireHostHeader: false,
      headersTimeout,
    }, listener);
    return listenTo(srv);
  };

  /** The events every request server reports to this wrapper, whichever engine it is. */
  function listenTo<S extends RequestServer>(srv: S): S {
    srv.on('connection', onConnection);
    srv.on('clientError', onClientError);
    if (limitPost > 0) srv.on('checkContinue', onCheckContinue);
    return srv;
  }

  /**
   * `Expect: 100-continue` with --limit-post: a declared body over the limit gets its 413
   * instead of a `100 Continue` (which would invite the client to send it). Otherwise
   * the 100 goes out as Node would send it, before the app runs.
   */
  function onCheckContinue(this: http.Server, req: IncomingMessage, res: TrackedResponse): void {
    const cl = req.headers['content-length'];
    if (cl === undefined || !(Number(cl) > limitPost)) res.writeContinue();
    if (this === server && settings.httpEngine === 'node') onHttpRequest(req, res);
    else onRequest(req, res);
  }

  // Shared handlers (no closure per connection or per request).
  function onConnection(sock: Socket): void {
    state.connections.add(sock);
    sock.on('close', onSocketClose);
  }
  function onSocketClose(this: Socket): void {
    state.connections.delete(this);
    const queued = (this as QueuedSocket)[kQueued];
    if (queued !== undefined) {
      // Node's server drops the responses of pipelined requests still waiting for the
      // socket without a 'close': they end here (logged, no longer in flight, scoreboard freed)
      (this as QueuedSocket)[kQueued] = undefined;
      for (const res of queued) emitResponseClose(res);
    }
  }
  function onResponseClose(this: ServerResponse): void {
    finishRequest(this.req, this);
    const sock = this.req.socket as ErrorSocket;
    const reply = sock[kErrorReply];
    if (reply !== undefined && currentResponse(sock) === null) {
      if (sock.writable) sock.end(reply);
      else sock.destroy();
    }
  }
  /** A pipelined request's response waited for the ones before it: its bytes start now. */
  function onResponseSocket(this: TrackedResponse, sock: Socket & { bytesWritten?: number }): void {
    const start = this[kLog];
    if (start) start.written0 = typeof sock.bytesWritten === 'number' ? sock.bytesWritten : 0;
  }
  /**
   * All of this response is written ('prefinish' comes before Node's own 'finish' handler
   * hands the socket to the next pipelined response and flushes it).
   */
  function onResponsePrefinish(this: TrackedResponse): void {
    const start = this[kLog];
    const bw = (this.socket as { bytesWritten?: number } | null)?.bytesWritten;
    if (start && typeof bw === 'number') start.written1 = bw;
  }

  function onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
    // the parser reports its error again on every later read: answered once
    if ((socket as ErrorSocket)[kErrorReply] !== undefined) return;
    const peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    const incoming = (socket as { parser?: { incoming?: IncomingMessage | null } | null }).parser?.incoming ?? requestOnSocket(socket);
    const reset = err.code === 'ECONNRESET';
    const stalled = err.code === 'ETIMEDOUT';
    if (reset || stalled || err.code === 'HPE_INVALID_EOF_STATE') {
      // the client closed or reset the connection in the middle of a request: nobody is
      // left to answer. (A reset between requests is a client going away: not logged.)
      if (incoming && !incoming.complete) {
        const cl = incoming.headers['content-length'];
        log.line(`[UWSGI_ERR_BODY_READ] worker ${opts.workerId}: request body from ${peer}: [uwsgi-body-read] Error reading the body of ${incoming.method} ${incoming.url} (${cl === undefined ? 'chunked' : `Content-Length: ${echo(cl)}`}) message: ${reset ? 'Connection reset by peer' : stalled ? `Timeout: no data for --socket-timeout ${settings.socketTimeout} s` : 'Client closed connection'}`);
      } else if (!reset) {
        log.line(`[UWSGI_ERR_HTTP_PARSE] worker ${opts.workerId}: bad HTTP request from ${peer}: the client closed the connection in the middle of a request head`);
      }
      socket.destroy();
      return;
    }
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    let code: UwsgiErrorCode;
    let status: string;
    let detail: string;
    if (err.code === 'HPE_HEADER_OVERFLOW') {
      code = 'UWSGI_ERR_HTTP_HEADERS_TOO_LARGE';
      status = '431 Request Header Fields Too Large';
      const size = (err as { headSize?: number }).headSize;
      detail = size !== undefined && size >= 0 ? `request head of ${size} bytes larger than --buffer-size ${settings.bufferSize}` : `request head larger than --buffer-size ${settings.bufferSize}`;
    } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      code = 'UWSGI_ERR_HTTP_TIMEOUT';
      status = '408 Request Timeout';
      detail = `${err.message} (15 × --socket-timeout ${settings.socketTimeout})`;
    } else {
      code = 'UWSGI_ERR_HTTP_PARSE';
      status = '400 Bad Request';
      detail = `${err.code ?? 'parse error'}: ${err.message}`;
    }
    log.line(`[${code}] worker ${opts.workerId}: bad HTTP request from ${peer}: ${detail}`);
    const reply = `HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`;
    const res = currentResponse(socket);
    if (res === null) {
      socket.end(reply);
      return;
    }
    if (incoming && !incoming.complete) {
      // the fault is in the body of the request being answered: it cannot complete
      if (res.headersSent) socket.destroy();
      else socket.end(reply);
      return;
    }
    // A later pipelined request is bad: the requests before it are still being answered.
    // Their responses go out first, then this reply (finishRequest), then the close.
    (socket as ErrorSocket)[kErrorReply] = reply;
  }

  // Node's maxHeaderSize counts only the URL and the header names and values, so a head
  // up to ~30 bytes (plus 4 per header) over --buffer-size would pass it: the HTTP
  // listener measures the whole head itself (onHttpRequest).
  let server: RequestServer;
  if (settings.httpEngine === 'node') {
    server = makeServer(settings.bufferSize, onHttpRequest);
    server.on('connect', onConnectRequest);
  }
  else {
    // the engine's parser holds the whole head to --buffer-size itself
    const own = new HttpEngineServer({ maxHeaderSize: settings.bufferSize, keepAliveTimeout: 5000, headersTimeout, bodyTimeout: settings.socketTimeout * 1000 }, onRequest);
    server = listenTo(own);
  }
  const uwsgiServer = makeServer(Math.min(65535 * 3, settings.bufferSize * 3) + 1024, onRequest);
  const bufferSize = settings.bufferSize;

  /** HTTP sockets: the request head (request line, headers, blank line) must fit in --buffer-size, as in uWSGI. */
  function onHttpRequest(req: IncomingMessage, res: TrackedResponse): void {
    const size = requestHeadSize(req);
    if (size <= bufferSize) {
      onRequest(req, res);
      return;
    }
    const sock = req.socket;
    log.line(`[UWSGI_ERR_HTTP_HEADERS_TOO_LARGE] worker ${opts.workerId}: bad HTTP request from ${sock.remoteAddress ?? '?'}:${sock.remotePort ?? '?'}: request head of ${size} bytes larger than --buffer-size ${bufferSize}`);
    res.shouldKeepAlive = false;
    res.writeHead(431, { Connection: 'close', 'Content-Length': '0' });
    res.end();
  }

  /**
   * `--http-engine node`: Node hands a CONNECT request over as a tunnel ('connect', its
   * parser detached from the socket). It is served as an ordinary request instead, as the
   * own engine and uWSGI serve it, and the connection closes after the response.
   */
  function onConnectRequest(req: IncomingMessage, socket: Socket): void {
    socket.on('error', onConnectSocketError);
    const res = new http.ServerResponse(req) as TrackedResponse;
    res.shouldKeepAlive = false;
    res.assignSocket(socket);
    res.on('finish', onConnectResponseFinish);
    // no body follows a CONNECT head: the request ends now
    if (!req.complete) {
      req.complete = true;
      req.push(null);
    }
    onHttpRequest(req, res);
  }

  function finishRequest(req: IncomingMessage, res: TrackedResponse): void {
    state.inflight--;
    const n = scoreboard.requestEnd(slot);
    appRequests++;
    state.served++;
    const start = res[kLog];
    if (start) {
      const { startMs, t0, url, written0, written1 } = start;
      const sock = req.socket as Socket & UwsgiSocketInfo;
      const total = scoreboard.nextTotal();
      const head = (res as unknown as { _header?: string | null })._header;
      const hsize = head ? Buffer.byteLength(head, 'latin1') : 0;
      let rsize = 0;
      const bw = written1 >= 0 ? written1 : (sock as { bytesWritten?: number }).bytesWritten;
      if (typeof bw === 'number') rsize = Math.max(0, bw - written0 - hsize - chunkFramingBytes(res) - interimBytes(res));
      const uv = sock.uwsgiVars;
      let vars: number;
      let pktsize: number;
      let addr: string;
      let proto: string;
      let method: string;
      let uri: string;
      let user = '';
      if (uv) {
        vars = uv.count;
        pktsize = uv.pktsize;
        addr = uv.getFirst('REMOTE_ADDR') ?? '';
        proto = uv.get('SERVER_PROTOCOL') ?? '';
        // the vars as the front end sent them (the app saw a percent-encoded, maybe defaulted, request line)
        method = uv.get('REQUEST_METHOD') ?? '';
        uri = uv.get('REQUEST_URI', 'utf8') ?? '';
        user = uv.get('REMOTE_USER', 'utf8') ?? '';
      } else {
        method = req.method ?? '';
        uri = url;
        const v = httpVarsSize(req, url);
        vars = v.count;
        pktsize = v.size;
        addr = start.addr;
        proto = `HTTP/${req.httpVersion}`;
      }
      const headerCount = head ? countHeaderLines(head) : 0;
      log.line(formatDefaultLine({
        pid, app: 0, appRequests, total, addr, user, vars, pktsize, startMs,
        method, uri, rsize,
        micros: Math.round((performance.now() - t0) * 1000), proto,
        status: res.headersSent ? res.statusCode : (res.writableFinished ? res.statusCode : 500),
        headers: headerCount, hsize, switches: rsize > 0 ? 1 : 0, core: 0,
      }, settings.logMicros));
    }
    if (maxRequests > 0 && n >= maxRequests && !retireAsked) {
      retireAsked = true;
      opts.onMaxRequests();
    }
  }

  function onRequest(req: IncomingMessage, res: TrackedResponse): void {
    const startMs = Date.now();
    const sock = req.socket as CountedSocket & { bytesWritten?: number };
    sock[kRequests] = (sock[kRequests] ?? 0) + 1;
    if (logging) {
      // a 100 Continue the engine sent before the app ran is already behind written0: it is taken back out of the interim count
      res[kLog] = { startMs, t0: performance.now(), url: req.url ?? '', addr: sock.remoteAddress ?? '', written0: typeof sock.bytesWritten === 'number' ? sock.bytesWritten - interimBytes(res) : 0, written1: -1 };
      if (res.socket === null) res.on('socket', onResponseSocket);
      res.on('prefinish', onResponsePrefinish);
    }
    state.inflight++;
    scoreboard.requestBegin(slot, startMs);
    if (harakiri) scoreboard.requestInfo(slot, `${req.method} ${req.url} ${sock.remoteAddress ?? ''}`);
    if (state.stopping) res.shouldKeepAlive = false;
    res.on('close', onResponseClose);
    // a pipelined request's response waiting for its turn (Node's engine): remembered on the connection
    if (res.socket === null) ((sock as QueuedSocket)[kQueued] ??= []).push(res);

    if (limitPost > 0 && !checkLimitPost(req, res, limitPost, opts.workerId)) return;

    let result: unknown;
    try {
      result = handler(req, res);
    } catch (e) {
      appError(req, res, e, opts.workerId);
      return;
    }
    if (result && typeof (result as Promise<unknown>).then === 'function') {
      (result as Promise<unknown>).then(undefined, (e: unknown) => appError(req, res, e, opts.workerId));
    }
  }

  /**
   * A uwsgi packet refused after its header (vars parse failure, CONTENT_LENGTH refused):
   * uWSGI still writes the request line, with `app: -1`, the pairs parsed so far and
   * status 500 (0 for an empty vars block); logging.md §3.
   */
  function logRefusedPacket(err: UwsgiPacketError): void {
    if (!logging || !err.requestLog) return;
    const v = err.vars;
    log.line(formatDefaultLine({
      pid, app: -1, appRequests: 0, total: scoreboard.nextTotal(), addr: v?.getFirst('REMOTE_ADDR') ?? '',
      user: v?.get('REMOTE_USER', 'utf8') ?? '', vars: 2 * err.varsParsed, pktsize: err.datasize, startMs: Date.now(),
      method: v?.get('REQUEST_METHOD') ?? '', uri: v?.get('REQUEST_URI', 'utf8') ?? '', rsize: 0, micros: 0,
      proto: v?.get('SERVER_PROTOCOL') ?? '', status: err.logStatus, headers: 0, hsize: 0, switches: 0, core: 0,
    }, settings.logMicros));
  }

  return { server, uwsgiServer, state, logRefusedPacket };
}

/**
 * Bytes of the request head as sent: `METHOD SP URI SP HTTP/x.y CRLF`, each header as
 * `Name: value CRLF`, and the final CRLF (optional whitespace around a value is counted
 * as the usual single space: Node has dropped it).
 */
function requestHeadSize(req: IncomingMessage): number {
  const raw = req.rawHeaders;
  let size = (req.method?.length ?? 0) + (req.url?.length ?? 0) + 14;
  for (let i = 0; i < raw.length; i++) size += raw[i].length + 2;
  return size;
}

/** A CONNECT connection Node's server no longer watches: a reset peer only ends it. */
function onConnectSocketError(this: Socket): void {
  this.destroy();
}

/** What Node's server does when a response finishes, for the CONNECT responses served outside it. */
function onConnectResponseFinish(this: ServerResponse): void {
  const sock = this.socket;
  if (sock !== null) {
    this.detachSocket(sock);
    sock.end();
  }
  process.nextTick(emitResponseClose, this);
}

function emitResponseClose(res: ServerResponse): void {
  const r = res as ServerResponse & { _closed?: boolean };
  if (r._closed === true) return;
  r._closed = true;
  r.destroyed = true;
  res.emit('close');
}

function countHeaderLines(head: string): number {
  let n = -1; // the status line is not a header
  let i = head.indexOf('\r\n');
  while (i >= 0 && i < head.length - 2) {
    n++;
    i = head.indexOf('\r\n', i + 2);
  }
  return Math.max(0, n);
}

/** --limit-post: a declared Content-Length over the limit is refused before the app runs; a chunked body is counted as it streams. */
function checkLimitPost(req: IncomingMessage, res: ServerResponse, limit: number, workerId: number): boolean {
  const cl = req.headers['content-length'];
  const peer = req.socket.remoteAddress ?? '';
  if (cl !== undefined) {
    const n = Number(cl);
    if (n > limit) {
      log.line(`[UWSGI_ERR_BODY_TOO_LARGE] worker ${workerId}: ${req.method} ${req.url} from ${peer}: Content-Length ${echo(cl)} exceeds --limit-post ${limit}`);
      refuse413(res);
      return false;
    }
    return true;
  }
  if (req.headers['transfer-encoding'] === undefined) return true;
  let seen = 0;
  let refused = false;
  const push = req.push;
  // Count the body as the parser pushes it; past the limit, answer 413 and swallow the
  // rest (the end of the stream too): the app sees no more data and no 'end', so it can
  // no longer answer, and the connection closes after the 413.
  req.push = function (chunk: unknown, encoding?: BufferEncoding): boolean {
    if (refused) return false;
    if (chunk != null) {
      seen += (chunk as Buffer).length;
      if (seen > limit) {
        refused = true;
        log.line(`[UWSGI_ERR_BODY_TOO_LARGE] worker ${workerId}: ${req.method} ${req.url} from ${peer}: chunked body passed --limit-post ${limit}`);
        if (!res.headersSent) refuse413(res);
        else res.destroy();
        return false;
      }
    }
    return push.call(this, chunk, encoding);
  };
  return true;
}

function refuse413(res: ServerResponse): void {
  res.shouldKeepAlive = false;
  res.writeHead(413, { 'Content-Type': 'text/plain', 'Content-Length': '24', Connection: 'close' });
  res.end('Request Entity Too Large');
}

function appError(req: IncomingMessage, res: ServerResponse, e: unknown, workerId: number): void {
  const detail = e instanceof Error ? (e.stack ?? e.message) : echo(e);
  const err = e instanceof UwsgiError ? e : new UwsgiError('UWSGI_ERR_APP_ERROR', detail);
  log.line(`[${err.code}] worker ${workerId}: ${req.method} ${req.url}: ${err === e ? err.message : detail}`);
  if (!res.headersSent) {
    res.shouldKeepAlive = false;
    if (err.code === 'UWSGI_ERR_HTTP_PARSE') {
      res.writeHead(400, { 'Content-Type': 'text/plain', 'Content-Length': '11' });
      res.end('Bad Request');
      return;
    }
    res.writeHead(500, { 'Content-Type': 'text/plain', 'Content-Length': '21' });
    res.end('Internal Server Error');
  } else {
    res.destroy();
  }
}
