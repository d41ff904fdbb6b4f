/**
 * Proxy accept mode (no native addon, no SO_REUSEPORT): the master owns each accepted
 * connection and forwards its bytes over a MessagePort. On the worker side each
 * connection is a `ProxiedSocket`, a Duplex that looks enough like a `net.Socket` for
 * Node's HTTP layer. Slower than the other modes, but no fd ever crosses threads.
 */
import { Duplex } from 'node:stream';
import type { MessagePort } from 'node:worker_threads';
import type { ProxyFrame } from '../shared/messages.js';

export class ProxiedSocket extends Duplex {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteFamily: string;
  bytesWritten = 0;
  bytesRead = 0;
  private readonly port: MessagePort;
  private readonly cid: number;
  private closedByPeer = false;
  timeout = 0;
  /** the idle timer of setTimeout(), re-armed by bytes in either direction (as net.Socket's) */
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(port: MessagePort, open: Extract<ProxyFrame, { t: 'open' }>) {
    super({ allowHalfOpen: true });
    this.port = port;
    this.cid = open.cid;
    this.remoteAddress = open.remoteAddress;
    this.remotePort = open.remotePort;
    this.localAddress = open.localAddress;
    this.localPort = open.localPort;
    this.remoteFamily = open.remoteAddress.includes(':') ? 'IPv6' : 'IPv4';
  }

  /** Bytes from the client, forwarded by the master. */
  feed(data: Uint8Array): void {
    this.idleTimer?.refresh();
    this.bytesRead += data.length;
    this.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  }

  peerEnded(): void {
    this.push(null);
  }

  peerClosed(reset = false): void {
    this.closedByPeer = true;
    if (reset) this.destroy(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', errno: -104, syscall: 'read' }));
    else this.destroy();
  }

  override _read(): void {
    // Flow control is the master's: bytes arrive as the client sends them.
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    this.idleTimer?.refresh();
    this.bytesWritten += chunk.length;
    this.port.postMessage({ t: 'data', cid: this.cid, data: chunk } satisfies ProxyFrame);
    cb();
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (e?: Error | null) => void): void {
    const data = chunks.length === 1 ? chunks[0].chunk : Buffer.concat(chunks.map((c) => c.chunk));
    this.idleTimer?.refresh();
    this.bytesWritten += data.length;
    this.port.postMessage({ t: 'data', cid: this.cid, data } satisfies ProxyFrame);
    cb();
  }

  override _final(cb: (e?: Error | null) => void): void {
    this.port.postMessage({ t: 'end', cid: this.cid } satisfies ProxyFrame);
    cb();
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    this.clearIdleTimer();
    if (!this.closedByPeer) this.port.postMessage({ t: 'close', cid: this.cid } satisfies ProxyFrame);
    cb(err);
  }

  /** net.Socket's idle timeout: 'timeout' after `ms` without bytes in either direction (0: off). */
  setTimeout(ms: number, cb?: () => void): this {
    this.timeout = ms;
    this.clearIdleTimer();
    if (ms > 0 && !this.destroyed) {
      this.idleTimer = setTimeout(() => this.emit('timeout'), ms);
      this.idleTimer.unref();
      if (cb) this.once('timeout', cb);
    } else if (cb) {
      this.removeListener('timeout', cb);
    }
    return this;
  }

  private clearIdleTimer(): void {
    if (this.idleTimer !== null) {
      clearTimeout(this.idleTimer);
      this.idleTimer = null;
    }
  }
  setNoDelay(): this { return this; }
  setKeepAlive(): this { return this; }
  ref(): this { return this; }
  unref(): this { return this; }
  address(): { address: string; port: number; family: string } {
    return { address: this.localAddress, port: this.localPort, family: this.remoteFamily };
  }
}

/** Route the master's proxy frames to per-connection sockets, handing each new one to `sink`. */
export function attachProxyPort(port: MessagePort, sinkFor: (listener: number) => (socket: ProxiedSocket) => void): Map<number, ProxiedSocket> {
  const live = new Map<number, ProxiedSocket>();
  port.on('message', (f: ProxyFrame) => {
    switch (f.t) {
      case 'open': {
        const s = new ProxiedSocket(port, f);
        live.set(f.cid, s);
        s.once('close', () => live.delete(f.cid));
        sinkFor(f.listener)(s);
        break;
      }
      case 'data': live.get(f.cid)?.feed(f.data); break;
      case 'end': live.get(f.cid)?.peerEnded(); break;
      case 'close': live.get(f.cid)?.peerClosed(f.reset); break;
    }
  });
  return live;
}
