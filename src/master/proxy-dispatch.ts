/**
 * Proxy accept mode, master side: accept on the master's own server and forward each
 * connection's bytes to one worker over that worker's proxy port. The master owns the
 * socket for its whole life, so no fd ever crosses threads (node-threads.md).
 */
import type net from 'node:net';
import type { MessagePort } from 'node:worker_threads';
import type { ProxyFrame } from '../shared/messages.js';
import { log } from '../shared/log-writer.js';

export interface ProxyTarget {
  readonly id: number;
  readonly port: MessagePort;
  readonly sockets: Map<number, net.Socket>;
  /** ms timestamp at which the worker's current request began, 0 when idle (scoreboard). */
  busySince(): number;
}

export class ProxyDispatcher {
  private nextCid = 1;
  private rr = 0;
  /** SIGTSTP: connections accepted meanwhile wait here, unread, as they would in the kernel's queue */
  private held: Array<[net.Socket, number]> | null = null;
  constructor(private readonly pick: () => ProxyTarget[]) {}

  attach(server: net.Server, listenerIndex: number): void {
    server.on('connection', (socket) => {
      if (this.held === null) this.dispatch(socket, listenerIndex);
      else {
        socket.pause();
        socket.on('error', onHeldError);
        this.held.push([socket, listenerIndex]);
      }
    });
  }

  /** Hold new connections (pause) or hand the held ones and the next ones to workers (resume). */
  setPaused(paused: boolean): void {
    if (paused) {
      this.held ??= [];
      return;
    }
    const held = this.held;
    this.held = null;
    for (const [socket, listener] of held ?? []) {
      socket.off('error', onHeldError);
      if (socket.destroyed) continue;
      this.dispatch(socket, listener);
      socket.resume();
    }
  }

  /** Stopping while paused: the held connections are closed, as the kernel's queue is on close. */
  dropHeld(): void {
    for (const [socket] of this.held ?? []) socket.destroy();
    if (this.held) this.held = [];
  }

  /** Wire a worker's proxy port: bytes the worker writes go back to the client. */
  bindTarget(t: ProxyTarget): void {
    t.port.on('message', (f: ProxyFrame) => {
      const s = t.sockets.get(f.cid);
      if (!s) return;
      if (f.t === 'data') s.write(f.data);
      else if (f.t === 'end') s.end();
      else if (f.t === 'close') {
        t.sockets.delete(f.cid);
        s.destroySoon();
      }
    });
  }

  /** A worker is gone: its connections cannot be finished by anyone else. */
  dropTarget(t: ProxyTarget): void {
    for (const s of t.sockets.values()) s.destroy();
    t.sockets.clear();
  }

  private dispatch(socket: net.Socket, listener: number): void {
    const targets = this.pick();
    if (targets.length === 0) {
      log.line(`[UWSGI_ERR_WORKER_CRASH] no worker accepting: closing connection from ${socket.remoteAddress}`);
      socket.destroy();
      return;
    }
    // Like a shared accept queue, where only a worker that is free calls accept():
    // the next idle worker in turn; when all are busy, the one whose request began most
    // recently (a worker stuck on a long request is the last choice).
    const start = this.rr++;
    let t = targets[start % targets.length];
    let newest = -1;
    for (let i = 0; i < targets.length; i++) {
      const c = targets[(start + i) % targets.length];
      const since = c.busySince();
      if (since === 0) {
        t = c;
        break;
      }
      if (since > newest) {
        newest = since;
        t = c;
      }
    }
    const cid = this.nextCid++;
    t.sockets.set(cid, socket);
    t.port.postMessage({
      t: 'open', cid, listener,
      remoteAddress: socket.remoteAddress ?? '', remotePort: socket.remotePort ?? 0,
      localAddress: socket.localAddress ?? '', localPort: socket.localPort ?? 0,
    } satisfies ProxyFrame);
    socket.on('data', (data) => t.port.postMessage({ t: 'data', cid, data } satisfies ProxyFrame));
    socket.on('end', () => t.port.postMessage({ t: 'end', cid } satisfies ProxyFrame));
    socket.on('error', () => { /* reported through 'close' below; the peer reset the connection */ });
    socket.on('close', (hadError) => {
      if (t.sockets.delete(cid)) t.port.postMessage({ t: 'close', cid, reset: hadError } satisfies ProxyFrame);
    });
  }
}

/** A held connection reset by its client: it is dropped when the pause ends (destroyed). */
function onHeldError(this: net.Socket): void {
  this.destroy();
}
