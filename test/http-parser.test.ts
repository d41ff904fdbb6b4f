// The worker's own HTTP/1.x request parser (src/worker/http-parser.ts), fed hex byte
// strings: whole, split at every byte, and pipelined; every fault it names; every limit.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HttpRequestParser, ParserState, HeadFlags, HEADER_LINE, scanHeaderLine, scannedName, scannedValue, REQUEST_LINE, scanRequestLine, scannedMethod, scannedTarget, scannedMinor, scannedNonAscii, type HttpParserOptions, type HttpParseErrorCode } from '../src/worker/http-parser.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const ascii = (s: string): Buffer => Buffer.from(s, 'latin1');

interface Message {
  method: string;
  url: string;
  minor: number;
  headers: string[];
  flags: number;
  body: string;
  trailers: string[];
  complete: boolean;
}

/** Feed `chunks` in order; after each complete message, reset and go on (as the connection does). */
function parse(chunks: Buffer[], opts: HttpParserOptions = {}): { messages: Message[]; parser: HttpRequestParser } {
  const messages: Message[] = [];
  let cur: Message | null = null;
  const parser = new HttpRequestParser({
    onHead(method, url, minor, headers, flags) {
      cur = { method, url, minor, headers, flags, body: '', trailers: [], complete: false };
      messages.push(cur);
    },
    onBody(chunk) { cur!.body += chunk.toString('latin1'); },
    onComplete(trailers) { cur!.complete = true; cur!.trailers = [...trailers]; },
  }, opts);
  for (const c of chunks) {
    let i = 0;
    for (let guard = 0; guard < 1000 && i < c.length; guard++) {
      if (parser.state === ParserState.Complete) parser.reset();
      i = parser.execute(c, i);
      if (parser.state === ParserState.Failed) return { messages, parser };
    }
  }
  return { messages, parser };
}

/** Every way of cutting `buf` in two, plus one byte at a time: the same result each time. */
function splits(buf: Buffer): Buffer[][] {
  const out: Buffer[][] = [[buf]];
  for (let k = 1; k < buf.length; k++) out.push([buf.subarray(0, k), buf.subarray(k)]);
  out.push([...buf].map((b) => Buffer.from([b])));
  return out;
}

function fault(bytes: Buffer, code: HttpParseErrorCode, opts: HttpParserOptions = {}, pattern?: RegExp): void {
  for (const chunks of [[bytes], [...bytes].map((b) => Buffer.from([b]))]) {
    const { parser } = parse(chunks, opts);
    assert.is(parser.state, ParserState.Failed, `${JSON.stringify(bytes.toString('latin1'))} should fail`);
    assert.is(parser.error?.code, code, `${JSON.stringify(bytes.toString('latin1'))}: ${parser.error?.message}`);
    if (pattern) assert.match(parser.error!.message, pattern);
  }
}

// "GET /a?b=1 HTTP/1.1\r\nHost: x\r\nX-Y:  z \r\n\r\n"
const GET_HEX = '474554202f613f623d3120485454502f312e310d0a 486f73743a20780d0a 582d593a20207a200d0a 0d0a';

test('a GET from hex bytes: method, url, version, raw headers (OWS trimmed), keep-alive, no body', () => {
  const { messages, parser } = parse([hex(GET_HEX)]);
  assert.is(messages.length, 1);
  const m = messages[0]!;
  assert.is(m.method, 'GET');
  assert.is(m.url, '/a?b=1');
  assert.is(m.minor, 1);
  assert.equal(m.headers, ['Host', 'x', 'X-Y', 'z']);
  assert.is(m.flags & HeadFlags.KeepAlive, HeadFlags.KeepAlive);
  assert.ok(m.complete);
  assert.is(m.body, '');
  assert.is(parser.state, ParserState.Complete);
});

test('the same bytes split at every position and one byte at a time give the same message', () => {
  const want = parse([hex(GET_HEX)]).messages;
  for (const chunks of splits(hex(GET_HEX))) assert.equal(parse(chunks).messages, want, `split ${chunks.map((c) => c.length).join('+')}`);
});

test('Content-Length body, split anywhere, arrives whole; the next pipelined request follows', () => {
  const bytes = ascii('POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhelloGET /next HTTP/1.1\r\nHost: x\r\n\r\n');
  for (const chunks of splits(bytes)) {
    const { messages } = parse(chunks);
    assert.is(messages.length, 2);
    assert.is(messages[0]!.body, 'hello');
    assert.ok(messages[0]!.complete);
    assert.is(messages[1]!.url, '/next');
  }
});

test('execute stops at the end of a message and returns where the next one starts', () => {
  const bytes = ascii('GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n');
  const p = new HttpRequestParser({ onHead() {}, onBody() {}, onComplete() {} });
  const at = p.execute(bytes, 0);
  assert.is(at, bytes.indexOf('GET /2'));
  assert.is(p.state, ParserState.Complete);
  assert.is(p.execute(bytes, at), at, 'nothing is consumed until reset()');
  p.reset();
  assert.is(p.execute(bytes, at), bytes.length);
});

test('chunked body with extensions and trailers, split anywhere', () => {
  const bytes = ascii('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;name=v\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 42\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\n\r\n');
  for (const chunks of splits(bytes)) {
    const { messages, parser } = parse(chunks);
    assert.is(parser.error, null, parser.error?.message);
    assert.is(messages.length, 2);
    assert.is(messages[0]!.body, 'hello world');
    assert.equal(messages[0]!.trailers, ['X-Sum', '42']);
    assert.is(messages[1]!.url, '/after');
  }
});

test('chunked: upper-case hex sizes and "Transfer-Encoding: gzip, Chunked" (final coding chunked)', () => {
  const { messages } = parse([ascii('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, Chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n')]);
  assert.is(messages[0]!.body, '0123456789');
});

test('leading empty lines before a request are skipped (RFC 9112 §2.2)', () => {
  const { messages } = parse([ascii('\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n')]);
  assert.is(messages.length, 1);
});

test('keep-alive flags: HTTP/1.1 close, HTTP/1.0 default and keep-alive, token lists', () => {
  const flags = (s: string): number => parse([ascii(s)]).messages[0]!.flags;
  assert.is(flags('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n') & HeadFlags.KeepAlive, 0);
  assert.is(flags('GET / HTTP/1.0\r\n\r\n') & HeadFlags.KeepAlive, 0);
  assert.is(flags('GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n') & HeadFlags.KeepAlive, HeadFlags.KeepAlive);
  assert.is(flags('GET / HTTP/1.1\r\nHost: x\r\nConnection: TE, close\r\n\r\n') & HeadFlags.KeepAlive, 0);
  assert.is(flags('GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n') & HeadFlags.Upgrade, HeadFlags.Upgrade);
  assert.is(flags('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n') & HeadFlags.Upgrade, 0, 'Upgrade without Connection: upgrade');
  assert.is(flags('POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\n\r\n') & HeadFlags.ExpectContinue, HeadFlags.ExpectContinue);
  assert.is(flags('POST / HTTP/1.1\r\nHost: x\r\nExpect: something\r\n\r\n') & HeadFlags.ExpectOther, HeadFlags.ExpectOther);
});

test('obs-text in a header value is kept (latin1), as Node does', () => {
  const { messages } = parse([hex('474554202f20485454502f312e310d0a486f73743a2078e90d0a0d0a')]);
  assert.equal(messages[0]!.headers, ['Host', 'x\u00e9']);
});

test('HTTP/1.1 without Host is parsed (uWSGI serves it)', () => {
  assert.is(parse([ascii('GET /nohost HTTP/1.1\r\n\r\n')]).messages[0]!.url, '/nohost');
});

test('raw UTF-8 bytes in the target (curl sends them for a typed path) are percent-encoded, as uWSGI accepts them', () => {
  // "GET /café?q=ü HTTP/1.1" with UTF-8 bytes
  const { messages } = parse([hex('474554202f636166c3a93f713dc3bc20485454502f312e310d0a486f73743a20780d0a0d0a')]);
  assert.is(messages[0]!.url, '/caf%C3%A9?q=%C3%BC');
  assert.is(decodeURIComponent(messages[0]!.url), '/café?q=ü');
});

test('absolute-form and asterisk-form targets pass through', () => {
  assert.is(parse([ascii('GET http://a/b?c HTTP/1.1\r\nHost: a\r\n\r\n')]).messages[0]!.url, 'http://a/b?c');
  assert.is(parse([ascii('OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n')]).messages[0]!.url, '*');
});

test('any token is a method: extension methods and CONNECT\'s authority-form target pass through', () => {
  for (const m of ['PROPFIND', 'PURGE', 'BREW', 'get', 'X-CUSTOM_1']) assert.is(parse([ascii(`${m} /r HTTP/1.1\r\nHost: a\r\n\r\n`)]).messages[0]!.method, m);
  const c = parse([ascii('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n')]).messages[0]!;
  assert.is(c.method, 'CONNECT');
  assert.is(c.url, 'example.com:443');
});

test('faults, each named: request line', () => {
  fault(ascii('GARBAGE\r\n\r\n'), 'HPE_INVALID_METHOD', {}, /GARBAGE/);
  fault(ascii('GET / HTTP/2.0\r\nHost: x\r\n\r\n'), 'HPE_INVALID_VERSION');
  fault(ascii('GET / HTTP/1.9\r\nHost: x\r\n\r\n'), 'HPE_INVALID_VERSION');
  fault(ascii(' GET / HTTP/1.1\r\nHost: x\r\n\r\n'), 'HPE_INVALID_METHOD');
  fault(hex('474554202f617f6220485454502f312e310d0a486f73743a20780d0a0d0a'), 'HPE_INVALID_URL'); // DEL in the target
  fault(ascii('GET / HTTP/1.1\rHost: x\r\n\r\n'), 'HPE_INVALID_VERSION');
});

test('faults, each named: headers', () => {
  fault(ascii('GET / HTTP/1.1\r\nHost : x\r\n\r\n'), 'HPE_INVALID_HEADER_TOKEN', {}, /Host : x/);
  fault(ascii('GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n'), 'HPE_INVALID_HEADER_TOKEN', {}, / b/);
  fault(ascii('GET / HTTP/1.1\r\n: x\r\nHost: x\r\n\r\n'), 'HPE_INVALID_HEADER_TOKEN');
  fault(hex('474554202f20485454502f312e310d0a486f73743a2078017920 0d0a0d0a'), 'HPE_INVALID_HEADER_TOKEN'); // CTL in a value
  fault(ascii('GET / HTTP/1.1\nHost: x\n\n'), 'HPE_STRICT', {}, /LF without CR/); // answered at once, not left to time out
  fault(ascii('GET / HTTP/1.1\r\nHost: x\n\n'), 'HPE_STRICT');
});

test('faults, each named: framing (request smuggling)', () => {
  fault(ascii('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na'), 'HPE_UNEXPECTED_CONTENT_LENGTH');
  fault(ascii('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'), 'HPE_UNEXPECTED_CONTENT_LENGTH');
  fault(ascii('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +1\r\n\r\na'), 'HPE_INVALID_CONTENT_LENGTH', {}, /"\+1"/);
  fault(ascii('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1 2\r\n\r\na'), 'HPE_INVALID_CONTENT_LENGTH');
  fault(ascii('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n'), 'HPE_INVALID_TRANSFER_ENCODING');
  fault(ascii('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n'), 'HPE_INVALID_TRANSFER_ENCODING');
  fault(ascii('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'), 'HPE_INVALID_CHUNK_SIZE', {}, /"zz"/);
  fault(ascii('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffff\r\n'), 'HPE_INVALID_CHUNK_SIZE');
  fault(ascii('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\nx\r\n'), 'HPE_STRICT');
  fault(ascii('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxy\r\n'), 'HPE_STRICT');
  fault(ascii('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nBad Trailer\r\n\r\n'), 'HPE_INVALID_HEADER_TOKEN');
});

test('limits: maxHeaderSize bounds the head (exactly at the limit passes), maxHeaders the count, maxChunkLine the size line', () => {
  const head = (n: number): Buffer => {
    const base = 'GET / HTTP/1.1\r\nHost: x\r\nX: \r\n\r\n';
    return ascii(base.replace('X: ', 'X: ' + 'a'.repeat(n - base.length)));
  };
  const exact = head(200);
  assert.is(exact.length, 200);
  assert.is(parse([exact], { maxHeaderSize: 200 }).messages.length, 1);
  for (const chunks of [[head(201)], [...head(201)].map((b) => Buffer.from([b]))]) {
    assert.is(parse(chunks, { maxHeaderSize: 200 }).parser.error?.code, 'HPE_HEADER_OVERFLOW');
  }
  // a head that never ends is refused once it passes the limit, not buffered forever
  const endless = parse([ascii('GET / HTTP/1.1\r\nHost: x\r\n' + 'X: y\r\n'.repeat(100))], { maxHeaderSize: 256 });
  assert.is(endless.parser.error?.code, 'HPE_HEADER_OVERFLOW');
  assert.match(endless.parser.error!.message, /256 bytes/);
  const many = 'GET / HTTP/1.1\r\nHost: x\r\n' + 'X: y\r\n'.repeat(10) + '\r\n';
  assert.is(parse([ascii(many)], { maxHeaders: 11 }).messages.length, 1);
  const over = parse([ascii(many)], { maxHeaders: 10 });
  assert.is(over.parser.error?.code, 'HPE_HEADER_OVERFLOW');
  assert.match(over.parser.error!.message, /more than 10 header lines/);
  fault(ascii('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1;' + 'e'.repeat(100) + '\r\nx\r\n0\r\n\r\n'), 'HPE_CHUNK_EXTENSIONS_OVERFLOW', { maxChunkLine: 64 });
  // trailers are held to maxHeaderSize too
  fault(ascii('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n' + 'T: v\r\n'.repeat(100) + '\r\n'), 'HPE_HEADER_OVERFLOW', { maxHeaderSize: 128 });
});

test('finish(): a message cut short is a fault, a clean end between messages is not', () => {
  const cut = parse([ascii('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc')]);
  assert.is(cut.parser.finish()?.code, 'HPE_INVALID_EOF_STATE');
  const half = parse([ascii('GET / HTT')]);
  assert.is(half.parser.finish()?.code, 'HPE_INVALID_EOF_STATE');
  const clean = parse([ascii('GET / HTTP/1.1\r\nHost: x\r\n\r\n')]);
  clean.parser.reset();
  assert.is(clean.parser.finish(), null);
});

/** A fixed-seed pseudo-random generator (xorshift32): rnd(n) is in [0, n). */
function xorshift(seed: number): (n: number) => number {
  let x = seed >>> 0;
  return (n) => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x % n;
  };
}
/** Up to max - 1 characters drawn from `alphabet`. */
function noise(rnd: (n: number) => number, alphabet: string[], max: number): string {
  let out = '';
  for (let k = rnd(max); k > 0; k--) out += alphabet[rnd(alphabet.length)]!;
  return out;
}

test('the header-line scanner accepts exactly what the grammar (HEADER_LINE) matches, with the same name, value and end, on 60,000 generated lines', () => {
  // a fixed-seed generator over the characters that matter to the grammar
  const rnd = xorshift(0x9e3779b9);
  const alphabet = ['a', 'Z', '0', '-', '!', '~', ':', ' ', '\t', '\r', '\n', '\x00', '\x08', '\x0b', '\x1f', '\x7f', '\x80', '\xe9', '\xff', '"', '(', ',', '/', '@'];
  const piece = (max: number): string => noise(rnd, alphabet, max);
  let accepted = 0;
  for (let n = 0; n < 60_000; n++) {
    // mostly well-formed skeletons with noise in each part, sometimes pure noise
    const line = rnd(4) === 0 ? piece(24) : `${rnd(5) === 0 ? piece(4) : 'X-' + piece(3)}${rnd(8) === 0 ? '' : ':'}${piece(3)}${piece(10)}${piece(3)}${rnd(6) === 0 ? piece(2) : '\r\n'}${piece(3)}`;
    const pos = 0;
    HEADER_LINE.lastIndex = pos;
    const m = HEADER_LINE.exec(line);
    const end = scanHeaderLine(line, pos);
    if (m === null) {
      assert.is(end, -1, `rejected by the grammar, accepted by the scanner: ${JSON.stringify(line)}`);
      continue;
    }
    accepted++;
    assert.is(end, HEADER_LINE.lastIndex, `end of ${JSON.stringify(line)}`);
    assert.is(scannedName, m[1], `name of ${JSON.stringify(line)}`);
    assert.is(scannedValue, m[2], `value of ${JSON.stringify(line)}`);
  }
  assert.ok(accepted > 1500, `enough well-formed lines were generated (${accepted})`);
});

test('the request-line scanner accepts exactly what the grammar (REQUEST_LINE) matches, with the same method, target, version and end, on 60,000 generated lines', () => {
  const rnd = xorshift(0x2545f491);
  const alphabet = ['G', 'e', '/', '?', '%', '0', '1', ' ', '\t', '\r', '\n', '\x00', '\x1f', '\x7f', '\x80', '\xe9', '\xff', 'H', 'T', 'P', '.', '!', '~'];
  const piece = (max: number): string => noise(rnd, alphabet, max);
  const versions = ['HTTP/1.1', 'HTTP/1.0', 'HTTP/1.2', 'HTTP/2.0', 'http/1.1', 'HTTP/1.', 'HTTP/1.1 '];
  let accepted = 0;
  for (let n = 0; n < 60_000; n++) {
    const line = rnd(5) === 0
      ? piece(30)
      : `${rnd(6) === 0 ? piece(4) : 'GET'}${rnd(10) === 0 ? '  ' : ' '}${rnd(2) === 0 ? '/' : ''}${piece(8)}${rnd(8) === 0 ? '' : ' '}${versions[rnd(versions.length)]}${rnd(6) === 0 ? piece(2) : '\r\n'}${piece(4)}`;
    REQUEST_LINE.lastIndex = 0;
    const m = REQUEST_LINE.exec(line);
    const end = scanRequestLine(line);
    if (m === null) {
      assert.is(end, -1, `rejected by the grammar, accepted by the scanner: ${JSON.stringify(line)}`);
      continue;
    }
    accepted++;
    assert.is(end, REQUEST_LINE.lastIndex, `end of ${JSON.stringify(line)}`);
    assert.is(scannedMethod, m[1], `method of ${JSON.stringify(line)}`);
    assert.is(scannedTarget, m[2], `target of ${JSON.stringify(line)}`);
    assert.is(scannedMinor, Number(m[3]), `version of ${JSON.stringify(line)}`);
    assert.is(scannedNonAscii, /[\x80-\xff]/.test(m[2]!), `non-ASCII of ${JSON.stringify(line)}`);
  }
  assert.ok(accepted > 1500, `enough well-formed lines were generated (${accepted})`);
});

test.run();
