/**
 * A uwsgi-protocol connection presented to Node's `http.Server` as if it were an
 * HTTP/1.0 socket.
 *
 * Reading: the real socket's bytes go through `UwsgiPacketParser`; once the packet is
 * complete the adapter pushes a synthesized HTTP/1.0 request head (from the vars), then
 * exactly CONTENT_LENGTH body bytes. HTTP/1.0 makes Node answer without chunked encoding
 * and end the connection after the response: nginx's `uwsgi_pass` reads a raw HTTP
 * response until EOF. Nothing else is ever pushed (bytes after the body are dropped,
 * except after an upgrade, where the connection becomes a tunnel).
 *
 * Writing: Node's response bytes go straight to the real socket; corked writes (head +
 * first body chunk) leave as ONE `writev` on the real socket (spec protocol.md §10).
 * By default the response looks like uWSGI's: status line protocol = SERVER_PROTOCOL
 * (HTTP/1.0 when absent), no `Date`, no `Connection` header.
 *
 * Protocol faults: report through `onProtocolError`, write nothing, close.
 */
import type net from 'node:net';
import http, { type ServerResponse } from 'node:http';
import { Duplex, finished } from 'node:stream';
import { UwsgiError } from '../shared/errors.js';
import {
  UwsgiPacketParser, UwsgiPacketError, ParserState, encodePong, resolveParserOptions,
  type UwsgiParserOptions, type UwsgiRequestPacket, type UwsgiVars,
} from '../shared/uwsgi-packet.js';

export interface UwsgiSocketOptions extends UwsgiParserOptions {
  /** idle timeout in MILLISECONDS while receiving the packet and the body (`--socket-timeout` × 1000); default 4000 */
  socketTimeout?: number;
  /**
   * Make Node's response look like uWSGI's (default true): status line protocol taken
   * from SERVER_PROTOCOL (`HTTP/1.0` if absent), no implicit `Date` and `Connection`.
   * false = leave Node's `HTTP/1.1 …`, `Date:` and `Connection: close` as they are.
   */
  uwsgiResponse?: boolean;
  /** bytes sent after the ping reply header (uWSGI's shared warning message); default none */
  pingWarning?: string;
  /** a malformed packet, unknown modifier, mid-packet close or stall: one log line */
  onProtocolError(peer: string, err: UwsgiError): void;
  /** the peer closed or stalled while sending the body (`[uwsgi-body-read] …` line) */
  onBodyReadError?(peer: string, err: UwsgiError): void;
  /** a ping was answered (uWSGI logs `PING`) */
  onPing?(peer: string): void;
}

/** What the request log line needs about the packet (logging.md §2). */
export interface UwsgiRequestStats {
  /** `{N vars …}`: var slots as uWSGI counts them, 2 per key/value pair */
  vars: number;
  /** `{… in N bytes}`: the packet's datasize */
  pktsize: number;
  /** SERVER_PROTOCOL var, '' if absent */
  serverProtocol: string;
  modifier1: number;
  modifier2: number;
  contentLength: number;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// header value: no CTL except HTAB (CR, LF, NUL would let a var smuggle headers or requests)
const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;
const STATUS_PROTO = /^HTTP\/\d\.\d$/;
// request-target bytes Node's parser rejects (CTL, space, non-ASCII): percent-encode them
const BAD_URI_CHARS = /[\x00-\x20\x7f-\xff]/g;

/** `HTTP_USER_AGENT` → `User-Agent` */
function headerName(key: string): string {
  let out = '';
  let upper = true;
  for (let i = 5; i < key.length; i++) {
    const c = key[i]!;
    if (c === '_') {
      out += '-';
      upper = true;
    } else {
      out += upper ? c.toUpperCase() : c.toLowerCase();
      upper = false;
    }
  }
  return out;
}

function hasToken(list: string, token: string): boolean {
  for (const part of list.split(',')) if (part.trim().toLowerCase() === token) return true;
  return false;
}

interface BuiltHead {
  head: string;
  upgrade: boolean;
  /** the request's own method and target when the head carries stand-ins (see standInNeeded) */
  method?: string;
  target?: string;
}

/** Methods Node's parser reads as an ordinary request (CONNECT it hands over as a tunnel). */
const NODE_METHODS = new Set(http.METHODS.filter((m) => m !== 'CONNECT'));

/**
 * Node's parser knows a fixed list of methods, treats CONNECT as a tunnel, and takes only
 * some target forms (an authority-form one only with CONNECT). uWSGI passes any
 * REQUEST_METHOD and REQUEST_URI to the app: such a request is parsed with target `/`
 * (and method GET if Node does not know its own) and gets its own method and target back
 * before the app sees it.
 */
function standInNeeded(method: string, uri: string): boolean {
  return !NODE_METHODS.has(method) || uri.charCodeAt(0) !== 47 /* / */;
}

/**
 * Synthesize the HTTP/1.0 request head Node's parser will read. Returns an error
 * message when a var cannot be expressed safely as HTTP.
 */
export function buildRequestHead(p: UwsgiRequestPacket): BuiltHead | string {
  const v = p.vars;
  const method = v.get('REQUEST_METHOD') || 'GET';
  if (!TOKEN.test(method)) return `invalid REQUEST_METHOD ${JSON.stringify(method)}. skip.`;
  let uri = v.get('REQUEST_URI');
  if (!uri) {
    const path = v.get('PATH_INFO') || '/';
    const qs = v.get('QUERY_STRING');
    uri = qs ? `${path}?${qs}` : path;
  }
  uri = uri.replace(BAD_URI_CHARS, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'));
  const standIn = standInNeeded(method, uri);
  // a method Node knows is kept (HEAD keeps its bodiless response); only the target stands in
  let head = standIn ? `${NODE_METHODS.has(method) ? method : 'GET'} / HTTP/1.0\r\n` : `${method} ${uri} HTTP/1.0\r\n`;
  let hasHost = false;
  let upgrade = false;
  const contentType = v.indexOf('CONTENT_TYPE');
  for (let i = 0; i < v.length; i++) {
    const key = v.key(i);
    if (key.length <= 5 || !key.startsWith('HTTP_')) continue;
    let name: string;
    switch (key) {
      // framing comes from CONTENT_LENGTH only; hop-by-hop headers would make Node keep
      // the connection or re-frame the body
      case 'HTTP_CONTENT_LENGTH': case 'HTTP_TRANSFER_ENCODING': case 'HTTP_CONNECTION':
        continue;
      case 'HTTP_CONTENT_TYPE':
        if (contentType >= 0) continue;
        name = 'Content-Type';
        break;
      case 'HTTP_HOST':
        hasHost = true;
        name = 'Host';
        break;
      default:
        name = headerName(key);
    }
    const value = v.value(i);
    if (!TOKEN.test(name)) return `invalid header var ${key}: not an HTTP token. skip.`;
    if (BAD_VALUE.test(value)) return `invalid header var ${key}: control character in value. skip.`;
    head += `${name}: ${value}\r\n`;
  }
  const conn = v.get('HTTP_CONNECTION');
  if (conn !== undefined && v.has('HTTP_UPGRADE') && hasToken(conn, 'upgrade')) {
    upgrade = true;
    head += 'Connection: Upgrade\r\n';
  }
  if (!hasHost) {
    const sn = v.get('SERVER_NAME');
    if (sn) {
      if (BAD_VALUE.test(sn)) return 'invalid SERVER_NAME: control character in value. skip.';
      head += `Host: ${sn}\r\n`;
    }
  }
  if (contentType >= 0) {
    const ct = v.value(contentType);
    if (BAD_VALUE.test(ct)) return 'invalid CONTENT_TYPE: control character in value. skip.';
    if (ct !== '') head += `Content-Type: ${ct}\r\n`;
  }
  if (p.contentLength > 0 || v.get('CONTENT_LENGTH')) head += `Content-Length: ${p.contentLength}\r\n`;
  return standIn ? { head: head + '\r\n', upgrade, method, target: uri } : { head: head + '\r\n', upgrade };
}

function peerName(socket: net.Socket): string {
  if (socket.remoteAddress === undefined) return 'unix socket peer';
  return socket.remoteFamily === 'IPv6' ? `[${socket.remoteAddress}]:${socket.remotePort}` : `${socket.remoteAddress}:${socket.remotePort}`;
}

type WriteCb = (error?: Error | null) => void;

/**
 * The adapter. Looks enough like a `net.Socket` for Node's http layer, Express and
 * Fastify (addresses, timeouts, no-delay, keep-alive, ref/unref, destroySoon).
 */
export class UwsgiConnection extends Duplex {
  readonly socket: net.Socket;
  /** the front end (nginx) that connected, for log lines */
  readonly peer: string;
  readonly connecting = false;
  readonly pending = false;
  timeout = 0;
  /** set by Node's http server */
  server: unknown = null;

  readonly #parser: UwsgiPacketParser;
  readonly #opts: UwsgiSocketOptions;
  readonly #socketTimeout: number;
  readonly #uwsgiResponse: boolean;
  #packet: UwsgiRequestPacket | undefined;
  #statusProto = 'HTTP/1.1';
  #upgrade = false;
  /** true while waiting for packet or body bytes (the --socket-timeout clock runs) */
  #reading = true;
  #pausedByUs = false;
  #firstWrite = true;
  #pinged = false;
  #readTimer: NodeJS.Timeout | undefined;
  #userTimer: NodeJS.Timeout | undefined;
  #httpMessage: ServerResponse | null = null;
  /** the method and target the head's stand-ins replaced, given back to the request */
  #method: string | undefined;
  #target: string | undefined;

  constructor(socket: net.Socket, opts: UwsgiSocketOptions) {
    super({ allowHalfOpen: true, decodeStrings: false, emitClose: true, autoDestroy: true });
    this.socket = socket;
    this.peer = peerName(socket);
    this.#opts = opts;
    const st = opts.socketTimeout ?? 4000;
    if (!Number.isFinite(st) || st < 0) {
      throw new UwsgiError('UWSGI_ERR_OPTION_VALUE', `socket-timeout must be >= 0 ms, got ${String(st)}`);
    }
    this.#socketTimeout = st;
    this.#uwsgiResponse = opts.uwsgiResponse ?? true;
    this.#parser = new UwsgiPacketParser({
      onRequest: (p) => this.#onRequest(p),
      onPing: () => this.#onPing(),
      onBody: (c) => this.#pushBody(c),
      onBodyEnd: () => this.#readingDone(),
      onError: (e) => this.#onPacketError(e),
      onExtra: (c) => {
        if (this.#upgrade) this.#pushBody(c);
      },
    }, resolveParserOptions(opts));
    // the peer's FIN must not end our writable side: the response still has to go out
    socket.allowHalfOpen = true;
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('error', this.#onSocketError);
    socket.on('close', this.#onSocketClose);
    this.#armRead();
  }

  // ------------------------------------------------------------------ uwsgi view

  /** the parsed packet, once complete */
  get uwsgiPacket(): UwsgiRequestPacket | undefined {
    return this.#packet;
  }

  /** the request vars in wire order with lookups (`req.socket.uwsgiVars.get('REMOTE_ADDR')`) */
  get uwsgiVars(): UwsgiVars | undefined {
    return this.#packet?.vars;
  }

  get uwsgiStats(): UwsgiRequestStats | undefined {
    const p = this.#packet;
    if (p === undefined) return undefined;
    return {
      vars: 2 * p.vars.length, pktsize: p.datasize, serverProtocol: p.vars.get('SERVER_PROTOCOL') ?? '',
      modifier1: p.modifier1, modifier2: p.modifier2, contentLength: p.contentLength,
    };
  }

  get parserState(): ParserState {
    return this.#parser.state;
  }

  // ------------------------------------------------------------------ net.Socket look-alike

  /** REMOTE_ADDR (first occurrence, like uWSGI) */
  get remoteAddress(): string | undefined {
    return this.#packet?.vars.getFirst('REMOTE_ADDR') || undefined;
  }

  get remotePort(): number | undefined {
    const p = this.#packet?.vars.get('REMOTE_PORT');
    const n = p === undefined ? NaN : Number(p);
    return Number.isInteger(n) ? n : undefined;
  }

  get remoteFamily(): string | undefined {
    const a = this.remoteAddress;
    return a === undefined ? undefined : a.includes(':') ? 'IPv6' : 'IPv4';
  }

  /** SERVER_ADDR if the front end sends it, else the real socket's local address */
  get localAddress(): string | undefined {
    return this.#packet?.vars.get('SERVER_ADDR') || this.socket.localAddress;
  }

  /** SERVER_PORT if sent, else the real socket's local port */
  get localPort(): number | undefined {
    const p = this.#packet?.vars.get('SERVER_PORT');
    const n = p === undefined ? NaN : Number(p);
    return Number.isInteger(n) ? n : this.socket.localPort;
  }

  /** HTTPS=on (or 1): the client talked TLS to the front end */
  get encrypted(): boolean {
    const h = this.#packet?.vars.get('HTTPS')?.toLowerCase();
    return h === 'on' || h === '1';
  }

  get bytesRead(): number {
    return this.socket.bytesRead;
  }

  get bytesWritten(): number {
    return this.socket.bytesWritten;
  }

  get readyState(): string {
    return this.socket.readyState;
  }

  address(): ReturnType<net.Socket['address']> {
    return this.socket.address();
  }

  setNoDelay(noDelay?: boolean): this {
    this.socket.setNoDelay(noDelay);
    return this;
  }

  setKeepAlive(enable?: boolean, initialDelay?: number): this {
    this.socket.setKeepAlive(enable, initialDelay);
    return this;
  }

  ref(): this {
    this.socket.ref();
    return this;
  }

  unref(): this {
    this.socket.unref();
    return this;
  }

  /** Idle timeout like net.Socket's: 'timeout' after `ms` without bytes in or out. */
  setTimeout(ms: number, callback?: () => void): this {
    this.timeout = ms;
    if (callback) {
      if (ms === 0) this.removeListener('timeout', callback);
      else this.once('timeout', callback);
    }
    if (this.#userTimer) clearTimeout(this.#userTimer);
    this.#userTimer = undefined;
    if (ms > 0 && !this.destroyed) {
      this.#userTimer = setTimeout(() => {
        this.#userTimer = undefined;
        this.emit('timeout');
      }, ms);
      this.#userTimer.unref();
    }
    return this;
  }

  destroySoon(): void {
    if (this.writable) this.end();
    if (this.writableFinished) this.destroy();
    else this.once('finish', () => this.destroy());
  }

  resetAndDestroy(): this {
    this.socket.resetAndDestroy();
    this.destroy();
    return this;
  }

  /**
   * Node's http server assigns the ServerResponse here before the 'request' event:
   * the hook drops the headers uWSGI would never add.
   */
  get _httpMessage(): ServerResponse | null {
    return this.#httpMessage;
  }

  set _httpMessage(res: ServerResponse | null) {
    this.#httpMessage = res;
    if (res !== null && this.#method !== undefined) {
      res.req.method = this.#method;
      res.req.url = this.#target!;
    }
    if (res !== null && this.#uwsgiResponse && !res.headersSent) {
      res.sendDate = false;
      // Node then adds no Connection header and still closes after the response
      res.removeHeader('connection');
    }
  }

  // ------------------------------------------------------------------ reading

  readonly #onData = (chunk: Buffer): void => {
    if (this.destroyed) return;
    if (this.#reading) this.#armRead();
    this.#touchUser();
    this.#parser.push(chunk);
  };

  #onRequest(p: UwsgiRequestPacket): void {
    this.#packet = p;
    const built = buildRequestHead(p);
    if (typeof built === 'string') {
      this.#parser.abort(new UwsgiPacketError('UWSGI_ERR_UWSGI_PACKET', built, {
        requestLog: true, datasize: p.datasize, varsParsed: p.vars.length, modifier1: p.modifier1, vars: p.vars,
      }));
      return;
    }
    const proto = p.vars.get('SERVER_PROTOCOL');
    this.#statusProto = proto === undefined ? 'HTTP/1.0' : STATUS_PROTO.test(proto) ? proto : 'HTTP/1.1';
    this.#upgrade = built.upgrade;
    this.#method = built.method;
    this.#target = built.target;
    this.push(built.head, 'latin1');
  }

  #pushBody(chunk: Buffer): void {
    if (this.destroyed) return;
    if (!this.push(chunk) && !this.#pausedByUs) {
      this.#pausedByUs = true;
      this.socket.pause();
      // waiting on the app, not on the peer: the --socket-timeout clock stops
      this.#stopRead();
    }
  }

  #readingDone(): void {
    this.#reading = false;
    this.#stopRead();
  }

  override _read(): void {
    if (this.#pausedByUs) {
      this.#pausedByUs = false;
      if (this.#reading) this.#armRead();
      this.socket.resume();
    }
  }

  #onPing(): void {
    this.#pinged = true;
    this.#readingDone();
    this.#opts.onPing?.(this.peer);
    this.socket.end(encodePong(this.#opts.pingWarning));
    this.destroy();
  }

  #onPacketError(err: UwsgiPacketError): void {
    this.#readingDone();
    this.#opts.onProtocolError(this.peer, err);
    this.socket.destroy();
    this.destroy();
  }

  #bodyReadError(what: 'closed' | 'timeout'): void {
    const cl = this.#parser.contentLength;
    const left = this.#parser.bodyLeft;
    const msg = what === 'closed'
      ? `[uwsgi-body-read] Error reading ${left} bytes. Content-Length: ${cl} consumed: ${cl - left} left: ${left} message: Client closed connection`
      : `[uwsgi-body-read] Timeout reading ${left} bytes. Content-Length: ${cl} consumed: ${cl - left} left: ${left}`;
    this.#readingDone();
    this.#opts.onBodyReadError?.(this.peer, new UwsgiError('UWSGI_ERR_BODY_READ', msg));
    // the request cannot complete: Node's IncomingMessage sees 'aborted'
    this.socket.destroy();
    this.destroy();
  }

  readonly #onEnd = (): void => {
    if (this.destroyed) return;
    switch (this.#parser.state) {
      case ParserState.HEADER:
      case ParserState.VARS: {
        const err = this.#parser.end();
        if (err) this.#onPacketError(err);
        else this.destroy(); // closed without sending a byte: nothing to report (spec §5 case 1)
        return;
      }
      case ParserState.BODY:
        this.#bodyReadError('closed');
        return;
      case ParserState.DONE:
        // a tunnel ends; a plain request keeps going (uWSGI never reads after the body)
        if (this.#upgrade) this.push(null);
        return;
      case ParserState.ERROR:
        return;
    }
  };

  readonly #onSocketError = (err: Error): void => {
    this.#readingDone();
    this.destroy(err);
  };

  readonly #onSocketClose = (): void => {
    if (!this.destroyed) this.destroy();
  };

  #armRead(): void {
    if (this.#socketTimeout === 0) return;
    if (this.#readTimer) {
      this.#readTimer.refresh();
      return;
    }
    this.#readTimer = setTimeout(this.#onReadTimeout, this.#socketTimeout);
    this.#readTimer.unref();
  }

  #stopRead(): void {
    if (this.#readTimer) clearTimeout(this.#readTimer);
    this.#readTimer = undefined;
  }

  readonly #onReadTimeout = (): void => {
    this.#readTimer = undefined;
    if (this.destroyed || !this.#reading) return;
    const s = this.#parser.state;
    if (s === ParserState.BODY) {
      this.#bodyReadError('timeout');
      return;
    }
    if (s === ParserState.HEADER || s === ParserState.VARS) {
      const missing = this.#parser.packetBytesMissing;
      this.#parser.abort(new UwsgiPacketError('UWSGI_ERR_UWSGI_PACKET',
        `uwsgi_proto_uwsgi_parser(): timeout after ${this.#socketTimeout} ms without data, ${this.#parser.bytesIn} bytes received, ${missing} more expected`,
        { requestLog: false }));
    }
  };

  #touchUser(): void {
    this.#userTimer?.refresh();
  }

  // ------------------------------------------------------------------ writing

  /** First bytes of the response: put SERVER_PROTOCOL in Node's `HTTP/1.1 ` status line. */
  #fixStatusLine(chunk: string | Buffer): string | Buffer {
    this.#firstWrite = false;
    if (!this.#uwsgiResponse || this.#statusProto === 'HTTP/1.1') return chunk;
    if (typeof chunk === 'string') {
      return chunk.startsWith('HTTP/1.1 ') ? this.#statusProto + chunk.slice(8) : chunk;
    }
    if (chunk.length >= 9 && chunk.toString('latin1', 0, 9) === 'HTTP/1.1 ') {
      return Buffer.concat([Buffer.from(this.#statusProto, 'latin1'), chunk.subarray(8)]);
    }
    return chunk;
  }

  override _write(chunk: string | Buffer, encoding: BufferEncoding, cb: WriteCb): void {
    if (this.#firstWrite) chunk = this.#fixStatusLine(chunk);
    this.#touchUser();
    if (typeof chunk === 'string') this.socket.write(chunk, encoding, cb);
    else this.socket.write(chunk, cb);
  }

  /** Corked writes (Node's head + first chunk) → one writev on the real socket. */
  override _writev(chunks: Array<{ chunk: string | Buffer; encoding: BufferEncoding }>, cb: WriteCb): void {
    this.#touchUser();
    const s = this.socket;
    s.cork();
    for (let i = 0; i < chunks.length; i++) {
      let { chunk } = chunks[i]!;
      if (this.#firstWrite) chunk = this.#fixStatusLine(chunk);
      const done = i === chunks.length - 1 ? cb : undefined;
      if (typeof chunk === 'string') s.write(chunk, chunks[i]!.encoding, done);
      else s.write(chunk, done);
    }
    s.uncork();
  }

  override _final(cb: WriteCb): void {
    const s = this.socket;
    if (s.destroyed || s.writableFinished) {
      cb();
      return;
    }
    s.end();
    // a premature close of the real socket already reached us through 'error'/'close'
    finished(s, { readable: false }, () => cb());
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.#reading = false;
    this.#stopRead();
    if (this.#userTimer) clearTimeout(this.#userTimer);
    this.#userTimer = undefined;
    const s = this.socket;
    if (this.#pinged && !s.destroyed && !s.writableFinished) {
      // let the pong leave, then close (uWSGI: write, close)
      finished(s, { readable: false }, () => s.destroy());
    } else {
      s.destroy();
    }
    cb(err);
  }
}

/**
 * Wrap a socket accepted on a `--socket` (uwsgi protocol) listener. Emit the result into
 * the worker's http.Server: `httpServer.emit('connection', wrapUwsgiSocket(sock, opts))`.
 */
export function wrapUwsgiSocket(socket: net.Socket, opts: UwsgiSocketOptions): UwsgiConnection {
  return new UwsgiConnection(socket, opts);
}
