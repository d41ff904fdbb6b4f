/**
 * The worker's own HTTP/1.x server (`--http-engine uwsgi-ts`, the default): a
 * `net.Server` whose connections are driven by `HttpConnection` (own parser, Node's
 * request and response objects). It presents what the worker uses of `http.Server`:
 * the request handler, 'clientError' for malformed input, `closeAllConnections()`,
 * and 'connection' events for sockets accepted elsewhere (other listeners, proxy mode).
 *
 * Timeouts are enforced by one sweep per second over the open connections, not by a
 * timer per socket: a connection idle between requests for longer than the keep-alive
 * timeout is closed; one that takes longer than the headers timeout to send a request
 * head gets 408 and is closed; a request whose body stalls for the body timeout is
 * aborted and its connection closed.
 */
import net from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpConnection, type ConnectionOwner, type EngineSocket } from './http-connection.js';
import type { HttpParserOptions } from './http-parser.js';

export interface HttpEngineOptions {
  /** max bytes of a request head (and of trailers); --buffer-size */
  maxHeaderSize: number;
  /** max header lines per request; default 2000 */
  maxHeaders?: number;
  /** close a connection idle between requests for this long (ms); default 5000 */
  keepAliveTimeout?: number;
  /** answer 408 and close when a request head takes longer than this (ms); default 60000 */
  headersTimeout?: number;
  /** abort a request whose body sends nothing for this long (ms; --socket-timeout, as uWSGI's body reads); default 4000 */
  bodyTimeout?: number;
}

const SWEEP_MS = 1000;

export class HttpEngineServer extends net.Server implements ConnectionOwner {
  readonly parserOptions: HttpParserOptions;
  readonly keepAliveTimeoutMs: number;
  private readonly keepAliveTicks: number;
  private readonly headersTicks: number;
  private readonly bodyTicks: number;
  private readonly handler: (req: IncomingMessage, res: ServerResponse) => void;
  private readonly open = new Set<HttpConnection>();
  private sweeper: NodeJS.Timeout | null = null;
  tick = 0;

  constructor(opts: HttpEngineOptions, handler: (req: IncomingMessage, res: ServerResponse) => void) {
    super({ noDelay: true, allowHalfOpen: true });
    this.parserOptions = { maxHeaderSize: opts.maxHeaderSize, maxHeaders: opts.maxHeaders ?? 2000 };
    this.keepAliveTimeoutMs = opts.keepAliveTimeout ?? 5000;
    this.keepAliveTicks = Math.max(1, Math.ceil(this.keepAliveTimeoutMs / SWEEP_MS));
    this.headersTicks = Math.max(1, Math.ceil((opts.headersTimeout ?? 60000) / SWEEP_MS));
    this.bodyTicks = Math.max(1, Math.ceil((opts.bodyTimeout ?? 4000) / SWEEP_MS));
    this.handler = handler;
    this.on('connection', this.attach);
    this.on('close', this.stopSweeper);
  }

  /** Drive a socket accepted by this server or handed over by another listener. */
  private attach(socket: EngineSocket): void {
    this.open.add(new HttpConnection(socket, this));
    if (this.sweeper === null) {
      this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
      this.sweeper.unref();
    }
  }

  private stopSweeper(): void {
    if (this.sweeper !== null) clearInterval(this.sweeper);
    this.sweeper = null;
  }

  private sweep(): void {
    const now = ++this.tick;
    for (const conn of this.open) {
      if (conn.abandoned) {
        // answered and ended after a fault: a peer that does not close within 2 s is cut off
        if (now - conn.idleSince > 2) conn.socket.destroy();
      } else if (conn.bodyWait !== null) {
        // the stall clock runs only while the engine waits for the peer's bytes
        if (conn.bodyWait === 'app') conn.lastData = now;
        else if (now - conn.lastData > this.bodyTicks) {
          conn.giveUp();
          const err = Object.assign(new Error(`no request body bytes for ${this.bodyTicks} s`), { code: 'ETIMEDOUT' });
          this.onParseError(err, conn.socket);
          conn.abortRequest(err);
        }
      } else if (conn.receivingHead) {
        if (conn.headSince >= 0 && now - conn.headSince > this.headersTicks) {
          conn.giveUp();
          const err = Object.assign(new Error(`request head not complete after ${this.headersTicks} s`), { code: 'ERR_HTTP_REQUEST_TIMEOUT' });
          this.onParseError(err, conn.socket);
        }
      } else if (conn.idle && conn.requests > 0 && now - conn.idleSince > this.keepAliveTicks) {
        conn.socket.destroy();
      } else if (conn.idle && conn.requests === 0 && now - conn.idleSince > this.headersTicks) {
        // connected, never sent a byte
        conn.socket.destroy();
      }
    }
  }

  // ---- ConnectionOwner ----

  onRequest(req: IncomingMessage, res: ServerResponse): void {
    this.handler(req, res);
  }

  /** A malformed request (HttpParseError) or a head that timed out (code ERR_HTTP_REQUEST_TIMEOUT, as Node names it). */
  onParseError(err: Error & { code: string }, socket: EngineSocket): void {
    if (this.listenerCount('clientError') > 0) this.emit('clientError', err, socket);
    else socket.destroy();
  }

  onCheckContinue(req: IncomingMessage, res: ServerResponse): boolean {
    if (this.listenerCount('checkContinue') === 0) return false;
    this.emit('checkContinue', req, res);
    return true;
  }

  onSocketTimeout(socket: EngineSocket): boolean {
    return this.emit('timeout', socket);
  }

  onClose(conn: HttpConnection): void {
    this.open.delete(conn);
  }

  /** Destroy every connection now (the end of a graceful stop's mercy). */
  closeAllConnections(): void {
    for (const conn of this.open) conn.socket.destroy();
  }
}
