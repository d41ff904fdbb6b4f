/**
 * HTTP/1.x request parser: an explicit state machine over the bytes of one connection.
 *
 * It parses ONE message per `execute()` run and stops when that message is complete,
 * returning how many bytes it consumed; the connection keeps the rest (a pipelined next
 * request) until its response is done, then calls `execute()` again. No closures, no
 * per-byte calls into user code: the head is parsed in one pass once its end is seen
 * (with sticky regular expressions, compiled to native code by V8), and body bytes are
 * handed on as slices of the socket's buffer (no copy).
 *
 * Strictness follows Node's llhttp where it matters for safety (request smuggling):
 * CRLF line ends, no whitespace before a header colon, no obsolete line folding, one
 * Content-Length, never Content-Length together with Transfer-Encoding. Any token is a
 * method (extension methods such as PROPFIND, PURGE or an app's own reach the app, as in
 * uWSGI; Node's llhttp knows a fixed list). An HTTP/1.1 request without Host is served, as uWSGI serves it. Where RFC 9112 requires a 400 that llhttp lets through
 * (Transfer-Encoding whose final coding is not `chunked`), it answers 400 too.
 *
 * Limits (each an option with a default): `maxHeaderSize` bounds the head (request line
 * + headers + the blank line) and the trailers; `maxHeaders` bounds the header count;
 * chunk-size lines (with extensions) are bounded by `maxChunkLine`.
 */

/** The parser's named states. */
export const ParserState = {
  /** waiting for the end of the head (request line + headers) */
  Head: 0,
  /** reading exactly `remaining` body bytes (Content-Length) */
  BodyLength: 1,
  /** reading a chunk-size line (hex size, optional extensions, CRLF) */
  ChunkSize: 2,
  /** reading `remaining` bytes of chunk data */
  ChunkData: 3,
  /** reading the CRLF after chunk data */
  ChunkDataEnd: 4,
  /** reading trailer lines after the last chunk, up to the blank line */
  Trailers: 5,
  /** the message is complete: nothing is consumed until `reset()` */
  Complete: 6,
  /** a fault was reported: nothing more is parsed */
  Failed: 7,
} as const;
export type ParserStateValue = (typeof ParserState)[keyof typeof ParserState];

/** Parse faults, named as Node's llhttp names them (so logs read the same on both engines). */
export type HttpParseErrorCode =
  | 'HPE_HEADER_OVERFLOW' | 'HPE_INVALID_METHOD' | 'HPE_INVALID_URL' | 'HPE_INVALID_VERSION'
  | 'HPE_INVALID_HEADER_TOKEN' | 'HPE_INVALID_CONTENT_LENGTH' | 'HPE_UNEXPECTED_CONTENT_LENGTH'
  | 'HPE_INVALID_TRANSFER_ENCODING' | 'HPE_INVALID_CHUNK_SIZE' | 'HPE_CHUNK_EXTENSIONS_OVERFLOW'
  | 'HPE_STRICT' | 'HPE_INVALID_EOF_STATE';

export class HttpParseError extends Error {
  readonly code: HttpParseErrorCode;
  /** HPE_HEADER_OVERFLOW: the head's size in bytes when its end was seen (-1: it never ended within the limit) */
  headSize = -1;
  constructor(code: HttpParseErrorCode, message: string) {
    super(message);
    this.code = code;
    this.name = 'HttpParseError';
  }
}

export interface HttpParserOptions {
  /** max bytes of the head (request line, headers, blank line) and of the trailers; default 16384 */
  maxHeaderSize?: number;
  /** max header lines; default 2000 (Node's default maxHeadersCount) */
  maxHeaders?: number;
  /** max bytes of one chunk-size line, extensions included; default 16384 (Node's limit) */
  maxChunkLine?: number;
}

/** Where a parsed message goes. Called synchronously from `execute()`. */
export interface HttpParserSink {
  /** The head is complete. `rawHeaders` is [name, value, name, value, …] as received; `flags` are HeadFlags bits. */
  onHead(method: string, url: string, versionMinor: number, rawHeaders: string[], flags: number): void;
  /** A slice of body bytes (a view into the buffer passed to execute: copy it to keep it past the call). */
  onBody(chunk: Buffer): void;
  /** The message is complete; trailers as [name, value, …] (empty when none). */
  onComplete(rawTrailers: string[]): void;
}

/** Bits of onHead's `flags`. */
export const HeadFlags = {
  /** the connection stays open after this request (HTTP/1.1 without `close`, HTTP/1.0 with `keep-alive`) */
  KeepAlive: 1,
  /** `Connection: upgrade` with an `Upgrade` header */
  Upgrade: 2,
  /** `Expect: 100-continue` */
  ExpectContinue: 4,
  /** an `Expect` header with anything else */
  ExpectOther: 8,
} as const;

const MAX_SAFE = Number.MAX_SAFE_INTEGER;
// request line: METHOD SP request-target SP HTTP/1.x CRLF (target: no CTL, SP or DEL; raw
// non-ASCII bytes, which uWSGI accepts and curl sends for a typed UTF-8 path, are
// percent-encoded so req.url stays ASCII)
// (the regular expression is the grammar; scanRequestLine() is the same as a loop, and the
// tests check that the two agree)
export const REQUEST_LINE = /([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([^\x00-\x20\x7f]+) HTTP\/1\.([01])\r\n/y;
const NON_ASCII = /[\x80-\xff]/g;
const HEX = '0123456789ABCDEF';
function percentEncode(c: string): string {
  const b = c.charCodeAt(0);
  return '%' + HEX[b >> 4]! + HEX[b & 15]!;
}
// header (and trailer) line: token ":" OWS value OWS CRLF (value: no CTL but HTAB, obs-text
// allowed). This regular expression is the grammar; scanHeaderLine() below is the same grammar
// as a loop (a regex exec per header line cost about 600 instructions), and the tests check
// that the two agree on generated lines.
export const HEADER_LINE = /([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*([^\x00-\x08\x0a-\x1f\x7f]*?)[ \t]*\r\n/y;

/** tchar (RFC 9110 §5.6.2) by latin1 code: 1 if it may appear in a header name or method */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TCHAR[c.charCodeAt(0)] = 1;

/** The index after the run of tchar that starts at `i` (`i` itself if there is none). */
function tokenEnd(text: string, i: number): number {
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c > 255 || TCHAR[c] === 0) break;
    i++;
  }
  return i;
}

/** What the last scanRequestLine() accepted (module state: no object per request). */
export let scannedMethod = '';
export let scannedTarget = '';
export let scannedMinor = 0;
/** the target has bytes >= 0x80 (they get percent-encoded) */
export let scannedNonAscii = false;

/** The request line at the start of `text`, as REQUEST_LINE matches it: the index after its CRLF, or -1. */
export function scanRequestLine(text: string): number {
  const n = text.length;
  let i = tokenEnd(text, 0);
  if (i === 0 || i >= n || text.charCodeAt(i) !== 32) return -1;
  const methodEnd = i++;
  const targetStart = i;
  let nonAscii = false;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c <= 32 || c === 127) break;
    if (c >= 128) nonAscii = true;
    i++;
  }
  // " HTTP/1.x\r\n"
  if (i === targetStart || i + 10 >= n) return -1;
  if (text.charCodeAt(i) !== 32 || !text.startsWith('HTTP/1.', i + 1)) return -1;
  const v = text.charCodeAt(i + 8);
  if ((v !== 48 && v !== 49) || text.charCodeAt(i + 9) !== 13 || text.charCodeAt(i + 10) !== 10) return -1;
  scannedMethod = text.slice(0, methodEnd);
  scannedTarget = text.slice(targetStart, i);
  scannedMinor = v - 48;
  scannedNonAscii = nonAscii;
  return i + 11;
}

/** The name and value of the last line scanHeaderLine() accepted (module state: no object per line). */
export let scannedName = '';
export let scannedValue = '';

/**
 * One header line of `text` from `pos`, as HEADER_LINE matches it: the index after its CRLF,
 * or -1 if the line is malformed (then nothing is set).
 */
export function scanHeaderLine(text: string, pos: number): number {
  const n = text.length;
  let i = tokenEnd(text, pos);
  if (i === pos || i >= n || text.charCodeAt(i) !== 58 /* : */) return -1;
  const nameEnd = i++;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9) break;
    i++;
  }
  const valueStart = i;
  let valueEnd = i; // past the last character that is not OWS
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 13) break;
    if ((c < 32 && c !== 9) || c === 127) return -1;
    i++;
    if (c !== 32 && c !== 9) valueEnd = i;
  }
  if (i + 1 >= n || text.charCodeAt(i + 1) !== 10) return -1;
  scannedName = text.slice(pos, nameEnd);
  scannedValue = text.slice(valueStart, valueEnd);
  return i + 2;
}
const CHUNK_LINE = /^([0-9A-Fa-f]{1,13})[ \t]*(?:;[^\x00-\x08\x0a-\x1f\x7f]*)?$/;
const DIGITS = /^[0-9]{1,16}$/;

/** Buffer's own latin1 decoder (on every Buffer, not in the typings): no argument juggling on the hot path. */
interface Latin1Slicer { latin1Slice(start: number, end: number): string }
function latin1(buf: Buffer, start: number, end: number): string {
  return (buf as unknown as Latin1Slicer).latin1Slice(start, end);
}

const CR = 13;
const LF = 10;
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');

/**
 * One connection's parser. Reuse it for every message on the connection: after
 * `onComplete`, call `reset()` before the next `execute()`.
 */
export class HttpRequestParser {
  state: ParserStateValue = ParserState.Head;
  /** the fault, once state is Failed */
  error: HttpParseError | null = null;
  private readonly sink: HttpParserSink;
  private readonly maxHeaderSize: number;
  private readonly maxHeaders: number;
  private readonly maxChunkLine: number;
  /** head or trailer bytes seen so far when they span several chunks ('' when not spanning) */
  private pending = '';
  /** bytes left in the body (BodyLength) or in the current chunk (ChunkData) */
  private remaining = 0;
  private trailers: string[] = [];

  constructor(sink: HttpParserSink, opts: HttpParserOptions = {}) {
    this.sink = sink;
    this.maxHeaderSize = opts.maxHeaderSize ?? 16384;
    this.maxHeaders = opts.maxHeaders ?? 2000;
    this.maxChunkLine = opts.maxChunkLine ?? 16384;
  }

  /** Ready for the next message (after Complete). */
  reset(): void {
    this.state = ParserState.Head;
    this.pending = '';
    this.remaining = 0;
    if (this.trailers.length > 0) this.trailers = [];
  }

  /** True when bytes of a message have been seen but the message is not complete. */
  get midMessage(): boolean {
    return (this.state !== ParserState.Head && this.state !== ParserState.Complete) || this.pending.length > 0;
  }

  /**
   * Parse from `buf[start]`. Returns the index of the first byte not consumed: either
   * `buf.length`, or the start of the next message once this one is complete. On a fault
   * the state becomes Failed and `error` is set (the return value is then meaningless).
   */
  execute(buf: Buffer, start = 0): number {
    let i = start;
    const end = buf.length;
    while (i < end) {
      switch (this.state) {
        case ParserState.Head:
          i = this.head(buf, i);
          break;
        case ParserState.BodyLength:
          i = this.bodyBytes(buf, i);
          if (this.remaining === 0) this.complete();
          break;
        case ParserState.ChunkSize:
          i = this.chunkSize(buf, i);
          break;
        case ParserState.ChunkData:
          i = this.bodyBytes(buf, i);
          if (this.remaining === 0) this.state = ParserState.ChunkDataEnd;
          break;
        case ParserState.ChunkDataEnd:
          i = this.chunkDataEnd(buf, i);
          break;
        case ParserState.Trailers:
          i = this.trailerBlock(buf, i);
          break;
        default:
          return i; // Complete or Failed: the caller decides
      }
    }
    return i;
  }

  /** The peer closed: a fault if a message was cut short. */
  finish(): HttpParseError | null {
    if (this.state === ParserState.Failed) return this.error;
    if (!this.midMessage) return null;
    this.fail('HPE_INVALID_EOF_STATE', 'connection closed in the middle of a request');
    return this.error;
  }

  // ---- states ----

  private head(buf: Buffer, i: number): number {
    const end = buf.length;
    // find the blank line ending the head (search from a little before `i` when the head spans chunks)
    let text: string;
    let consumedTo: number;
    if (this.pending.length === 0) {
      // skip empty lines before a request (RFC 9112 §2.2: at least one CRLF may precede it)
      while (i + 1 < end && buf[i] === CR && buf[i + 1] === LF) i += 2;
      if (i >= end) return end;
      if (buf[i] === CR) { // a lone CR at the very end: wait for the LF
        this.pending = '\r';
        return end;
      }
      // decoded first and searched as a string (no call into C++ for the search): at most
      // one head's worth, which for a lone request is exactly the head
      const limit = Math.min(end, i + this.maxHeaderSize + 4);
      const chunk = latin1(buf, i, limit);
      const at = chunk.indexOf('\r\n\r\n');
      if (at < 0) {
        if (end - i > this.maxHeaderSize) {
          const stop = buf.indexOf(HEAD_END, i); // only to report the head's size
          return stop < 0 ? this.overflow() : this.overflow(stop + 4 - i);
        }
        if (hasBareLf(buf, i, end, false)) return this.bareLf();
        this.pending = chunk;
        return end;
      }
      if (at + 4 > this.maxHeaderSize) return this.overflow(at + 4);
      text = at + 4 === chunk.length ? chunk : chunk.slice(0, at + 4);
      consumedTo = i + at + 4;
    } else {
      const prev = this.pending.length;
      const joined = this.pending + latin1(buf, i, Math.min(end, i + this.maxHeaderSize + 4 - prev));
      let from = 0;
      while (from + 1 < joined.length && joined.charCodeAt(from) === CR && joined.charCodeAt(from + 1) === LF) from += 2;
      const stop = joined.indexOf('\r\n\r\n', from);
      if (stop < 0) {
        if (joined.length - from > this.maxHeaderSize) return this.overflow();
        if (hasBareLf(buf, i, end, this.pending.charCodeAt(prev - 1) === CR)) return this.bareLf();
        this.pending = joined.slice(from);
        return end;
      }
      if (stop + 4 - from > this.maxHeaderSize) return this.overflow(stop + 4 - from);
      text = joined.slice(from, stop + 4);
      consumedTo = i + (stop + 4 - prev);
      this.pending = '';
    }
    return this.parseHead(text) ? consumedTo : end;
  }

  private parseHead(text: string): boolean {
    const lineEnd = scanRequestLine(text);
    if (lineEnd < 0) return this.badRequestLine(text);
    const method = scannedMethod;
    let url = scannedTarget;
    if (scannedNonAscii) {
      NON_ASCII.lastIndex = 0;
      url = url.replace(NON_ASCII, percentEncode);
    }
    const minor = scannedMinor;
    const raw: string[] = [];
    let pos = lineEnd;
    const last = text.length - 2; // the blank line's CRLF
    let contentLength = -1;
    let chunked = false;
    let hasTE = false;
    let connClose = false;
    let connKeepAlive = false;
    let connUpgrade = false;
    let hasUpgrade = false;
    let expect = 0;
    while (pos < last) {
      const next = scanHeaderLine(text, pos);
      if (next < 0) return this.badHeaderLine(text, pos);
      pos = next;
      if (raw.length >= this.maxHeaders * 2) {
        this.fail('HPE_HEADER_OVERFLOW', `more than ${this.maxHeaders} header lines`);
        return false;
      }
      const name = scannedName;
      const value = scannedValue;
      raw.push(name, value);
      // framing and connection headers (compare lengths first: most names are neither)
      switch (name.length) {
        case 6:
          if (name.toLowerCase() === 'expect') expect = value.toLowerCase() === '100-continue' ? HeadFlags.ExpectContinue : HeadFlags.ExpectOther;
          break;
        case 7:
          if (name.toLowerCase() === 'upgrade') hasUpgrade = true;
          break;
        case 10:
          if (name.toLowerCase() === 'connection') {
            const v = value.toLowerCase();
            if (v === 'close') connClose = true;
            else if (v === 'keep-alive') connKeepAlive = true;
            else {
              for (const tok of v.split(',')) {
                const t = tok.trim();
                if (t === 'close') connClose = true;
                else if (t === 'keep-alive') connKeepAlive = true;
                else if (t === 'upgrade') connUpgrade = true;
              }
            }
          }
          break;
        case 14:
          if (name.toLowerCase() === 'content-length') {
            if (contentLength >= 0) return this.refuse('HPE_UNEXPECTED_CONTENT_LENGTH', 'more than one Content-Length header');
            if (!DIGITS.test(value)) return this.refuse('HPE_INVALID_CONTENT_LENGTH', `invalid Content-Length ${JSON.stringify(value)}`);
            contentLength = Number(value);
            if (contentLength > MAX_SAFE) return this.refuse('HPE_INVALID_CONTENT_LENGTH', `Content-Length ${value} is too large`);
          }
          break;
        case 17:
          if (name.toLowerCase() === 'transfer-encoding') {
            hasTE = true;
            const codings = value.split(',');
            chunked = codings[codings.length - 1]!.trim().toLowerCase() === 'chunked';
          }
          break;
        default:
          break;
      }
    }
    if (pos !== last) return this.badHeaderLine(text, pos);
    if (hasTE) {
      if (contentLength >= 0) return this.refuse('HPE_UNEXPECTED_CONTENT_LENGTH', 'both Content-Length and Transfer-Encoding');
      if (!chunked) return this.refuse('HPE_INVALID_TRANSFER_ENCODING', 'Transfer-Encoding whose final coding is not "chunked"');
    }
    let flags = expect;
    if (minor === 1 ? !connClose : (connKeepAlive && !connClose)) flags |= HeadFlags.KeepAlive;
    if (hasUpgrade && connUpgrade) flags |= HeadFlags.Upgrade;
    if (hasTE) this.state = ParserState.ChunkSize;
    else if (contentLength > 0) {
      this.state = ParserState.BodyLength;
      this.remaining = contentLength;
    } else this.state = ParserState.Complete;
    this.sink.onHead(method, url, minor, raw, flags);
    if (this.state === ParserState.Complete) this.sink.onComplete(this.trailers);
    return true;
  }

  /** Hand on up to `remaining` body bytes from `i` (a view, no copy); returns the index after them. */
  private bodyBytes(buf: Buffer, i: number): number {
    const n = Math.min(this.remaining, buf.length - i);
    this.remaining -= n;
    this.sink.onBody(buf.subarray(i, i + n));
    return i + n;
  }

  private chunkSize(buf: Buffer, i: number): number {
    const end = buf.length;
    const lf = buf.indexOf(LF, i);
    if (lf < 0) {
      if (this.pending.length + (end - i) > this.maxChunkLine) return this.failAt('HPE_CHUNK_EXTENSIONS_OVERFLOW', `chunk-size line longer than ${this.maxChunkLine} bytes`);
      this.pending += latin1(buf, i, end);
      return end;
    }
    let line = this.pending + latin1(buf, i, lf);
    this.pending = '';
    if (line.length > this.maxChunkLine) return this.failAt('HPE_CHUNK_EXTENSIONS_OVERFLOW', `chunk-size line longer than ${this.maxChunkLine} bytes`);
    if (line.charCodeAt(line.length - 1) !== CR) return this.failAt('HPE_STRICT', 'chunk-size line not ended by CRLF');
    line = line.slice(0, -1);
    const m = CHUNK_LINE.exec(line);
    if (m === null) return this.failAt('HPE_INVALID_CHUNK_SIZE', `invalid chunk-size line ${JSON.stringify(line.slice(0, 64))}`);
    const size = parseInt(m[1]!, 16);
    if (size > MAX_SAFE) return this.failAt('HPE_INVALID_CHUNK_SIZE', `chunk size ${m[1]} is too large`);
    if (size === 0) this.state = ParserState.Trailers;
    else {
      this.remaining = size;
      this.state = ParserState.ChunkData;
    }
    return lf + 1;
  }

  private chunkDataEnd(buf: Buffer, i: number): number {
    // expects CRLF; `pending` holds a CR seen at the end of the previous chunk
    if (this.pending.length === 0) {
      if (buf[i] !== CR) return this.failAt('HPE_STRICT', 'chunk data not followed by CRLF');
      if (i + 1 >= buf.length) {
        this.pending = '\r';
        return buf.length;
      }
      i++;
    }
    this.pending = '';
    if (buf[i] !== LF) return this.failAt('HPE_STRICT', 'chunk data not followed by CRLF');
    this.state = ParserState.ChunkSize;
    return i + 1;
  }

  private trailerBlock(buf: Buffer, i: number): number {
    const end = buf.length;
    // the common case: no trailers, the last chunk is followed by a bare CRLF
    if (this.pending.length === 0 && i + 1 < end && buf[i] === CR && buf[i + 1] === LF) {
      this.complete();
      return i + 2;
    }
    const prev = this.pending.length;
    const joined = this.pending + latin1(buf, i, Math.min(end, i + this.maxHeaderSize + 4));
    if (joined.length >= 2 && joined.charCodeAt(0) === CR && joined.charCodeAt(1) === LF) {
      // a CR that ended the previous chunk, then this LF
      this.pending = '';
      this.complete();
      return i + 2 - prev;
    }
    const stop = joined.indexOf('\r\n\r\n');
    if (stop < 0) {
      if (joined.length > this.maxHeaderSize) return this.overflow();
      this.pending = joined;
      return end;
    }
    if (stop + 4 > this.maxHeaderSize) return this.overflow();
    const block = joined.slice(0, stop + 2);
    let pos = 0;
    while (pos < block.length) {
      const next = scanHeaderLine(block, pos);
      if (next < 0) return this.failAt('HPE_INVALID_HEADER_TOKEN', `invalid trailer line ${JSON.stringify(lineAt(block, pos))}`);
      pos = next;
      this.trailers.push(scannedName, scannedValue);
    }
    this.pending = '';
    this.complete();
    return i + (stop + 4 - prev);
  }

  // ---- outcomes ----

  private complete(): void {
    this.state = ParserState.Complete;
    this.sink.onComplete(this.trailers);
  }

  private fail(code: HttpParseErrorCode, message: string): true {
    this.state = ParserState.Failed;
    this.error = new HttpParseError(code, message);
    this.pending = '';
    return true;
  }

  /** A fault found while parsing the head: parseHead's `false`. */
  private refuse(code: HttpParseErrorCode, message: string): false {
    this.fail(code, message);
    return false;
  }

  private failAt(code: HttpParseErrorCode, message: string): number {
    this.fail(code, message);
    return Number.MAX_SAFE_INTEGER;
  }

  private bareLf(): number {
    return this.failAt('HPE_STRICT', 'request head line ended by LF without CR');
  }

  private overflow(size = -1): number {
    const n = this.failAt('HPE_HEADER_OVERFLOW', size < 0 ? `request head larger than ${this.maxHeaderSize} bytes` : `request head of ${size} bytes larger than ${this.maxHeaderSize}`);
    this.error!.headSize = size;
    return n;
  }

  private badRequestLine(text: string): false {
    const line = lineAt(text, 0);
    const sp = line.indexOf(' ');
    const method = sp < 0 ? line : line.slice(0, sp);
    if (sp < 0 || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(method)) this.fail('HPE_INVALID_METHOD', `invalid request line ${JSON.stringify(line.slice(0, 128))}`);
    else if (!/ HTTP\/1\.[01]$/.test(line)) this.fail('HPE_INVALID_VERSION', `invalid HTTP version in request line ${JSON.stringify(line.slice(0, 128))}`);
    else this.fail('HPE_INVALID_URL', `invalid request target in ${JSON.stringify(line.slice(0, 128))}`);
    return false;
  }

  private badHeaderLine(text: string, pos: number): false {
    this.fail('HPE_INVALID_HEADER_TOKEN', `invalid header line ${JSON.stringify(lineAt(text, pos).slice(0, 128))}`);
    return false;
  }
}

/** A LF in buf[from, end) not preceded by CR (`crBefore`: the byte before `from` was CR). */
function hasBareLf(buf: Buffer, from: number, end: number, crBefore: boolean): boolean {
  for (let lf = buf.indexOf(LF, from); lf >= 0 && lf < end; lf = buf.indexOf(LF, lf + 1)) {
    if (lf === from ? !crBefore : buf[lf - 1] !== CR) return true;
  }
  return false;
}

function lineAt(text: string, pos: number): string {
  const e = text.indexOf('\r\n', pos);
  return text.slice(pos, e < 0 ? text.length : e);
}
