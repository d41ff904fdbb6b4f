/**
 * One HTTP/1.x connection of the worker's own HTTP engine: bytes in through
 * `HttpRequestParser`, requests out as Node's own `http.IncomingMessage` and
 * `http.ServerResponse` (so Express, Fastify and anything written for `(req, res)` run
 * unmodified), with Node's response writer doing the writing (head + first body chunk
 * in one write).
 *
 * Requests on a connection are served one at a time, in order: when a message is
 * complete and its response is not, the bytes after it (a pipelined request) wait in
 * `held` until the response finishes; past `HOLD_LIMIT` bytes the socket stops reading.
 *
 * Lifecycle, as Node's http server does it: the response's 'finish' dumps an unread
 * body, detaches the socket, emits the response's 'close' on the next tick, then either
 * closes the connection (`Connection: close`, HTTP/1.0, the peer half-closed) or parses
 * the next request. A socket 'close' aborts the request in flight (`aborted`).
 */
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { EngineResponse, nodeResponseSymbol } from './http-response.js';
import { attachReadBuffer } from './socket-read-buffer.js';
import { HttpRequestParser, HttpParseError, ParserState, HeadFlags, type HttpParserOptions, type HttpParserSink } from './http-parser.js';

/** A socket as the engine sees it: a net.Socket, or the proxy mode's Duplex that looks like one. */
export type EngineSocket = Socket | (Duplex & { remoteAddress?: string; destroySoon?: () => void });

/** What a connection needs from its server. */
export interface ConnectionOwner {
  readonly parserOptions: HttpParserOptions;
  /** advertised in `Keep-Alive: timeout=N` (ms) */
  readonly keepAliveTimeoutMs: number;
  /** the coarse clock the idle sweep compares against (ticks, not ms) */
  readonly tick: number;
  onRequest(req: IncomingMessage, res: ServerResponse): void;
  onParseError(err: Error & { code: string }, socket: EngineSocket): void;
  onClose(conn: HttpConnection): void;
  /** `Expect: 100-continue`: true if a 'checkContinue' listener took the request (it then answers or continues itself) */
  onCheckContinue(req: IncomingMessage, res: ServerResponse): boolean;
  /** true if someone listened to the server's 'timeout' */
  onSocketTimeout(socket: EngineSocket): boolean;
}

/** Bytes of pipelined requests held while a response is running before the socket stops reading. */
const HOLD_LIMIT = 65536;

const kConnection = Symbol('uwsgi-ts.httpConnection');
type OwnedSocket = EngineSocket & { [kConnection]?: HttpConnection; _paused?: boolean };

// Node's own (underscore) fields this module reads or sets, as Node's http server does.
interface NodeReadableState { resumeScheduled: boolean; ended: boolean; endEmitted: boolean; destroyed: boolean; closed: boolean; closeEmitted: boolean; length: number }
interface NodeIncoming {
  _addHeaderLines(headers: string[], n: number): void;
  _dump(): void;
  /** Node >= 24.? has it; the same steps are done by hand on older Nodes */
  _dumpAndCloseReadable?: () => void;
  _consuming: boolean;
  _dumped: boolean;
  _eventsCount: number;
  _readableState: NodeReadableState;
}
interface NodeResponse { _last: boolean; _keepAliveTimeout: number; _expect_continue: boolean; _closed: boolean }

function onData(this: OwnedSocket, chunk: Buffer): void {
  this[kConnection]!.data(chunk, false);
}
/** A read into the thread's shared buffer (socket-read-buffer.ts): the bytes are only lent. */
function onSharedRead(this: Socket, nread: number, buf: Buffer): boolean {
  (this as OwnedSocket)[kConnection]!.data(buf.subarray(0, nread), true);
  return true;
}
function onEnd(this: OwnedSocket): void {
  this[kConnection]!.peerEnded();
}
function onClose(this: OwnedSocket): void {
  this[kConnection]!.closed();
}
/**
 * The symbol under which Node's response remembers that a write returned false
 * (`kNeedDrain`), found once on a probe response; undefined if a Node version renames it,
 * and then the public `writableNeedDrain` is used instead.
 */
const kNeedDrain = nodeResponseSymbol('kNeedDrain');
type DrainableResponse = ServerResponse & { [k: symbol]: unknown };

/** The socket drained: a response that was told to wait gets its 'drain' (what Node's http server does). */
function onDrain(this: OwnedSocket): void {
  const msg = (this as { _httpMessage?: DrainableResponse | null })._httpMessage;
  if (!msg || msg.writableFinished || msg.writableEnded) return;
  if (kNeedDrain !== undefined) {
    if (msg[kNeedDrain] !== true) return;
    msg[kNeedDrain] = false;
  } else if (!msg.writableNeedDrain) return;
  msg.emit('drain');
}
/**
 * A socket timeout the app asked for (`req.setTimeout`, `res.setTimeout`): 'timeout' goes to
 * the request still being received, the response and the server; with nobody listening the
 * socket is destroyed (Node's http server does the same).
 */
function onTimeout(this: OwnedSocket): void {
  const conn = this[kConnection]!;
  const req = conn.currentRequest;
  const reqHeard = req !== null && !req.complete && req.emit('timeout', this);
  const res = (this as { _httpMessage?: ServerResponse | null })._httpMessage;
  const resHeard = res != null && res.emit('timeout', this);
  if (!reqHeard && !resHeard && !conn.ownerHeardTimeout(this)) this.destroy();
}
function onError(this: OwnedSocket, err: NodeJS.ErrnoException): void {
  this[kConnection]!.socketError(err);
}

/** The request the engine is receiving or answering on this socket (null: none, or not an engine socket). */
export function requestOnSocket(socket: unknown): IncomingMessage | null {
  return (socket as OwnedSocket)[kConnection]?.currentRequest ?? null;
}
function onResponseFinish(this: ServerResponse): void {
  const sock = this.socket as OwnedSocket | null;
  const conn = sock?.[kConnection];
  if (conn) conn.responseDone(this);
}
/**
 * Node's `req._dump()`: flow the unread request to its end, which emits 'end' and then
 * 'close' on it over three ticks (about 10k instructions, a sixth of a keep-alive
 * request). When the request is already complete, nothing is buffered and nobody
 * listens to it, those events have no observer: the stream is put in its final state
 * directly (what Node's own `optimizeEmptyRequests` does, without its catch, since this
 * only applies when no listener could miss an event).
 */
function dumpRequest(req: IncomingMessage & NodeIncoming): void {
  const state = req._readableState;
  if (req._eventsCount !== 0 || !req.complete || state.length !== 0) {
    req._dump();
    return;
  }
  if (typeof req._dumpAndCloseReadable === 'function') {
    req._dumpAndCloseReadable();
    return;
  }
  req._dumped = true;
  state.ended = true;
  state.endEmitted = true;
  state.destroyed = true;
  state.closed = true;
  state.closeEmitted = true;
}

/** What Node's http server destroys an interrupted request with. */
function connReset(): Error {
  return Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
}

function emitCloseNT(res: ServerResponse & NodeResponse): void {
  if (!res._closed) {
    res.destroyed = true;
    res._closed = true;
    res.emit('close');
  }
}

export class HttpConnection implements HttpParserSink {
  readonly socket: OwnedSocket;
  private readonly owner: ConnectionOwner;
  private readonly parser: HttpRequestParser;
  /** the request whose response has not finished yet */
  private req: (IncomingMessage & NodeIncoming) | null = null;
  private res: (ServerResponse & NodeResponse) | null = null;
  /** a request answered before its body arrived: its body is dropped, its end still pushed */
  private dumped: (IncomingMessage & NodeIncoming) | null = null;
  /** bytes received after a complete message, waiting for its response to finish */
  private held: Buffer | null = null;
  /** the peer half-closed: answer what is in flight, then close */
  private peerDone = false;
  private isClosed = false;
  /** the bytes being parsed are lent (the thread's read buffer): body chunks and held bytes are copied */
  private lent = false;
  /** a fault or timeout was reported: nothing more is parsed or reported on this connection */
  private givenUp = false;
  /** requests started on this connection */
  requests = 0;
  /** owner.tick when the connection last became idle (or was opened) */
  idleSince: number;
  /** owner.tick when the head now being received started (-1: none) */
  headSince = -1;
  /** owner.tick of the last bytes received */
  lastData: number;

  constructor(socket: EngineSocket, owner: ConnectionOwner) {
    this.socket = socket as OwnedSocket;
    this.owner = owner;
    this.parser = new HttpRequestParser(this, owner.parserOptions);
    this.idleSince = owner.tick;
    this.lastData = owner.tick;
    this.socket[kConnection] = this;
    if (!(socket instanceof Socket) || !attachReadBuffer(socket, onSharedRead)) socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onClose);
    socket.on('error', onError);
    socket.on('drain', onDrain);
    socket.on('timeout', onTimeout);
  }

  /** The request being received or answered, if any. */
  get currentRequest(): IncomingMessage | null {
    return this.req;
  }

  /** Offer a socket timeout to the server's 'timeout' listeners. */
  ownerHeardTimeout(socket: EngineSocket): boolean {
    return this.owner.onSocketTimeout(socket);
  }

  /** No request in flight and no request bytes pending. */
  get idle(): boolean {
    return this.req === null && this.held === null && !this.parser.midMessage;
  }

  /**
   * A request is running and its body is still arriving: 'peer' when the engine is waiting
   * for the client's bytes, 'app' when the app has paused the request (or its buffer is
   * full), so the app, not the peer, is the one waiting; null otherwise.
   */
  get bodyWait(): 'peer' | 'app' | null {
    const req = this.req;
    if (req === null || req.complete) return null;
    return req.isPaused() || (this.socket as { isPaused?: () => boolean }).isPaused?.() === true ? 'app' : 'peer';
  }

  /** End the running request as a stalled or broken upload: 'aborted', then the error, then 'close'. */
  abortRequest(err: Error): void {
    const req = this.req;
    this.req = null;
    if (req !== null) req.destroy(err);
    else this.socket.destroy();
  }

  /** Waiting for (the rest of) a request head. */
  get receivingHead(): boolean {
    return this.req === null && (this.parser.midMessage || this.held !== null);
  }

  // ---- socket events ----

  /** Bytes from the peer; `lent`: they live in the thread's read buffer, and whatever is kept past this call is copied. */
  data(chunk: Buffer, lent: boolean): void {
    if (this.givenUp) return;
    this.lastData = this.owner.tick;
    if (this.held !== null) {
      this.held = Buffer.concat([this.held, chunk]);
      if (this.req !== null) {
        this.holdBack();
        return;
      }
      const buf = this.held;
      this.held = null;
      this.parse(buf);
      return;
    }
    if (this.req === null && this.parser.state === ParserState.Head && this.headSince < 0) this.headSince = this.owner.tick;
    if (!lent) {
      this.parse(chunk);
      return;
    }
    this.lent = true;
    try {
      this.parse(chunk);
    } finally {
      this.lent = false;
    }
  }

  peerEnded(): void {
    this.peerDone = true;
    if (this.givenUp) return;
    const err = this.parser.finish();
    if (err !== null) {
      // cut off in the middle of a head or a body: answered and closed, a running request
      // aborted the way a reset would abort it
      this.parseFailed(err, true);
      return;
    }
    if (this.res !== null) this.res.shouldKeepAlive = false;
    else this.socket.end();
  }

  /**
   * A socket error (mostly a reset peer). In the middle of a request it is reported, as
   * Node's server reports it ('clientError'); between requests the client just went away.
   * 'close' follows and aborts the request.
   */
  socketError(err: NodeJS.ErrnoException): void {
    const req = this.req;
    if (!this.givenUp && req !== null && !req.complete && typeof err.code === 'string') {
      this.givenUp = true;
      this.owner.onParseError(err as Error & { code: string }, this.socket);
    }
    this.socket.destroy();
  }

  closed(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    const req = this.req;
    if (req !== null && !req.complete) req.destroy(connReset());
    this.req = null;
    this.res = null;
    this.held = null;
    this.dumped = null;
    this.owner.onClose(this);
  }

  // ---- parsing ----

  private parse(buf: Buffer): void {
    const parser = this.parser;
    let start = 0;
    while (start < buf.length) {
      if (parser.state === ParserState.Complete) {
        if (this.req !== null) {
          // a pipelined request: it waits for the running response
          this.held = this.lent ? Buffer.from(buf.subarray(start)) : start === 0 ? buf : buf.subarray(start);
          this.holdBack();
          return;
        }
        parser.reset();
        this.headSince = this.owner.tick;
      }
      start = parser.execute(buf, start);
      if (parser.state === ParserState.Failed) {
        this.parseFailed(parser.error!);
        return;
      }
    }
  }

  private holdBack(): void {
    if (this.held !== null && this.held.length > HOLD_LIMIT && !this.socket._paused) {
      this.socket._paused = true;
      this.socket.pause();
    }
  }

  /** Stop parsing and reporting: the owner answers (408) and closes. */
  giveUp(): void {
    this.givenUp = true;
    this.held = null;
    this.headSince = -1;
    this.idleSince = this.owner.tick;
  }

  /** giveUp() was called: the connection only waits to be closed. */
  get abandoned(): boolean {
    return this.givenUp;
  }

  private parseFailed(err: HttpParseError, peerGone = false): void {
    this.giveUp();
    // answered (400/431) and logged first: aborting the request destroys the socket
    this.owner.onParseError(err, this.socket);
    const req = this.req;
    if (req !== null) {
      // a body framing fault while the request runs: the request is aborted
      this.req = null;
      req.destroy(peerGone ? connReset() : Object.assign(new Error(`bad request body: ${err.message}`), { code: err.code }));
    }
  }

  // ---- parser sink ----

  onHead(method: string, url: string, versionMinor: number, rawHeaders: string[], flags: number): void {
    const socket = this.socket as Socket;
    const req = new IncomingMessage(socket) as IncomingMessage & NodeIncoming;
    req.httpVersionMajor = 1;
    req.httpVersionMinor = versionMinor;
    req.httpVersion = versionMinor === 1 ? '1.1' : '1.0';
    req.method = method;
    req.url = url;
    req._addHeaderLines(rawHeaders, rawHeaders.length);
    const res = new EngineResponse(req) as unknown as ServerResponse & NodeResponse;
    res.shouldKeepAlive = (flags & HeadFlags.KeepAlive) !== 0 && !this.peerDone;
    res._keepAliveTimeout = this.owner.keepAliveTimeoutMs;
    this.req = req;
    this.res = res;
    this.requests++;
    this.headSince = -1;
    res.assignSocket(socket);
    res.on('finish', onResponseFinish);
    if ((flags & (HeadFlags.ExpectContinue | HeadFlags.ExpectOther)) !== 0 && versionMinor === 1) {
      if ((flags & HeadFlags.ExpectOther) !== 0) {
        res.writeHead(417);
        res.end();
        return;
      }
      res._expect_continue = true;
      if (this.owner.onCheckContinue(req, res)) return;
      res.writeContinue();
    }
    this.owner.onRequest(req, res);
  }

  onBody(chunk: Buffer): void {
    const req = this.req;
    if (req === null || req._dumped) return;
    if (!req.push(this.lent ? Buffer.from(chunk) : chunk)) this.socket.pause();
  }

  onComplete(rawTrailers: string[]): void {
    let req = this.req;
    if (req === null) {
      // the response finished before the body did: the body was dropped, and the request
      // still ends ('end', then 'close'), as Node ends a dumped request
      req = this.dumped;
      if (req === null) return;
      this.dumped = null;
    }
    req.complete = true;
    if (rawTrailers.length > 0) req._addHeaderLines(rawTrailers, rawTrailers.length);
    req.push(null);
  }

  // ---- response ----

  responseDone(res: ServerResponse): void {
    if (res !== this.res) return;
    const req = this.req!;
    const r = res as ServerResponse & NodeResponse;
    // an unread body is pulled off the wire and dropped, as Node does
    if (!req._consuming && !req._readableState.resumeScheduled) dumpRequest(req);
    res.detachSocket(this.socket as Socket);
    process.nextTick(emitCloseNT, r);
    // body bytes still to come, if any, are dropped: onBody sees no request
    if (this.parser.state !== ParserState.Complete) this.dumped = req;
    this.res = null;
    this.req = null;
    // `_last` is what the response head told the client (Connection: close): a response whose
    // head promised keep-alive keeps the connection open even if shouldKeepAlive was turned
    // off later (a graceful stop does that), or the client's next request would meet a reset
    if (r._last || this.peerDone) {
      const sock = this.socket;
      if (typeof sock.destroySoon === 'function') sock.destroySoon();
      else sock.end();
      return;
    }
    this.idleSince = this.owner.tick;
    if (this.socket._paused) {
      this.socket._paused = false;
      this.socket.resume();
    }
    const held = this.held;
    if (held !== null) {
      this.held = null;
      this.parse(held);
    }
  }
}
