import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  UwsgiPacketParser, UwsgiPacketError, ParserState, encodeUwsgiPacket, encodeVars, encodeHeader, encodePong,
  parseContentLength, resolveParserOptions, PONG_PACKET, type UwsgiParserOptions, type UwsgiRequestPacket,
} from '../src/shared/uwsgi-packet.js';
import { UwsgiError } from '../src/shared/errors.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

// spec §11 worked example
const EXAMPLE_HEX =
  '008100000e00524551554553545f4d4554484f4403004745540b00524551554553545f55524907002f68693f613d310900504154485f494e464f03002f68690c0051554552595f535452494e470300613d310f005345525645525f50524f544f434f4c0800485454502f312e310900485454505f484f53540b006578616d706c652e636f6d';
const EXAMPLE_VARS: Array<[string, string]> = [
  ['REQUEST_METHOD', 'GET'], ['REQUEST_URI', '/hi?a=1'], ['PATH_INFO', '/hi'],
  ['QUERY_STRING', 'a=1'], ['SERVER_PROTOCOL', 'HTTP/1.1'], ['HTTP_HOST', 'example.com'],
];

interface Run {
  requests: UwsgiRequestPacket[];
  pings: number[];
  body: Buffer[];
  bodyEnds: number;
  errors: UwsgiPacketError[];
  extra: Buffer[];
  parser: UwsgiPacketParser;
}

function run(chunks: Buffer[], opts: UwsgiParserOptions = {}, endAfter = false): Run {
  const r: Run = { requests: [], pings: [], body: [], bodyEnds: 0, errors: [], extra: [], parser: undefined as never };
  r.parser = new UwsgiPacketParser({
    onRequest: (p) => r.requests.push(p),
    onPing: (m2) => r.pings.push(m2),
    onBody: (c) => r.body.push(Buffer.from(c)),
    onBodyEnd: () => { r.bodyEnds++; },
    onError: (e) => r.errors.push(e),
    onExtra: (c) => r.extra.push(Buffer.from(c)),
  }, opts);
  for (const c of chunks) r.parser.push(c);
  if (endAfter) {
    const e = r.parser.end();
    if (e) r.errors.push(e);
  }
  return r;
}

function splitEvery(buf: Buffer, n: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < buf.length; i += n) out.push(buf.subarray(i, i + n));
  return out;
}

function oneError(r: Run): UwsgiPacketError {
  assert.is(r.errors.length, 1, 'exactly one error');
  assert.is(r.requests.length, 0, 'no request');
  assert.is(r.parser.state, ParserState.ERROR);
  const e = r.errors[0]!;
  assert.ok(e instanceof UwsgiError);
  return e;
}

test('encode: spec §11 worked example byte for byte', () => {
  const pkt = encodeUwsgiPacket(EXAMPLE_VARS);
  assert.is(pkt.length, 133);
  assert.is(pkt.toString('hex'), EXAMPLE_HEX);
  assert.is(encodeVars(EXAMPLE_VARS).length, 129);
});

test('decode: spec §11 worked example', () => {
  const r = run([hex(EXAMPLE_HEX)]);
  assert.is(r.errors.length, 0);
  assert.is(r.requests.length, 1);
  const p = r.requests[0]!;
  assert.is(p.modifier1, 0);
  assert.is(p.modifier2, 0);
  assert.is(p.datasize, 129);
  assert.is(p.contentLength, 0);
  assert.equal(p.vars.toArray(), EXAMPLE_VARS);
  assert.is(p.vars.length, 6);
  // the spec's log line for this packet says {12 vars in 129 bytes}
  assert.is(p.vars.count, 12);
  assert.is(p.vars.pktsize, 129);
  assert.is(p.vars.get('REQUEST_URI'), '/hi?a=1');
  assert.is(p.vars.get('NOPE'), undefined);
  assert.is(r.bodyEnds, 1);
  assert.is(r.parser.state, ParserState.DONE);
});

test('decode: split at every byte gives the same result, body included', () => {
  const body = Buffer.from('0123456789abcdef');
  const pkt = Buffer.concat([encodeUwsgiPacket([...EXAMPLE_VARS, ['CONTENT_LENGTH', String(body.length)]]), body]);
  for (let at = 1; at < pkt.length; at++) {
    const r = run([pkt.subarray(0, at), pkt.subarray(at)]);
    assert.is(r.errors.length, 0, `split at ${at}`);
    assert.is(r.requests.length, 1);
    assert.is(r.requests[0]!.vars.get('HTTP_HOST'), 'example.com');
    assert.is(Buffer.concat(r.body).toString(), body.toString(), `body split at ${at}`);
    assert.is(r.bodyEnds, 1);
  }
  const r1 = run(splitEvery(pkt, 1));
  assert.equal(r1.requests[0]!.vars.toArray(), [...EXAMPLE_VARS, ['CONTENT_LENGTH', '16']]);
  assert.is(Buffer.concat(r1.body).toString(), body.toString());
});

test('surplus after the vars block is the start of the body; bytes past CONTENT_LENGTH are extra', () => {
  const pkt = encodeUwsgiPacket([['REQUEST_METHOD', 'POST'], ['CONTENT_LENGTH', '10']]);
  const r = run([Buffer.concat([pkt, Buffer.from('01234')]), Buffer.from('56789XYZ')]);
  assert.is(Buffer.concat(r.body).toString(), '0123456789');
  assert.is(r.bodyEnds, 1);
  assert.is(Buffer.concat(r.extra).toString(), 'XYZ');
  assert.is(r.parser.state, ParserState.DONE);
  // a GET with 7 stray bytes is served normally (spec §4)
  const g = run([Buffer.concat([encodeUwsgiPacket([['REQUEST_METHOD', 'GET']]), Buffer.from('garbage')])]);
  assert.is(g.requests.length, 1);
  assert.is(g.body.length, 0);
  assert.is(Buffer.concat(g.extra).toString(), 'garbage');
});

test('CONTENT_LENGTH: leading digits, last occurrence, 2^53-1 bound', () => {
  assert.is(parseContentLength(Buffer.from('3abc')), 3);
  assert.is(parseContentLength(Buffer.from('')), 0);
  assert.is(parseContentLength(Buffer.from('abc')), 0);
  assert.is(parseContentLength(Buffer.from('9007199254740991')), Number.MAX_SAFE_INTEGER);
  assert.is(parseContentLength(Buffer.from('9007199254740992')), -1);
  const r = run([encodeUwsgiPacket([['CONTENT_LENGTH', '1'], ['CONTENT_LENGTH', '3abc']]), Buffer.from('xyz')]);
  assert.is(r.requests[0]!.contentLength, 3);
  assert.is(Buffer.concat(r.body).toString(), 'xyz');
  const big = run([encodeUwsgiPacket([['CONTENT_LENGTH', '99999999999999999999']])]);
  const e = oneError(big);
  assert.is(e.message, 'Invalid (too big) CONTENT_LENGTH. skip.');
  assert.is(e.code, 'UWSGI_ERR_UWSGI_PACKET');
  assert.is(e.requestLog, true);
});

test('ping: modifier1 100 → onPing, PONG is 64 00 00 01', () => {
  const r = run([hex('64 00 00 00')]);
  assert.equal(r.pings, [0]);
  assert.is(r.requests.length, 0);
  assert.is(PONG_PACKET.toString('hex'), '64000001');
  assert.is(encodePong().toString('hex'), '64000001');
  assert.is(encodePong('hi').toString('hex'), '6402000168' + '69');
  const off = run([hex('64 00 00 00')], { ping: false });
  assert.is(oneError(off).message, '-- unavailable modifier requested: 100 --');
});

test('case 1/2: EOF with nothing vs EOF mid-header or mid-vars', () => {
  assert.is(run([], {}, true).errors.length, 0);
  for (const part of ['00', '0081', '008100', '0081000e00']) {
    const e = oneError(run([hex(part)], {}, true));
    assert.is(e.code, 'UWSGI_ERR_UWSGI_PACKET');
    assert.match(e.message, /^uwsgi_proto_uwsgi_parser\(\): peer closed the connection after \d+ of \d+ packet bytes$/);
    assert.is(e.requestLog, false);
  }
  // complete packet then EOF: not a packet fault
  assert.is(run([hex(EXAMPLE_HEX)], {}, true).errors.length, 0);
});

test('case 4: datasize > buffer-size is rejected right after the header', () => {
  const e = oneError(run([hex('00 88 13 00')])); // 5000, no vars sent yet
  assert.is(e.code, 'UWSGI_ERR_UWSGI_TOO_BIG');
  assert.is(e.message, 'invalid request block size: 5000 (max 4096)...skip');
  assert.is(e.requestLog, false);
});

test('buffer-size boundary: exactly bufferSize accepted, bufferSize+1 rejected', () => {
  const mk = (size: number): Buffer => {
    const v = 'x'.repeat(size - 4 - 1); // one var "K" with value filling the block
    const p = encodeUwsgiPacket([['K', v]]);
    assert.is(p.length, 4 + size);
    return p;
  };
  assert.is(run([mk(4096)]).requests.length, 1);
  assert.is(oneError(run([mk(4097)])).message, 'invalid request block size: 4097 (max 4096)...skip');
  assert.is(run([mk(100)], { bufferSize: 100 }).requests.length, 1);
  assert.is(oneError(run([mk(101)], { bufferSize: 100 })).code, 'UWSGI_ERR_UWSGI_TOO_BIG');
  assert.is(run([mk(65535)], { bufferSize: 65535 }).requests.length, 1);
  assert.is(resolveParserOptions({ bufferSize: 100000 }).bufferSize, 65535, 'clamped like uWSGI');
  assert.is(resolveParserOptions().bufferSize, 4096);
  assert.throws(() => resolveParserOptions({ bufferSize: 0 }), /buffer-size/);
});

test('case 5: datasize 0 → empty request, logged with status 0', () => {
  const e = oneError(run([hex('00 00 00 00')]));
  assert.is(e.message, 'Empty request. skip.');
  assert.is(e.requestLog, true);
  assert.is(e.logStatus, 0);
  assert.is(e.datasize, 0);
});

test('case 6: zero-length key', () => {
  const e = oneError(run([hex('00 05 00 00  00 00 01 00 41')]));
  assert.is(e.message, 'uwsgi key cannot be null. skip this var.');
  assert.is(e.code, 'UWSGI_ERR_UWSGI_PACKET');
  assert.is(e.requestLog, true);
  assert.is(e.logStatus, 500);
  assert.is(e.datasize, 5);
});

test('case 7: value_len runs past the block', () => {
  const e = oneError(run([hex('00 06 00 00  01 00 41 05 00 42')]));
  assert.is(e.message, 'invalid uwsgi request (current strsize: 5). skip.');
});

test('case 8: fewer than 3 bytes where a record starts; vars so far are counted', () => {
  const one = oneError(run([hex('00 07 00 00  01 00 41 01 00 42  07')]));
  assert.is(one.message, 'invalid uwsgi request (current strsize: 1). skip.');
  assert.is(one.varsParsed, 1);
  const keyLenOnly = oneError(run([hex('00 09 00 00  01 00 41 02 00 42 43  05 00')]));
  assert.is(keyLenOnly.message, 'invalid uwsgi request (current strsize: 2). skip.');
  const twoBytes = oneError(run([hex('00 08 00 00  01 00 41 01 00 42  03 00')]));
  assert.is(twoBytes.message, 'invalid uwsgi request (current strsize: 1). skip.');
  // key ends with a single byte left: no room for value_len
  const noRoom = oneError(run([hex('00 04 00 00  01 00 41 00')]));
  assert.is(noRoom.message, 'invalid uwsgi request (current strsize: 1). skip.');
});

test('case 9: key_len runs to or past the end is reported as a key-length error', () => {
  assert.is(oneError(run([hex('00 04 00 00  05 00 41 42')])).message, 'invalid uwsgi request (current strsize: 5). skip.');
  assert.is(oneError(run([hex('00 04 00 00  02 00 41 42')])).message, 'invalid uwsgi request (current strsize: 2). skip.');
});

test('empty value is legal, also in the last record', () => {
  const r = run([hex('00 0a 00 00  01 00 41 00 00  01 00 42 00 00')]);
  assert.is(r.errors.length, 0);
  assert.equal(r.requests[0]!.vars.toArray(), [['A', ''], ['B', '']]);
});

test('case 10: at most 2·maxVars pairs', () => {
  const pairs = (n: number): Array<[string, string]> => Array.from({ length: n }, (_, i) => [`K${i}`, 'v'] as [string, string]);
  assert.is(run([encodeUwsgiPacket(pairs(128))]).requests[0]!.vars.length, 128);
  const e = oneError(run([encodeUwsgiPacket(pairs(129))]));
  assert.is(e.message, 'max vec size reached. skip this var.');
  assert.is(e.varsParsed, 128);
  assert.is(run([encodeUwsgiPacket(pairs(4))], { maxVars: 2 }).requests.length, 1);
  assert.is(oneError(run([encodeUwsgiPacket(pairs(5))], { maxVars: 2 })).code, 'UWSGI_ERR_UWSGI_PACKET');
});

test('case 11: CONTENT_LENGTH above limit-post', () => {
  const pkt = encodeUwsgiPacket([['REQUEST_METHOD', 'POST'], ['CONTENT_LENGTH', '101']]);
  const e = oneError(run([pkt], { limitPost: 100 }));
  assert.is(e.message, 'Invalid (too big) CONTENT_LENGTH. skip.');
  assert.is(e.code, 'UWSGI_ERR_BODY_TOO_LARGE');
  assert.is(e.requestLog, true);
  const ok = encodeUwsgiPacket([['REQUEST_METHOD', 'POST'], ['CONTENT_LENGTH', '100']]);
  assert.is(run([ok], { limitPost: 100 }).requests.length, 1);
  assert.is(run([pkt]).requests.length, 1, 'limit-post 0 = unlimited');
});

test('case 12: unknown modifier1, subscription packets, configured modifiers', () => {
  for (const m of [1, 5, 224, 255]) {
    const e = oneError(run([hex(`${m.toString(16).padStart(2, '0')} 00 00 00`)]));
    assert.is(e.code, 'UWSGI_ERR_UWSGI_MODIFIER');
    assert.is(e.message, `-- unavailable modifier requested: ${m} --`);
    assert.is(e.requestLog, false);
  }
  const five = encodeUwsgiPacket([['REQUEST_METHOD', 'GET']], 5);
  assert.is(run([five], { modifiers: [0, 5] }).requests[0]!.modifier1, 5);
  assert.throws(() => resolveParserOptions({ modifiers: [100] }), /modifiers/);
});

test('after an error every further byte is ignored', () => {
  const r = run([hex('00 00 00 00'), hex(EXAMPLE_HEX)]);
  assert.is(r.errors.length, 1);
  assert.is(r.requests.length, 0);
});

test('vars lookups: last occurrence, first occurrence, all, raw bytes', () => {
  const r = run([encodeUwsgiPacket([['REMOTE_ADDR', '1.1.1.1'], ['X', 'a'], ['REMOTE_ADDR', '2.2.2.2'], ['U', Buffer.from([0xc3, 0xa9])]])]);
  const v = r.requests[0]!.vars;
  assert.is(v.get('REMOTE_ADDR'), '2.2.2.2');
  assert.is(v.getFirst('REMOTE_ADDR'), '1.1.1.1');
  assert.equal(v.getAll('REMOTE_ADDR'), ['1.1.1.1', '2.2.2.2']);
  assert.is(v.get('U'), '\u00c3\u00a9', 'latin1 by default (lossless)');
  assert.is(v.get('U', 'utf8'), 'é');
  assert.is(v.getBuffer('U')!.toString('hex'), 'c3a9');
  assert.equal(v.toObject()['REMOTE_ADDR'], '2.2.2.2');
});

test('a zero-copy view: the vars of a whole-chunk packet point into the chunk', () => {
  const pkt = hex(EXAMPLE_HEX);
  const r = run([pkt]);
  assert.is(r.requests[0]!.vars.block.buffer, pkt.buffer);
});

test('encoder limits', () => {
  assert.throws(() => encodeVars([['', 'x']]), (e: unknown) => e instanceof UwsgiError && e.code === 'UWSGI_ERR_UWSGI_PACKET');
  assert.throws(() => encodeVars([['K', Buffer.alloc(65536)]]), (e: unknown) => e instanceof UwsgiError && e.code === 'UWSGI_ERR_UWSGI_TOO_BIG');
  assert.is(encodeUwsgiPacket([['K', Buffer.alloc(65535 - 5)]]).length, 4 + 65535);
  assert.throws(() => encodeUwsgiPacket([['K', Buffer.alloc(65535 - 4)]]), (e: unknown) => e instanceof UwsgiError && e.code === 'UWSGI_ERR_UWSGI_TOO_BIG');
  assert.throws(() => encodeVars([['K', 'v']], 4), /too big/);
  assert.is(encodeHeader(224, 3, 1).toString('hex'), 'e0030001');
  assert.throws(() => encodeHeader(256, 0, 0), /modifier1/);
  assert.is(encodeUwsgiPacket([['A', 'B']], 224, 1).toString('hex'), 'e00600010100410100' + '42');
});

test('parser options are validated', () => {
  assert.throws(() => resolveParserOptions({ maxVars: 0 }), (e: unknown) => e instanceof UwsgiError && e.code === 'UWSGI_ERR_OPTION_VALUE');
  assert.throws(() => resolveParserOptions({ limitPost: -1 }), /limit-post/);
  assert.equal(resolveParserOptions(), { bufferSize: 4096, maxVars: 64, limitPost: 0, modifiers: [0], ping: true });
});

test.run();
