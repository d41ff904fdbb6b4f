import { test } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import http from 'node:http';
import { createHash } from 'node:crypto';
import express from 'express';
import { wrapUwsgiSocket, UwsgiConnection, type UwsgiSocketOptions } from '../src/worker/uwsgi-connection.js';
import { encodeUwsgiPacket } from '../src/shared/uwsgi-packet.js';
import type { UwsgiError } from '../src/shared/errors.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const EXAMPLE_HEX =
  '008100000e00524551554553545f4d4554484f4403004745540b00524551554553545f55524907002f68693f613d310900504154485f494e464f03002f68690c0051554552595f535452494e470300613d310f005345525645525f50524f544f434f4c0800485454502f312e310900485454505f484f53540b006578616d706c652e636f6d';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

interface Stack {
  port: number;
  errors: Array<{ peer: string; err: UwsgiError }>;
  bodyErrors: Array<{ peer: string; err: UwsgiError }>;
  /** `_writeGeneric` calls on each real socket, in accept order */
  writes: Array<Array<Buffer>>;
  httpServer: http.Server;
  close(): Promise<void>;
}

async function startStack(handler: Handler, opts: Partial<UwsgiSocketOptions> = {}): Promise<Stack> {
  const httpServer = http.createServer({ maxHeaderSize: 65535 + 1024 }, handler);
  const st: Stack = { port: 0, errors: [], bodyErrors: [], writes: [], httpServer, close: async () => {} };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // count real write requests: _write and _writev both end in one _writeGeneric
    const calls: Buffer[] = [];
    st.writes.push(calls);
    const s = socket as unknown as { _writeGeneric(writev: boolean, data: unknown, enc: string, cb: unknown): unknown };
    const orig = s._writeGeneric.bind(socket);
    s._writeGeneric = (writev, data, enc, cb) => {
      const parts = writev
        ? (data as Array<{ chunk: string | Buffer; encoding: BufferEncoding } | Buffer>).map((c) =>
          Buffer.isBuffer(c) ? c : Buffer.isBuffer(c.chunk) ? c.chunk : Buffer.from(c.chunk, c.encoding))
        : [Buffer.isBuffer(data) ? data : Buffer.from(data as string, enc as BufferEncoding)];
      calls.push(Buffer.concat(parts));
      return orig(writev, data, enc, cb);
    };
    const adapter = wrapUwsgiSocket(socket, {
      onProtocolError: (peer, err) => st.errors.push({ peer, err }),
      onBodyReadError: (peer, err) => st.bodyErrors.push({ peer, err }),
      ...opts,
    });
    httpServer.emit('connection', adapter);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  st.port = (server.address() as net.AddressInfo).port;
  st.close = () => new Promise<void>((resolve) => {
    for (const s of sockets) s.destroy();
    server.close(() => resolve());
  });
  return st;
}

interface Reply {
  data: Buffer;
  text: string;
}

/** Send chunks (each after the previous one left), then wait for the server to close. */
function exchange(port: number, chunks: Buffer[], opts: { end?: boolean } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1');
    const got: Buffer[] = [];
    // hang guard only (not a timing assertion)
    const guard = setTimeout(() => {
      c.destroy();
      reject(new Error('no close within 10 s'));
    }, 10_000);
    c.on('data', (d) => got.push(d));
    c.on('error', reject);
    c.on('close', () => {
      clearTimeout(guard);
      const data = Buffer.concat(got);
      resolve({ data, text: data.toString('latin1') });
    });
    c.on('connect', async () => {
      for (const ch of chunks) {
        await new Promise<void>((r) => c.write(ch, () => r()));
      }
      if (opts.end) c.end();
    });
  });
}

function splitReply(r: Reply): { head: string; body: string } {
  const i = r.text.indexOf('\r\n\r\n');
  assert.ok(i >= 0, `reply has a head: ${JSON.stringify(r.text)}`);
  return { head: r.text.slice(0, i + 4), body: r.text.slice(i + 4) };
}

const BASE_VARS: Array<[string, string]> = [
  ['QUERY_STRING', 'a=1'], ['REQUEST_METHOD', 'GET'], ['CONTENT_TYPE', ''], ['CONTENT_LENGTH', ''],
  ['REQUEST_URI', '/hi?a=1'], ['PATH_INFO', '/hi'], ['DOCUMENT_ROOT', '/srv'], ['SERVER_PROTOCOL', 'HTTP/1.1'],
  ['REQUEST_SCHEME', 'http'], ['REMOTE_ADDR', '10.1.2.3'], ['REMOTE_PORT', '54321'], ['SERVER_PORT', '80'],
  ['SERVER_NAME', 'localhost'], ['HTTP_HOST', 'example.com'], ['HTTP_USER_AGENT', 'curl/8'], ['HTTP_X_CUSTOM_THING', 'yes'],
];

test('spec §11 packet: exact uWSGI-shaped reply bytes, one write', async () => {
  const st = await startStack((_req, res) => {
    res.setHeader('Content-Type', 'text/plain');
    res.end('Hello');
  });
  try {
    const r = await exchange(st.port, [hex(EXAMPLE_HEX)]);
    // byte for byte the reply uWSGI 2.0.21 sent for this packet (spec §11, 50 bytes):
    // Node adds no Content-Length on an HTTP/1.0 request, the adapter drops Date/Connection
    assert.is(r.data.toString('hex'), hex(`48 54 54 50 2f 31 2e 31 20 32 30 30 20 4f 4b 0d 0a 43 6f 6e 74 65 6e 74 2d 54 79 70 65
      3a 20 74 65 78 74 2f 70 6c 61 69 6e 0d 0a 0d 0a 48 65 6c 6c 6f`).toString('hex'));
    assert.is(r.text, 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nHello');
    assert.is(st.writes[0]!.length, 1, 'head and body left in one write call');
    assert.is(st.errors.length, 0);
  } finally {
    await st.close();
  }
});

test('request seen by the handler matches the vars', async () => {
  let seen: Record<string, unknown> = {};
  const st = await startStack((req, res) => {
    const s = req.socket as unknown as UwsgiConnection;
    seen = {
      method: req.method, url: req.url, httpVersion: req.httpVersion, headers: req.headers,
      remoteAddress: s.remoteAddress, remotePort: s.remotePort, localPort: s.localPort, encrypted: s.encrypted,
      docroot: s.uwsgiVars?.get('DOCUMENT_ROOT'), first: s.uwsgiVars?.key(0), stats: s.uwsgiStats,
    };
    res.end('ok');
  });
  try {
    const pkt = encodeUwsgiPacket(BASE_VARS);
    const r = await exchange(st.port, [pkt]);
    assert.is(splitReply(r).body, 'ok');
    assert.is(seen.method, 'GET');
    assert.is(seen.url, '/hi?a=1');
    assert.is(seen.httpVersion, '1.0');
    assert.equal(seen.headers, { host: 'example.com', 'user-agent': 'curl/8', 'x-custom-thing': 'yes' });
    assert.is(seen.remoteAddress, '10.1.2.3');
    assert.is(seen.remotePort, 54321);
    assert.is(seen.localPort, 80);
    assert.is(seen.encrypted, false);
    assert.is(seen.docroot, '/srv');
    assert.is(seen.first, 'QUERY_STRING');
    assert.equal(seen.stats, {
      vars: 32, pktsize: pkt.length - 4, serverProtocol: 'HTTP/1.1', modifier1: 0, modifier2: 0, contentLength: 0,
    });
  } finally {
    await st.close();
  }
});

test('no REQUEST_URI: PATH_INFO + QUERY_STRING; no SERVER_PROTOCOL: HTTP/1.0 status line; HTTPS=on', async () => {
  let url = '';
  let enc: boolean | undefined;
  const st = await startStack((req, res) => {
    url = req.url ?? '';
    enc = (req.socket as unknown as UwsgiConnection).encrypted;
    res.writeHead(201, { 'X-A': '1' });
    res.end();
  });
  try {
    const r = await exchange(st.port, [encodeUwsgiPacket([['REQUEST_METHOD', 'GET'], ['PATH_INFO', '/p'], ['QUERY_STRING', 'x=2'], ['HTTPS', 'on']])]);
    assert.is(r.text, 'HTTP/1.0 201 Created\r\nX-A: 1\r\n\r\n');
    assert.is(url, '/p?x=2');
    assert.is(enc, true);
  } finally {
    await st.close();
  }
});

test('URI bytes Node would reject are percent-encoded; header bytes pass as latin1 like plain Node', async () => {
  let url = '';
  let h = '';
  let raw = '';
  const st = await startStack((req, res) => {
    url = req.url ?? '';
    h = String(req.headers['x-u']);
    raw = (req.socket as unknown as UwsgiConnection).uwsgiVars?.get('REQUEST_URI', 'utf8') ?? '';
    res.end();
  });
  try {
    await exchange(st.port, [encodeUwsgiPacket([['REQUEST_URI', '/caf\u00e9 x?q=1'], ['HTTP_X_U', '\u00e9']])]);
    assert.is(url, '/caf%C3%A9%20x?q=1');
    assert.is(raw, '/caf\u00e9 x?q=1');
    assert.is(Buffer.from(h, 'latin1').toString('utf8'), '\u00e9');
  } finally {
    await st.close();
  }
});

test('uwsgiResponse: false keeps Node\'s own head (HTTP/1.1, Date, Connection: close)', async () => {
  const st = await startStack((_req, res) => res.end('x'), { uwsgiResponse: false });
  try {
    const r = await exchange(st.port, [encodeUwsgiPacket([['REQUEST_METHOD', 'GET'], ['REQUEST_URI', '/'], ['SERVER_PROTOCOL', 'HTTP/1.0']])]);
    const { head } = splitReply(r);
    assert.ok(head.startsWith('HTTP/1.1 200 OK\r\n'));
    assert.match(head, /\r\nDate: /);
    assert.match(head, /\r\nConnection: close\r\n/);
  } finally {
    await st.close();
  }
});

test('POST 100 KB body: surplus in the first packet, rest split, bytes past CONTENT_LENGTH ignored', async () => {
  const body = Buffer.alloc(100 * 1024);
  for (let i = 0; i < body.length; i++) body[i] = (i * 31 + 7) & 0xff;
  const st = await startStack((req, res) => {
    const h = createHash('sha256');
    let n = 0;
    req.on('data', (d: Buffer) => {
      h.update(d);
      n += d.length;
    });
    req.on('end', () => res.end(`${n} ${h.digest('hex')} ${req.headers['content-type']} ${req.headers['content-length']}`));
  });
  try {
    const pkt = encodeUwsgiPacket([
      ['REQUEST_METHOD', 'POST'], ['REQUEST_URI', '/up'], ['CONTENT_TYPE', 'application/octet-stream'],
      ['CONTENT_LENGTH', String(body.length)], ['HTTP_CONTENT_LENGTH', String(body.length)], ['SERVER_PROTOCOL', 'HTTP/1.1'],
    ]);
    const chunks = [Buffer.concat([pkt, body.subarray(0, 1000)])];
    for (let off = 1000, k = 1; off < body.length; k++) {
      const n = Math.min(body.length - off, 997 * k);
      chunks.push(body.subarray(off, off + n));
      off += n;
    }
    chunks.push(Buffer.from('STRAY BYTES'));
    const r = await exchange(st.port, chunks);
    const expect = `${body.length} ${createHash('sha256').update(body).digest('hex')} application/octet-stream ${body.length}`;
    assert.is(splitReply(r).body, expect);
  } finally {
    await st.close();
  }
});

test('backpressure: a 2 MB body read late by the app arrives intact (socket paused, then resumed)', async () => {
  const body = Buffer.alloc(2 * 1024 * 1024, 0x61);
  body.write('END', body.length - 3);
  const st = await startStack((req, res) => {
    setTimeout(() => {
      const parts: Buffer[] = [];
      req.on('data', (d: Buffer) => parts.push(d));
      req.on('end', () => {
        const all = Buffer.concat(parts);
        res.end(`${all.length} ${all.subarray(-3).toString()}`);
      });
    }, 30);
  });
  try {
    const pkt = encodeUwsgiPacket([['REQUEST_METHOD', 'PUT'], ['REQUEST_URI', '/big'], ['CONTENT_LENGTH', String(body.length)]]);
    const r = await exchange(st.port, [pkt, body]);
    assert.is(splitReply(r).body, `${body.length} END`);
    assert.is(st.bodyErrors.length, 0);
  } finally {
    await st.close();
  }
});

test('Express answers JSON through the adapter', async () => {
  const app = express();
  app.use(express.json());
  app.post('/api/:id', (req, res) => {
    res.json({ id: req.params['id'], got: req.body as unknown, ip: req.ip, host: req.hostname, protocol: req.protocol });
  });
  const st = await startStack(app as unknown as Handler);
  try {
    const payload = Buffer.from(JSON.stringify({ hello: 'world' }));
    const pkt = encodeUwsgiPacket([
      ['REQUEST_METHOD', 'POST'], ['REQUEST_URI', '/api/42'], ['CONTENT_TYPE', 'application/json'],
      ['CONTENT_LENGTH', String(payload.length)], ['SERVER_PROTOCOL', 'HTTP/1.1'], ['REMOTE_ADDR', '192.0.2.9'],
      ['HTTP_HOST', 'api.example'], ['HTTPS', 'on'],
    ]);
    const r = await exchange(st.port, [Buffer.concat([pkt, payload])]);
    const { head, body } = splitReply(r);
    assert.ok(head.startsWith('HTTP/1.1 200 OK\r\n'), head);
    assert.match(head, /Content-Type: application\/json/i);
    assert.not.match(head, /\r\nDate: /);
    assert.equal(JSON.parse(body), { id: '42', got: { hello: 'world' }, ip: '192.0.2.9', host: 'api.example', protocol: 'https' });
  } finally {
    await st.close();
  }
});

test('malformed packets: no bytes back, connection closed, error reported; a parallel good request succeeds', async () => {
  let handled = 0;
  const st = await startStack((_req, res) => {
    handled++;
    res.end('good');
  }, { limitPost: 1000 });
  try {
    const bad: Array<[string, Buffer, string]> = [
      ['too big', hex('00 88 13 00'), 'invalid request block size: 5000 (max 4096)...skip'],
      ['empty', hex('00 00 00 00'), 'Empty request. skip.'],
      ['null key', hex('00 05 00 00  00 00 01 00 41'), 'uwsgi key cannot be null. skip this var.'],
      ['value past end', hex('00 06 00 00  01 00 41 05 00 42'), 'invalid uwsgi request (current strsize: 5). skip.'],
      ['key past end', hex('00 04 00 00  05 00 41 42'), 'invalid uwsgi request (current strsize: 5). skip.'],
      ['modifier 224', hex('e0 00 00 00'), '-- unavailable modifier requested: 224 --'],
      ['limit-post', encodeUwsgiPacket([['REQUEST_METHOD', 'POST'], ['CONTENT_LENGTH', '1001']]), 'Invalid (too big) CONTENT_LENGTH. skip.'],
      ['CRLF in header var', encodeUwsgiPacket([['REQUEST_METHOD', 'GET'], ['HTTP_X', 'a\r\nInjected: 1']]), 'invalid header var HTTP_X: control character in value. skip.'],
      ['bad method', encodeUwsgiPacket([['REQUEST_METHOD', 'GET /x HTTP/1.1\r\n']]), 'invalid REQUEST_METHOD "GET /x HTTP/1.1\\r\\n". skip.'],
    ];
    const results = await Promise.all([
      ...bad.map(([, b]) => exchange(st.port, [b])),
      exchange(st.port, [hex(EXAMPLE_HEX)]),
    ]);
    for (let i = 0; i < bad.length; i++) assert.is(results[i]!.data.length, 0, `${bad[i]![0]}: no bytes back`);
    assert.is(splitReply(results[bad.length]!).body, 'good');
    assert.is(handled, 1);
    const msgs = st.errors.map((e) => e.err.message).sort();
    assert.equal(msgs, bad.map((b) => b[2]).sort());
    for (const e of st.errors) assert.match(e.peer, /^127\.0\.0\.1:\d+$/);
  } finally {
    await st.close();
  }
});

test('EOF mid-packet is reported; EOF with nothing sent is not', async () => {
  const st = await startStack((_req, res) => res.end());
  try {
    const r = await exchange(st.port, [hex('00 81 00 00 0e 00')], { end: true });
    assert.is(r.data.length, 0);
    await exchange(st.port, [], { end: true });
    assert.is(st.errors.length, 1);
    assert.is(st.errors[0]!.err.code, 'UWSGI_ERR_UWSGI_PACKET');
    assert.match(st.errors[0]!.err.message, /^uwsgi_proto_uwsgi_parser\(\): peer closed the connection after 6 of 133 packet bytes$/);
  } finally {
    await st.close();
  }
});

test('peer half-closes after a complete packet: the response still goes out', async () => {
  const st = await startStack((_req, res) => setImmediate(() => res.end('late')));
  try {
    const r = await exchange(st.port, [hex(EXAMPLE_HEX)], { end: true });
    assert.is(splitReply(r).body, 'late');
  } finally {
    await st.close();
  }
});

test('EOF mid-body: [uwsgi-body-read] error, request aborted, nothing written', async () => {
  let aborted = false;
  const st = await startStack((req) => {
    req.on('error', () => { aborted = true; });
    req.on('aborted', () => { aborted = true; });
    req.resume();
  });
  try {
    const pkt = encodeUwsgiPacket([['REQUEST_METHOD', 'POST'], ['CONTENT_LENGTH', '100']]);
    const r = await exchange(st.port, [Buffer.concat([pkt, Buffer.alloc(10)])], { end: true });
    assert.is(r.data.length, 0);
    assert.is(st.bodyErrors.length, 1);
    assert.is(st.bodyErrors[0]!.err.code, 'UWSGI_ERR_BODY_READ');
    assert.is(st.bodyErrors[0]!.err.message,
      '[uwsgi-body-read] Error reading 90 bytes. Content-Length: 100 consumed: 10 left: 90 message: Client closed connection');
    await new Promise((r2) => setImmediate(r2));
    assert.ok(aborted, 'the app saw the request abort');
  } finally {
    await st.close();
  }
});

test('a peer stalling mid-header is dropped after socketTimeout', async () => {
  const st = await startStack((_req, res) => res.end(), { socketTimeout: 50 });
  try {
    const r = await exchange(st.port, [hex('00 81')]);
    assert.is(r.data.length, 0);
    assert.is(st.errors.length, 1);
    assert.match(st.errors[0]!.err.message, /^uwsgi_proto_uwsgi_parser\(\): timeout after 50 ms without data, 2 bytes received, 2 more expected$/);
  } finally {
    await st.close();
  }
});

test('a peer stalling mid-body gets a [uwsgi-body-read] Timeout line', async () => {
  const st = await startStack((req) => req.resume(), { socketTimeout: 50 });
  try {
    const pkt = encodeUwsgiPacket([['REQUEST_METHOD', 'POST'], ['CONTENT_LENGTH', '100']]);
    const r = await exchange(st.port, [Buffer.concat([pkt, Buffer.alloc(30)])]);
    assert.is(r.data.length, 0);
    assert.is(st.bodyErrors[0]!.err.message, '[uwsgi-body-read] Timeout reading 70 bytes. Content-Length: 100 consumed: 30 left: 70');
  } finally {
    await st.close();
  }
});

test('ping: 64 00 00 00 → 64 00 00 01, no request', async () => {
  let handled = 0;
  let pings = 0;
  const st = await startStack(() => { handled++; }, { onPing: () => { pings++; } });
  try {
    const r = await exchange(st.port, [hex('64 00 00 00')]);
    assert.is(r.data.toString('hex'), '64000001');
    assert.is(handled, 0);
    assert.is(pings, 1);
    assert.is(st.errors.length, 0);
  } finally {
    await st.close();
  }
});

test('head + first body chunk in one write, later chunks separate (Buffer bodies)', async () => {
  const st = await startStack((_req, res) => {
    res.writeHead(201, { 'Content-Type': 'text/plain', 'X-A': '1' });
    res.write(Buffer.from('first'));
    setImmediate(() => res.end(Buffer.from('second')));
  });
  try {
    const r = await exchange(st.port, [encodeUwsgiPacket([['REQUEST_METHOD', 'GET'], ['REQUEST_URI', '/'], ['SERVER_PROTOCOL', 'HTTP/1.1']])]);
    const head = 'HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\nX-A: 1\r\n\r\n';
    assert.is(r.text, head + 'firstsecond');
    const w = st.writes[0]!.map((b) => b.toString('latin1'));
    assert.equal(w, [head + 'first', 'second']);
  } finally {
    await st.close();
  }
});

test('no body: the head goes alone', async () => {
  const st = await startStack((_req, res) => {
    res.statusCode = 204;
    res.end();
  });
  try {
    const r = await exchange(st.port, [hex(EXAMPLE_HEX)]);
    assert.is(r.text, 'HTTP/1.1 204 No Content\r\n\r\n');
    assert.is(st.writes[0]!.length, 1);
  } finally {
    await st.close();
  }
});

test('upgrade: the connection becomes a tunnel after the packet', async () => {
  const st = await startStack((_req, res) => res.end('not upgraded'));
  st.httpServer.on('upgrade', (req: http.IncomingMessage, sock: UwsgiConnection, head: Buffer) => {
    sock.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: ${req.headers.upgrade}\r\nConnection: Upgrade\r\n\r\n`);
    if (head.length) sock.write(head);
    sock.on('data', (d: Buffer) => sock.write(d));
    sock.on('end', () => sock.end());
  });
  try {
    const pkt = encodeUwsgiPacket([
      ['REQUEST_METHOD', 'GET'], ['REQUEST_URI', '/ws'], ['SERVER_PROTOCOL', 'HTTP/1.1'],
      ['HTTP_UPGRADE', 'echo'], ['HTTP_CONNECTION', 'keep-alive, Upgrade'],
    ]);
    const r = await exchange(st.port, [Buffer.concat([pkt, Buffer.from('ab')]), Buffer.from('cd')], { end: true });
    assert.is(r.text, 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\nabcd');
  } finally {
    await st.close();
  }
});

test('unix socket listener: works, peer named as a unix peer', async () => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'uwsgi-conn-'));
  const path = join(dir, 's.sock');
  const httpServer = http.createServer((req, res) => res.end(`${req.url} ${(req.socket as unknown as UwsgiConnection).remoteAddress}`));
  const peers: string[] = [];
  const server = net.createServer((sock) => {
    httpServer.emit('connection', wrapUwsgiSocket(sock, { onProtocolError: (peer) => peers.push(peer) }));
  });
  await new Promise<void>((r) => server.listen(path, r));
  const talk = (b: Buffer): Promise<string> => new Promise((resolve, reject) => {
    const c = net.connect(path, () => c.write(b));
    const got: Buffer[] = [];
    c.on('data', (d) => got.push(d));
    c.on('error', reject);
    c.on('close', () => resolve(Buffer.concat(got).toString('latin1')));
  });
  try {
    const ok = await talk(encodeUwsgiPacket([['REQUEST_URI', '/u'], ['REMOTE_ADDR', '203.0.113.5']]));
    assert.is(ok, 'HTTP/1.0 200 OK\r\n\r\n/u 203.0.113.5');
    assert.is(await talk(hex('00 00 00 00')), '');
    assert.equal(peers, ['unix socket peer']);
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the socket look-alike: setTimeout emits timeout, setNoDelay/setKeepAlive/ref/unref chain', async () => {
  let timedOut = false;
  const st = await startStack((req, res) => {
    const s = req.socket as unknown as UwsgiConnection;
    assert.is(s.setNoDelay(true), s);
    assert.is(s.setKeepAlive(true, 1000), s);
    assert.is(s.unref().ref(), s);
    // res.setTimeout → socket.setTimeout; Node's own 'timeout' listener on the socket
    // then hands the event to the response instead of destroying the connection
    res.setTimeout(20, () => {
      timedOut = true;
      assert.is(s.timeout, 20);
      res.end('t');
    });
  });
  try {
    const r = await exchange(st.port, [hex(EXAMPLE_HEX)]);
    assert.is(splitReply(r).body, 't');
    assert.ok(timedOut);
  } finally {
    await st.close();
  }
});

test.run();
