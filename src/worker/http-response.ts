/**
 * The HTTP engine's response: Node's own `http.ServerResponse`, with one fast path in
 * `end()`.
 *
 * Node's `end(body)` corks the socket, queues the head and body, queues an empty chunk
 * that carries the 'finish' callback, then uncorks, which hands both chunks to a
 * `writev`. That is about 9k instructions of a 52k keep-alive hello request (Node 20;
 * measured with callgrind). When the whole response is this one call, the same bytes
 * can leave through one plain socket write that carries the 'finish' callback itself.
 *
 * The fast path is taken only when nothing could tell the difference:
 *   - the head has not been sent (it may have been stored by `writeHead()`), the body is
 *     not chunked, `strictContentLength` is off;
 *   - the body is a string in utf8 (or no encoding), a Buffer, or nothing;
 *   - no end callback (Node queues it in a version-specific way);
 *   - the socket is attached to this response, writable, not corked, with nothing queued
 *     on it or on the response.
 * Anything else goes to Node's `end()` unchanged. The bytes written are exactly Node's:
 * head + string body as one utf8 string (Node concatenates them too), a head with a
 * Buffer body or no body in latin1 (Node writes the head in latin1 then). The events are
 * Node's too: 'prefinish' at once, 'finish' from the write's callback.
 *
 * Express replaces the response's prototype with its own (inheriting from
 * `http.ServerResponse.prototype`), so Express responses take Node's `end()`; Fastify,
 * plain handlers and the fetch adapter take this one.
 */
import { ServerResponse, IncomingMessage } from 'node:http';
import { Socket } from 'node:net';

/** A Buffer body up to this size goes out in the head's write (copied once as latin1); a bigger one is a second chunk. */
const INLINE_BUFFER_MAX = 4096;

// Node's own fields this module reads or sets, as Node's end() does.
interface NodeOutgoing {
  _header: string | null;
  _headerSent: boolean;
  _hasBody: boolean;
  _contentLength: number | null;
  _implicitHeader(): void;
  _finish(): void;
  chunkedEncoding: boolean;
  strictContentLength?: boolean;
  finished: boolean;
  outputData: unknown[];
}
interface NodeSocketState {
  _httpMessage?: unknown;
  _hadError?: boolean;
  errored?: Error | null;
  writable: boolean;
  destroyed: boolean;
  writableLength: number;
  writableCorked: number;
  write(data: string | Buffer, encoding: BufferEncoding, cb: (err?: Error | null) => void): boolean;
  write(data: string | Buffer, cb: (err?: Error | null) => void): boolean;
  cork(): void;
  uncork(): void;
}

/** Node's `end()` as installed at call time (unchunked-response.ts wraps it after this module loads). */
function nodeEnd(res: ServerResponse, chunk: unknown, encoding: unknown, callback: unknown): ServerResponse {
  return (ServerResponse.prototype.end as (this: ServerResponse, ...args: unknown[]) => ServerResponse).call(res, chunk, encoding, callback);
}

/** The symbol-keyed fields of a Node response, from one probe made at load. */
const probeSymbols = Object.getOwnPropertySymbols(new ServerResponse(new IncomingMessage(new Socket())));

/** The field Node keys with `Symbol(name)` on every response (kNeedDrain, kOutHeaders, …); undefined if this Node version has none. */
export function nodeResponseSymbol(name: string): symbol | undefined {
  return probeSymbols.find((s) => s.description === name);
}

/**
 * How this Node version tells that a response finished. Node 20 and 22 compute
 * `writableFinished` from the buffers; Node 24 keeps it in a `kWritableFinished` field that
 * its own onFinish() sets, and remembers a failed flush in `kFlushError`. The symbols are
 * found on a probe response (as Node names them); a version whose getter reads a field
 * this module cannot find gets no fast path at all.
 */
const finishFields = ((): { ok: boolean; kWritableFinished?: symbol; kFlushError?: symbol } => {
  let proto: object | null = ServerResponse.prototype;
  let getter: (() => unknown) | undefined;
  while (proto !== null && getter === undefined) {
    getter = Object.getOwnPropertyDescriptor(proto, 'writableFinished')?.get;
    proto = Object.getPrototypeOf(proto) as object | null;
  }
  const source = getter === undefined ? '' : Function.prototype.toString.call(getter);
  if (source.includes('kWritableFinished')) {
    const kWritableFinished = nodeResponseSymbol('kWritableFinished');
    return { ok: kWritableFinished !== undefined, kWritableFinished, kFlushError: nodeResponseSymbol('kFlushError') };
  }
  return { ok: source.includes('outputSize') };
})();

/**
 * Node keeps a response's headers in a null-prototype object literal (`kOutHeaders`), which
 * V8 makes a dictionary-mode object: the keyed store in Node's `setHeader()` then misses its
 * inline cache on every call (a runtime call, 2-4k instructions per header). The same
 * object made fast-mode (`Object.setPrototypeOf({}, null)`: null prototype, hidden-class
 * transitions the cache can follow) behaves identically for Node's code, which only stores,
 * reads, deletes and enumerates string keys on it.
 */
const kOutHeaders = nodeResponseSymbol('kOutHeaders');

/** Whether end() can take the fast path on this Node version (exported for the docs' claim and the tests). */
export const endFastPathAvailable = finishFields.ok;

/**
 * Node's onFinish(): once the bytes are handed to the kernel, 'finish' (and, on Node 24,
 * writableFinished), unless the write failed or the socket did (then no 'finish', and Node
 * 24 remembers the failure for a later end(callback)).
 */
function emitFinish(res: EngineResponse, err?: Error | null): void {
  const sock = res.socket as unknown as NodeSocketState | null;
  const fields = res as unknown as Record<symbol, unknown>;
  if (err != null || (sock !== null && (sock._hadError === true || sock.errored != null))) {
    if (finishFields.kFlushError !== undefined) {
      fields[finishFields.kFlushError] = err ?? Object.assign(new Error('the socket failed before the response was flushed'), { code: 'ERR_STREAM_DESTROYED' });
    }
    return;
  }
  if (finishFields.kWritableFinished !== undefined) fields[finishFields.kWritableFinished] = true;
  res.emit('finish');
}

export class EngineResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> {
  // the first header creates Node's header map, fast-mode (see kOutHeaders); writeHead(obj)
  // without setHeader() keeps Node's own path (a null map)
  override setHeader(name: string, value: number | string | readonly string[]): this {
    if (kOutHeaders !== undefined) {
      const fields = this as unknown as Record<symbol, unknown>;
      if (fields[kOutHeaders] === null && !this.headersSent && (this as unknown as NodeOutgoing)._header === null) fields[kOutHeaders] = Object.setPrototypeOf({}, null);
    }
    return super.setHeader(name, value);
  }

  // `end` is overloaded in Node's types; one implementation signature serves them all
  override end(chunk?: unknown, encoding?: unknown, callback?: unknown): this {
    const out = this as unknown as NodeOutgoing;
    const sock = this.socket as unknown as NodeSocketState | null;
    const isString = typeof chunk === 'string';
    if (
      !finishFields.ok ||
      (!isString && chunk != null && !Buffer.isBuffer(chunk)) ||
      (encoding != null && encoding !== 'utf8' && encoding !== 'utf-8') ||
      callback != null ||
      out.finished || out._headerSent ||
      sock === null || sock._httpMessage !== this || !sock.writable || sock.destroyed ||
      sock.writableLength !== 0 || sock.writableCorked !== 0 || out.outputData.length !== 0
    ) {
      return nodeEnd(this, chunk, encoding, callback) as this;
    }
    if (out._header === null) {
      out._contentLength = chunk == null ? 0 : isString ? Buffer.byteLength(chunk as string) : (chunk as Buffer).length;
      out._implicitHeader();
    }
    // the head is stored now: a chunked or strict one is Node's to finish
    if (out.chunkedEncoding || out.strictContentLength === true) return nodeEnd(this, chunk, encoding, callback) as this;
    const head = out._header as string;
    const finish = emitFinish.bind(undefined, this);
    out._headerSent = true;
    if (!out._hasBody || chunk == null || (chunk as string | Buffer).length === 0) {
      sock.write(head, 'latin1', finish);
    } else if (isString) {
      sock.write(head + (chunk as string), finish);
    } else if ((chunk as Buffer).length <= INLINE_BUFFER_MAX) {
      sock.write(head + (chunk as Buffer).toString('latin1'), 'latin1', finish);
    } else {
      sock.cork();
      sock.write(head, 'latin1', noop);
      sock.write(chunk as Buffer, finish);
      sock.uncork();
    }
    out.finished = true;
    out._finish();
    return this;
  }
}

function noop(): void {}
