/**
 * The uwsgi binary protocol: a streaming request parser and the packet encoder.
 *
 * Pure module (no sockets, no streams): bytes go in through `UwsgiPacketParser.push()`,
 * results come out through the handler callbacks. Acceptance rules follow uWSGI
 * (`proto/uwsgi.c`, `core/protocol.c`): see docs/uwsgi-protocol.md and
 * /work/shared/spec/protocol.md §3–§5.
 */
import { UwsgiError, type UwsgiErrorCode } from './errors.js';

/** Largest value a u16 length can carry: the hard cap of datasize, key and value lengths. */
export const UWSGI_MAX_DATASIZE = 65535;
export const UWSGI_HEADER_SIZE = 4;
export const MODIFIER_PING = 100;
/** Reply to a ping: modifier1 100, datasize 0, modifier2 1. */
export const PONG_PACKET: Buffer = Buffer.from([0x64, 0x00, 0x00, 0x01]);

/** Parser states; a parser only ever moves forward through them. */
export const ParserState = {
  /** waiting for the 4-byte header */
  HEADER: 'HEADER',
  /** header seen, collecting `datasize` bytes of vars */
  VARS: 'VARS',
  /** vars parsed, streaming CONTENT_LENGTH body bytes */
  BODY: 'BODY',
  /** packet (and body) complete; further bytes go to `onExtra` */
  DONE: 'DONE',
  /** a fault was reported; further bytes are ignored */
  ERROR: 'ERROR',
} as const;
export type ParserState = (typeof ParserState)[keyof typeof ParserState];

export interface UwsgiParserOptions {
  /** max datasize accepted (`--buffer-size`), default 4096, clamped to 65535 */
  bufferSize?: number;
  /** `--max-vars`, default 64: at most 2·maxVars key/value pairs */
  maxVars?: number;
  /** `--limit-post` in bytes, default 0 = unlimited */
  limitPost?: number;
  /** modifier1 values served as HTTP-style requests, default [0] */
  modifiers?: readonly number[];
  /** answer modifier1 100 (ping), default true */
  ping?: boolean;
}

export interface ResolvedParserOptions {
  bufferSize: number;
  maxVars: number;
  limitPost: number;
  modifiers: readonly number[];
  ping: boolean;
}

/**
 * Why the request failed and what uWSGI would log about it. `requestLog` tells whether
 * uWSGI still writes the per-request log line (spec §5 table), with `logStatus`,
 * `datasize` and `varsParsed` (pairs) for its `{N vars in M bytes}` part, and `vars`
 * (the pairs parsed before the fault) for its address, method, URI and protocol.
 */
export class UwsgiPacketError extends UwsgiError {
  readonly requestLog: boolean;
  readonly logStatus: number;
  readonly datasize: number;
  readonly varsParsed: number;
  readonly modifier1: number;
  readonly vars: UwsgiVars | undefined;
  constructor(code: UwsgiErrorCode, message: string, info: {
    requestLog: boolean; logStatus?: number; datasize?: number; varsParsed?: number; modifier1?: number; vars?: UwsgiVars;
  }) {
    super(code, message);
    this.name = 'UwsgiPacketError';
    this.requestLog = info.requestLog;
    this.logStatus = info.logStatus ?? 500;
    this.datasize = info.datasize ?? 0;
    this.varsParsed = info.varsParsed ?? 0;
    this.modifier1 = info.modifier1 ?? -1;
    this.vars = info.vars;
  }
}

function intOption(name: string, value: number | undefined, dflt: number, min: number): number {
  if (value === undefined) return dflt;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new UwsgiError('UWSGI_ERR_OPTION_VALUE', `${name} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

export function resolveParserOptions(o: UwsgiParserOptions = {}): ResolvedParserOptions {
  const modifiers = o.modifiers ?? [0];
  for (const m of modifiers) {
    if (!Number.isInteger(m) || m < 0 || m > 255 || m === MODIFIER_PING) {
      throw new UwsgiError('UWSGI_ERR_OPTION_VALUE', `modifiers: ${String(m)} is not a usable request modifier1 (0-255, not 100)`);
    }
  }
  return {
    // uWSGI clamps --buffer-size to 65535
    bufferSize: Math.min(intOption('buffer-size', o.bufferSize, 4096, 1), UWSGI_MAX_DATASIZE),
    maxVars: intOption('max-vars', o.maxVars, 64, 1),
    limitPost: intOption('limit-post', o.limitPost, 0, 0),
    modifiers,
    ping: o.ping ?? true,
  };
}

/**
 * The vars of one packet, in wire order, duplicates kept. Zero-copy: keeps a view of
 * the vars block and offsets; keys are decoded (latin1) lazily, values on request.
 * Lookups by name return the LAST occurrence, as uWSGI's `%(var.X)` does.
 */
export class UwsgiVars {
  /** [keyStart, keyLen, valueStart, valueLen] per pair, offsets into `block` */
  readonly #offsets: number[];
  readonly #block: Buffer;
  #keys: string[] | undefined;
  #lastIndex: Map<string, number> | undefined;

  constructor(block: Buffer, offsets: number[]) {
    this.#block = block;
    this.#offsets = offsets;
  }

  /** number of key/value pairs */
  get length(): number {
    return this.#offsets.length / 4;
  }

  /** var slots as uWSGI counts them for `{N vars …}` in the request log: 2 per pair */
  get count(): number {
    return this.#offsets.length / 2;
  }

  /** the packet's datasize (`%(pktsize)`, `{… in N bytes}`) */
  get pktsize(): number {
    return this.#block.length;
  }

  /** the raw vars block (datasize bytes) */
  get block(): Buffer {
    return this.#block;
  }

  key(i: number): string {
    return this.#allKeys()[i]!;
  }

  keyBuffer(i: number): Buffer {
    const o = this.#offsets;
    return this.#block.subarray(o[4 * i]!, o[4 * i]! + o[4 * i + 1]!);
  }

  valueBuffer(i: number): Buffer {
    const o = this.#offsets;
    return this.#block.subarray(o[4 * i + 2]!, o[4 * i + 2]! + o[4 * i + 3]!);
  }

  value(i: number, encoding: BufferEncoding = 'latin1'): string {
    return this.valueBuffer(i).toString(encoding);
  }

  /** index of the last pair named `key`, or -1 */
  indexOf(key: string): number {
    if (this.#lastIndex === undefined) {
      const m = new Map<string, number>();
      const keys = this.#allKeys();
      for (let i = 0; i < keys.length; i++) m.set(keys[i]!, i);
      this.#lastIndex = m;
    }
    return this.#lastIndex.get(key) ?? -1;
  }

  /** index of the first pair named `key`, or -1 */
  firstIndexOf(key: string): number {
    return this.#allKeys().indexOf(key);
  }

  has(key: string): boolean {
    return this.indexOf(key) >= 0;
  }

  /** value of the last `key`, latin1-decoded (lossless) unless another encoding is asked */
  get(key: string, encoding: BufferEncoding = 'latin1'): string | undefined {
    const i = this.indexOf(key);
    return i < 0 ? undefined : this.value(i, encoding);
  }

  getBuffer(key: string): Buffer | undefined {
    const i = this.indexOf(key);
    return i < 0 ? undefined : this.valueBuffer(i);
  }

  /** value of the first `key` (uWSGI's rule for REMOTE_ADDR) */
  getFirst(key: string, encoding: BufferEncoding = 'latin1'): string | undefined {
    const i = this.firstIndexOf(key);
    return i < 0 ? undefined : this.value(i, encoding);
  }

  getAll(key: string, encoding: BufferEncoding = 'latin1'): string[] {
    const keys = this.#allKeys();
    const out: string[] = [];
    for (let i = 0; i < keys.length; i++) if (keys[i] === key) out.push(this.value(i, encoding));
    return out;
  }

  /** ordered [key, value] pairs, values latin1-decoded */
  *entries(encoding: BufferEncoding = 'latin1'): IterableIterator<[string, string]> {
    for (let i = 0; i < this.length; i++) yield [this.key(i), this.value(i, encoding)];
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  toArray(encoding: BufferEncoding = 'latin1'): Array<[string, string]> {
    return [...this.entries(encoding)];
  }

  /** plain object, last occurrence wins */
  toObject(encoding: BufferEncoding = 'latin1'): Record<string, string> {
    const out: Record<string, string> = Object.create(null) as Record<string, string>;
    for (const [k, v] of this.entries(encoding)) out[k] = v;
    return out;
  }

  #allKeys(): string[] {
    if (this.#keys === undefined) {
      const o = this.#offsets;
      const keys = new Array<string>(o.length / 4);
      for (let i = 0; i < keys.length; i++) keys[i] = this.#block.toString('latin1', o[4 * i]!, o[4 * i]! + o[4 * i + 1]!);
      this.#keys = keys;
    }
    return this.#keys;
  }
}

/** A parsed HTTP-style request packet. */
export interface UwsgiRequestPacket {
  modifier1: number;
  modifier2: number;
  /** vars block size (`%(pktsize)`) */
  datasize: number;
  vars: UwsgiVars;
  /** body length from CONTENT_LENGTH (leading digits; 0 if absent) */
  contentLength: number;
}

export interface UwsgiParserHandlers {
  /** a request packet was accepted; body bytes (if any) follow through onBody */
  onRequest(packet: UwsgiRequestPacket): void;
  /** a ping (modifier1 100) arrived; the caller sends PONG_PACKET */
  onPing(modifier2: number): void;
  /** a slice of the request body (a view into the pushed chunk) */
  onBody(chunk: Buffer): void;
  /** CONTENT_LENGTH bytes have been delivered (called right after onRequest when 0) */
  onBodyEnd(): void;
  /** the packet was rejected; the parser is now in ERROR and ignores further input */
  onError(err: UwsgiPacketError): void;
  /** bytes after the end of the body (uWSGI never reads them); default: dropped */
  onExtra?(chunk: Buffer): void;
}

/**
 * Parse the leading ASCII digits of a CONTENT_LENGTH value like uWSGI
 * (`"3abc"` → 3, `""`/`"abc"` → 0). Returns -1 when the number exceeds 2^53−1.
 */
export function parseContentLength(value: Buffer): number {
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c < 0x30 || c > 0x39) break;
    n = n * 10 + (c - 0x30);
    if (n > Number.MAX_SAFE_INTEGER) return -1;
  }
  return n;
}

/** Result of parsing a complete vars block: either the offsets or the fault. */
type VarsResult = { ok: true; offsets: number[] } | { ok: false; message: string; pairs: number; offsets: number[] };

/**
 * Parse a complete vars block with uWSGI's bounds (`uwsgi_parse_vars`): a record starts
 * only if ≥ 3 bytes remain, the key must end strictly before the block end, the value
 * may end exactly at it; at most `maxPairs` pairs.
 */
export function parseVarsBlock(block: Buffer, maxPairs: number): VarsResult {
  const end = block.length;
  const offsets: number[] = [];
  let pos = 0;
  let strsize = 0; // last length read, reported like uWSGI's `current strsize`
  while (pos < end) {
    if (pos + 2 >= end) {
      return { ok: false, message: `invalid uwsgi request (current strsize: ${strsize}). skip.`, pairs: offsets.length / 4, offsets };
    }
    strsize = block[pos]! | (block[pos + 1]! << 8);
    pos += 2;
    if (strsize === 0) return { ok: false, message: 'uwsgi key cannot be null. skip this var.', pairs: offsets.length / 4, offsets };
    // case 9: uWSGI re-reads the key bytes as a length; we report the key length instead
    if (pos + strsize >= end) {
      return { ok: false, message: `invalid uwsgi request (current strsize: ${strsize}). skip.`, pairs: offsets.length / 4, offsets };
    }
    const keyStart = pos;
    const keyLen = strsize;
    pos += strsize;
    if (pos + 2 > end) {
      return { ok: false, message: `invalid uwsgi request (current strsize: ${strsize}). skip.`, pairs: offsets.length / 4, offsets };
    }
    strsize = block[pos]! | (block[pos + 1]! << 8);
    pos += 2;
    if (pos + strsize > end) {
      return { ok: false, message: `invalid uwsgi request (current strsize: ${strsize}). skip.`, pairs: offsets.length / 4, offsets };
    }
    if (offsets.length / 4 >= maxPairs) {
      return { ok: false, message: 'max vec size reached. skip this var.', pairs: offsets.length / 4, offsets };
    }
    offsets.push(keyStart, keyLen, pos, strsize);
    pos += strsize;
  }
  return { ok: true, offsets };
}

/**
 * Streaming parser for one uwsgi connection (one request per connection). Feed it every
 * chunk read from the peer with `push()`; call `end()` when the peer closes.
 */
export class UwsgiPacketParser {
  readonly options: ResolvedParserOptions;
  #state: ParserState = ParserState.HEADER;
  readonly #h: UwsgiParserHandlers;
  /** header bytes while the header arrives split */
  readonly #header = Buffer.allocUnsafe(UWSGI_HEADER_SIZE);
  #headerFill = 0;
  #modifier1 = 0;
  #modifier2 = 0;
  #datasize = 0;
  /** vars block being assembled when it spans chunks */
  #vars: Buffer | undefined;
  #varsFill = 0;
  #bodyLeft = 0;
  #bodyTotal = 0;
  #bytesIn = 0;

  constructor(handlers: UwsgiParserHandlers, options: UwsgiParserOptions = {}) {
    this.#h = handlers;
    this.options = resolveParserOptions(options);
  }

  get state(): ParserState {
    return this.#state;
  }

  /** total bytes pushed so far */
  get bytesIn(): number {
    return this.#bytesIn;
  }

  /** body bytes still expected (BODY state) */
  get bodyLeft(): number {
    return this.#bodyLeft;
  }

  get contentLength(): number {
    return this.#bodyTotal;
  }

  /** bytes of header+vars still missing (HEADER/VARS states) */
  get packetBytesMissing(): number {
    if (this.#state === ParserState.HEADER) return UWSGI_HEADER_SIZE - this.#headerFill;
    if (this.#state === ParserState.VARS) return this.#datasize - this.#varsFill;
    return 0;
  }

  push(chunk: Buffer): void {
    this.#bytesIn += chunk.length;
    let off = 0;
    // bounded: every iteration consumes bytes or changes state towards DONE/ERROR
    while (off < chunk.length) {
      switch (this.#state) {
        case ParserState.HEADER:
          off = this.#readHeader(chunk, off);
          break;
        case ParserState.VARS:
          off = this.#readVars(chunk, off);
          break;
        case ParserState.BODY:
          off = this.#readBody(chunk, off);
          break;
        case ParserState.DONE:
          this.#h.onExtra?.(off === 0 ? chunk : chunk.subarray(off));
          return;
        case ParserState.ERROR:
          return;
      }
    }
  }

  /**
   * The peer closed its side. Returns the fault to report when the close cut a packet
   * short (spec §5 case 2), null otherwise (nothing sent at all, or packet complete).
   * A close in BODY is not a packet fault: the caller reports a body read error.
   */
  end(): UwsgiPacketError | null {
    const s = this.#state;
    if (s === ParserState.HEADER && this.#headerFill === 0) return null;
    if (s !== ParserState.HEADER && s !== ParserState.VARS) return null;
    const got = s === ParserState.HEADER ? this.#headerFill : UWSGI_HEADER_SIZE + this.#varsFill;
    const need = s === ParserState.HEADER ? UWSGI_HEADER_SIZE : UWSGI_HEADER_SIZE + this.#datasize;
    return this.#fail('UWSGI_ERR_UWSGI_PACKET',
      `uwsgi_proto_uwsgi_parser(): peer closed the connection after ${got} of ${need} packet bytes`,
      false, 0, false);
  }

  /** Mark the parser failed with an externally detected fault (e.g. a timeout). */
  abort(err: UwsgiPacketError): void {
    this.#state = ParserState.ERROR;
    this.#vars = undefined;
    this.#h.onError(err);
  }

  #readHeader(chunk: Buffer, off: number): number {
    let datasizeLo: number, datasizeHi: number;
    if (this.#headerFill === 0 && chunk.length - off >= UWSGI_HEADER_SIZE) {
      this.#modifier1 = chunk[off]!;
      datasizeLo = chunk[off + 1]!;
      datasizeHi = chunk[off + 2]!;
      this.#modifier2 = chunk[off + 3]!;
      off += UWSGI_HEADER_SIZE;
    } else {
      const n = Math.min(UWSGI_HEADER_SIZE - this.#headerFill, chunk.length - off);
      chunk.copy(this.#header, this.#headerFill, off, off + n);
      this.#headerFill += n;
      off += n;
      if (this.#headerFill < UWSGI_HEADER_SIZE) return off;
      this.#modifier1 = this.#header[0]!;
      datasizeLo = this.#header[1]!;
      datasizeHi = this.#header[2]!;
      this.#modifier2 = this.#header[3]!;
    }
    this.#headerFill = UWSGI_HEADER_SIZE;
    this.#datasize = datasizeLo | (datasizeHi << 8);
    if (this.#datasize > this.options.bufferSize) {
      this.#fail('UWSGI_ERR_UWSGI_TOO_BIG',
        `invalid request block size: ${this.#datasize} (max ${this.options.bufferSize})...skip`, false);
      return chunk.length;
    }
    this.#state = ParserState.VARS;
    if (this.#datasize === 0) return this.#packetComplete(Buffer.alloc(0), chunk, off);
    return off;
  }

  #readVars(chunk: Buffer, off: number): number {
    const avail = chunk.length - off;
    if (this.#vars === undefined && avail >= this.#datasize) {
      // whole block in this chunk: zero-copy view
      const block = chunk.subarray(off, off + this.#datasize);
      return this.#packetComplete(block, chunk, off + this.#datasize);
    }
    this.#vars ??= Buffer.allocUnsafe(this.#datasize);
    const n = Math.min(this.#datasize - this.#varsFill, avail);
    chunk.copy(this.#vars, this.#varsFill, off, off + n);
    this.#varsFill += n;
    off += n;
    if (this.#varsFill < this.#datasize) return off;
    const block = this.#vars;
    this.#vars = undefined;
    return this.#packetComplete(block, chunk, off);
  }

  /** Dispatch on modifier1 once 4 + datasize bytes are in. Returns the next offset. */
  #packetComplete(block: Buffer, chunk: Buffer, off: number): number {
    this.#varsFill = this.#datasize;
    const m1 = this.#modifier1;
    const o = this.options;
    if (m1 === MODIFIER_PING && o.ping) {
      this.#state = ParserState.DONE;
      this.#h.onPing(this.#modifier2);
      return off;
    }
    if (!o.modifiers.includes(m1)) {
      this.#fail('UWSGI_ERR_UWSGI_MODIFIER', `-- unavailable modifier requested: ${m1} --`, false);
      return chunk.length;
    }
    if (this.#datasize === 0) {
      // uWSGI (python plugin): "Empty python request. skip." logged with status 0
      this.#fail('UWSGI_ERR_UWSGI_PACKET', 'Empty request. skip.', true, 0, true, 0);
      return chunk.length;
    }
    const r = parseVarsBlock(block, 2 * o.maxVars);
    if (!r.ok) {
      this.#fail('UWSGI_ERR_UWSGI_PACKET', r.message, true, r.pairs, true, 500, new UwsgiVars(block, r.offsets));
      return chunk.length;
    }
    const vars = new UwsgiVars(block, r.offsets);
    const clIndex = vars.indexOf('CONTENT_LENGTH');
    const cl = clIndex < 0 ? 0 : parseContentLength(vars.valueBuffer(clIndex));
    if (cl < 0 || (o.limitPost > 0 && cl > o.limitPost)) {
      // uWSGI stops parsing at the CONTENT_LENGTH it refuses: the pairs before it are logged
      this.#fail(cl < 0 ? 'UWSGI_ERR_UWSGI_PACKET' : 'UWSGI_ERR_BODY_TOO_LARGE', 'Invalid (too big) CONTENT_LENGTH. skip.', true,
        clIndex, true, 500, new UwsgiVars(block, r.offsets.slice(0, 4 * clIndex)));
      return chunk.length;
    }
    this.#bodyTotal = cl;
    this.#bodyLeft = cl;
    this.#state = cl > 0 ? ParserState.BODY : ParserState.DONE;
    this.#h.onRequest({ modifier1: m1, modifier2: this.#modifier2, datasize: this.#datasize, vars, contentLength: cl });
    // the handler may have aborted the parser (re-entrant abort())
    if (cl === 0 && this.#state === ParserState.DONE) this.#h.onBodyEnd();
    return off;
  }

  #readBody(chunk: Buffer, off: number): number {
    const n = Math.min(this.#bodyLeft, chunk.length - off);
    this.#bodyLeft -= n;
    const piece = off === 0 && n === chunk.length ? chunk : chunk.subarray(off, off + n);
    if (this.#bodyLeft === 0) this.#state = ParserState.DONE;
    this.#h.onBody(piece);
    if (this.#bodyLeft === 0 && this.#state === ParserState.DONE) this.#h.onBodyEnd();
    return off + n;
  }

  #fail(code: UwsgiErrorCode, message: string, requestLog: boolean, varsParsed = 0,
    emit = true, logStatus = 500, vars?: UwsgiVars): UwsgiPacketError {
    const err = new UwsgiPacketError(code, message, {
      requestLog, logStatus, datasize: this.#datasize, varsParsed, modifier1: this.#modifier1, vars,
    });
    this.#state = ParserState.ERROR;
    this.#vars = undefined;
    if (emit) this.#h.onError(err);
    return err;
  }
}

// ---------------------------------------------------------------------------- encoder

function toBuf(v: string | Buffer): Buffer {
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
}

/**
 * Encode a uwsgi dictionary (key_len/key/value_len/value records, no header). Strings
 * are UTF-8 encoded; pass Buffers for exact bytes. Throws UWSGI_ERR_UWSGI_TOO_BIG when a
 * key or value exceeds 65535 bytes or the block exceeds `maxSize` (default 65535), and
 * UWSGI_ERR_UWSGI_PACKET for an empty key.
 */
export function encodeVars(vars: Iterable<readonly [string | Buffer, string | Buffer]>, maxSize = UWSGI_MAX_DATASIZE): Buffer {
  const parts: Buffer[] = [];
  let size = 0;
  for (const [k, v] of vars) {
    const kb = toBuf(k);
    const vb = toBuf(v);
    if (kb.length === 0) throw new UwsgiError('UWSGI_ERR_UWSGI_PACKET', 'uwsgi key cannot be empty');
    if (kb.length > UWSGI_MAX_DATASIZE || vb.length > UWSGI_MAX_DATASIZE) {
      throw new UwsgiError('UWSGI_ERR_UWSGI_TOO_BIG',
        `uwsgi var ${kb.subarray(0, 64).toString('latin1')} too big: key ${kb.length} bytes, value ${vb.length} bytes (max 65535 each)`);
    }
    parts.push(kb, vb);
    size += 4 + kb.length + vb.length;
    if (size > maxSize) {
      throw new UwsgiError('UWSGI_ERR_UWSGI_TOO_BIG', `uwsgi vars block too big: more than ${maxSize} bytes`);
    }
  }
  const out = Buffer.allocUnsafe(size);
  let pos = 0;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    out.writeUInt16LE(p.length, pos);
    pos += 2;
    pos += p.copy(out, pos);
  }
  return out;
}

/** 4-byte uwsgi header. */
export function encodeHeader(modifier1: number, datasize: number, modifier2: number): Buffer {
  for (const [name, v, max] of [['modifier1', modifier1, 255], ['modifier2', modifier2, 255], ['datasize', datasize, UWSGI_MAX_DATASIZE]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > max) {
      throw new UwsgiError(name === 'datasize' ? 'UWSGI_ERR_UWSGI_TOO_BIG' : 'UWSGI_ERR_UWSGI_PACKET',
        `uwsgi ${name} must be an integer 0-${max}, got ${String(v)}`);
    }
  }
  const h = Buffer.allocUnsafe(UWSGI_HEADER_SIZE);
  h[0] = modifier1;
  h.writeUInt16LE(datasize, 1);
  h[3] = modifier2;
  return h;
}

/** Encode a full packet: header + vars block. Throws when the vars exceed 65535 bytes. */
export function encodeUwsgiPacket(vars: Iterable<readonly [string | Buffer, string | Buffer]>, modifier1 = 0, modifier2 = 0): Buffer {
  const block = encodeVars(vars);
  return Buffer.concat([encodeHeader(modifier1, block.length, modifier2), block]);
}

/** Ping reply; with a warning message (uWSGI `--warning`... shared message) it follows the header. */
export function encodePong(warning?: string | Buffer): Buffer {
  if (warning === undefined || warning.length === 0) return PONG_PACKET;
  const w = toBuf(warning);
  return Buffer.concat([encodeHeader(MODIFIER_PING, w.length, 1), w]);
}
