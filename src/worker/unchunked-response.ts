/**
 * Response framing rules Node's `ServerResponse` does not follow, applied to every
 * response a worker writes (the HTTP engine's, Node's engine's, the uwsgi socket's, and
 * Express's, which swaps in its own prototype but keeps Node's writer underneath):
 *
 * - **Never chunk-encode on an HTTP/1.0 request.** The uwsgi socket synthesizes an
 *   HTTP/1.0 request for every packet, so this also covers `--socket`. Node chunks a 1.0
 *   response when the app sets `Transfer-Encoding: chunked` itself, or when the request
 *   carries `TE: chunked` (nginx passes it as `HTTP_TE`). uWSGI sends the body raw and ends
 *   it by closing (or by the app's Content-Length): the header is dropped and the
 *   connection closes after the response.
 * - **204 and 304 carry no Transfer-Encoding** (Node drops their body, but keeps a
 *   `Transfer-Encoding: chunked` the app set, which tells the client a body follows).
 * - **Chunk framing is not body**: the request log's rsize counts body bytes only, so
 *   the framing Node writes around each chunk (and the last chunk with its trailers) is
 *   counted per response (`chunkFramingBytes`).
 *
 * Cost on the request path: `_storeHeader` gains one call and two comparisons per
 * response; `write()` and `end()` one call and one field read. Only a chunked response
 * gets a field of its own; nothing is allocated for the others.
 */
import { OutgoingMessage, ServerResponse, type IncomingMessage } from 'node:http';

/** Framing bytes written around a chunked response's body so far (absent: not chunked). */
const kFraming = Symbol('uwsgi-ts.chunkFraming');

// Node's own (underscore) fields read or set here, as Node's own writer does.
interface FramedResponse {
  _header: string | null;
  _hasBody: boolean;
  _last: boolean;
  _trailer: string;
  chunkedEncoding: boolean;
  shouldKeepAlive: boolean;
  finished: boolean;
  statusCode: number;
  req?: IncomingMessage;
  [kFraming]?: number;
}

type StoreHeader = (this: FramedResponse, firstLine: string, headers: unknown) => void;
type Write = (this: FramedResponse, chunk: unknown, encoding?: unknown, callback?: unknown) => boolean;
type End = (this: FramedResponse, chunk?: unknown, encoding?: unknown, callback?: unknown) => unknown;

const TE_LINE = /\r\nTransfer-Encoding:[^\r]*/i;
const CONTENT_LENGTH_LINE = /\r\nContent-Length:/i;
const KEEP_ALIVE_LINE = /\r\nKeep-Alive:[^\r]*/i;
const CONNECTION_KEEP_ALIVE = /\r\nConnection: *keep-alive(?=\r\n)/i;

/** The bytes of a non-empty body chunk (0 for anything Node would not write). */
function chunkBytes(chunk: unknown, encoding: unknown): number {
  if (typeof chunk === 'string') return chunk.length === 0 ? 0 : Buffer.byteLength(chunk, typeof encoding === 'string' ? encoding as BufferEncoding : 'utf8');
  if (chunk instanceof Uint8Array) return chunk.byteLength;
  return 0;
}

/** `<hex size>\r\n` before a chunk and `\r\n` after it. */
function chunkFraming(len: number): number {
  return len === 0 ? 0 : len.toString(16).length + 4;
}

/** Turn the stored head of a chunked HTTP/1.0 response into a raw one ended by close (or by the app's Content-Length). */
function unchunk(res: FramedResponse): void {
  let head = res._header!.replace(TE_LINE, '');
  res.chunkedEncoding = false;
  if (!CONTENT_LENGTH_LINE.test(head)) {
    // the body ends when the connection does: a head that promised keep-alive is corrected
    res._last = true;
    res.shouldKeepAlive = false;
    if (CONNECTION_KEEP_ALIVE.test(head)) head = head.replace(CONNECTION_KEEP_ALIVE, '\r\nConnection: close').replace(KEEP_ALIVE_LINE, '');
  }
  res._header = head;
}

let installed = false;

/** Apply the rules above to every `ServerResponse` of this thread (idempotent). */
export function installResponseFraming(): void {
  if (installed) return;
  installed = true;
  const proto = ServerResponse.prototype as unknown as { _storeHeader: StoreHeader; write: Write; end: End };
  const nodeStoreHeader = (OutgoingMessage.prototype as unknown as { _storeHeader: StoreHeader })._storeHeader;
  const nodeWrite = proto.write;
  const nodeEnd = proto.end;

  proto._storeHeader = function _storeHeader(this: FramedResponse, firstLine: string, headers: unknown): void {
    nodeStoreHeader.call(this, firstLine, headers);
    if (this.chunkedEncoding) {
      const req = this.req;
      if (req !== undefined && req.httpVersionMajor === 1 && req.httpVersionMinor === 0) unchunk(this);
      else this[kFraming] = 0;
    } else if ((this.statusCode === 204 || this.statusCode === 304) && this._header !== null && TE_LINE.test(this._header)) {
      this._header = this._header.replace(TE_LINE, '');
    }
  };

  proto.write = function write(this: FramedResponse, chunk: unknown, encoding?: unknown, callback?: unknown): boolean {
    const ret = nodeWrite.call(this, chunk, encoding, callback);
    // read after the call: the first write may be the one that stored a chunked head
    const framing = this[kFraming];
    if (framing !== undefined && this._hasBody) this[kFraming] = framing + chunkFraming(chunkBytes(chunk, typeof encoding === 'function' ? undefined : encoding));
    return ret;
  };

  proto.end = function end(this: FramedResponse, chunk?: unknown, encoding?: unknown, callback?: unknown): unknown {
    const wasFinished = this.finished;
    const ret = nodeEnd.call(this, chunk, encoding, callback);
    const framing = this[kFraming];
    if (framing !== undefined && !wasFinished && this.finished && this._hasBody && this.chunkedEncoding) {
      // `0\r\n` + trailers + `\r\n`, after the last chunk if end() was given one
      const last = typeof chunk === 'function' ? 0 : chunkFraming(chunkBytes(chunk, typeof encoding === 'function' ? undefined : encoding));
      this[kFraming] = framing + last + 5 + Buffer.byteLength(this._trailer ?? '', 'latin1');
    }
    return ret;
  };
}

/** Bytes of chunk framing a response wrote around its body (0 if it was not chunked). */
export function chunkFramingBytes(res: ServerResponse): number {
  return (res as unknown as FramedResponse)[kFraming] ?? 0;
}
