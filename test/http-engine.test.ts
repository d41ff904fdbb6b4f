// @fallback-too — the worker's own HTTP/1.1 engine (--http-engine uwsgi-ts, the default), through the
// real CLI and raw sockets: pipelining, bodies left unread, chunked bodies with trailers,
// Expect, HEAD, HTTP/1.0, request events, aborted uploads, backpressure, keep-alive
// timeout, each malformed input answered and logged with the fault's name.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import path from 'node:path';
import { runCli, runCliToExit, FIXTURES, type RunningServer } from './helpers/cli.js';
import { rawRequest, get, request, sleep } from './helpers/http.js';

const APP = path.join(FIXTURES, 'http-engine-app.ts');
const base = (extra: string[] = []): string[] => ['--http-socket', '127.0.0.1:0', '--workers', '1', '--module', APP, ...extra];

/** A raw connection for multi-step exchanges. */
function connect(port: number): Promise<{ sock: net.Socket; text(): string; until(re: RegExp, ms?: number): Promise<void>; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let data = '';
    const waiters = new Set<() => void>();
    sock.on('data', (d) => {
      data += d.toString('latin1');
      for (const w of [...waiters]) w();
    });
    sock.on('error', () => {});
    const closed = new Promise<void>((r) => sock.on('close', () => r()));
    const until = (re: RegExp, ms = 10_000): Promise<void> => new Promise((res, rej) => {
      const check = (): void => {
        if (re.test(data)) {
          waiters.delete(check);
          clearTimeout(timer);
          res();
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        rej(new Error(`timed out waiting for ${re}; got ${JSON.stringify(data)}`));
      }, ms);
      waiters.add(check);
      check();
    });
    sock.on('connect', () => resolve({ sock, text: () => data, until, closed }));
    sock.on('error', reject);
  });
}

function responses(raw: string): string[] {
  return raw.split(/(?=HTTP\/1\.[01] \d{3} )/).filter((s) => s.length > 0);
}

async function withServer(extra: string[], fn: (s: RunningServer, port: number) => Promise<void>): Promise<void> {
  const s = await runCli(base(extra));
  try {
    await fn(s, s.ports[0]!);
    assert.not.match(s.output(), /died|UWSGI_ERR_APP_ERROR/);
  } finally {
    await s.stop();
  }
}

test('pipelined: a body the app never reads is dropped and the next request on the connection is answered, in order', async () => {
  await withServer([], async (_s, port) => {
    const big = 'x'.repeat(200_000);
    const out = (await rawRequest(port,
      `POST /ignore-body HTTP/1.1\r\nHost: a\r\nContent-Length: ${big.length}\r\n\r\n${big}` +
      'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc' +
      'GET /echo?q=1 HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n')).toString('latin1');
    const rs = responses(out);
    assert.is(rs.length, 3, out.slice(0, 500));
    assert.match(rs[0]!, /ignored 200000$/);
    assert.match(rs[1]!, /"method":"POST","url":"\/echo","version":"1.1","body":"abc"/);
    assert.match(rs[2]!, /"method":"GET","url":"\/echo\?q=1".*"host":"b"/);
  });
});

test('a raw UTF-8 path (as curl sends a typed /café) is served with req.url percent-encoded', async () => {
  await withServer([], async (_s, port) => {
    const out = (await rawRequest(port, Buffer.concat([Buffer.from('GET /echo/'), Buffer.from('café', 'utf8'), Buffer.from(' HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')]))).toString();
    assert.match(out, /^HTTP\/1\.1 200 OK/);
    assert.match(out, /"url":"\/echo\/caf%C3%A9"/);
  });
});

test('chunked request body with trailers; Transfer-Encoding answered in kind', async () => {
  await withServer([], async (_s, port) => {
    const out = (await rawRequest(port,
      'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n' +
      '5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Checksum: 99\r\n\r\n')).toString('latin1');
    assert.match(out, /^HTTP\/1\.1 200 OK/);
    assert.match(out, /"body":"hello, world","trailers":\{"x-checksum":"99"\}/);
  });
});

test('Expect: 100-continue gets the interim response before the body is sent; other expectations get 417', async () => {
  await withServer([], async (_s, port) => {
    const c = await connect(port);
    c.sock.write('POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n');
    await c.until(/^HTTP\/1\.1 100 Continue\r\n\r\n$/);
    c.sock.write('data');
    await c.until(/"body":"data"/);
    c.sock.destroy();
    const refused = (await rawRequest(port, 'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nExpect: magic\r\nConnection: close\r\n\r\n')).toString();
    assert.match(refused, /^HTTP\/1\.1 417 Expectation Failed/);
  });
});

test('HEAD: headers, no body; the connection stays usable', async () => {
  await withServer([], async (_s, port) => {
    const out = (await rawRequest(port, 'HEAD /echo HTTP/1.1\r\nHost: a\r\n\r\nGET /echo HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')).toString('latin1');
    const rs = responses(out);
    assert.is(rs.length, 2, out);
    assert.match(rs[0]!, /^HTTP\/1\.1 200 OK[\s\S]*\r\n\r\n$/, 'no body bytes after the HEAD response head');
    assert.match(rs[1]!, /"method":"GET"/);
  });
});

test('HTTP/1.0: closed after the response unless it asks for keep-alive', async () => {
  await withServer([], async (_s, port) => {
    const once = (await rawRequest(port, 'GET /echo HTTP/1.0\r\n\r\nGET /echo HTTP/1.0\r\n\r\n')).toString('latin1');
    assert.is(responses(once).length, 1, 'the second request is never read');
    assert.match(once, /^HTTP\/1\.1 200 OK[\s\S]*"version":"1.0"/);
    const kept = (await rawRequest(port, 'GET /fixed HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /echo HTTP/1.0\r\n\r\n')).toString('latin1');
    assert.is(responses(kept).length, 2, kept);
    assert.match(responses(kept)[0]!, /Connection: keep-alive/i);
    assert.match(responses(kept)[1]!, /"version":"1.0"/);
  });
});

test('a request whose handler listens still sees req end/close and res finish/close, in Node\'s order (checked against --http-engine node)', async () => {
  await withServer([], async (_s, port) => {
    assert.is((await get(port, '/events')).body, 'events');
    await sleep(50);
    assert.equal(JSON.parse((await get(port, '/last-events')).body), ['res finish', 'req end', 'res close', 'req close']);
  });
});

test('a POST answered before its body arrives: the body is dropped, the request still ends and closes, the connection goes on', async () => {
  await withServer([], async (_s, port) => {
    const c = await connect(port);
    c.sock.write('POST /early HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n');
    await c.until(/early$/);
    c.sock.write('0123456789');
    await sleep(100); // 'end' and 'close' come on later ticks
    c.sock.write('GET /last-events HTTP/1.1\r\nHost: a\r\n\r\n');
    await c.until(/\["req end","req close"\]$/);
    c.sock.destroy();
  });
});

test('an upload cut off mid-body: the request is aborted, the worker serves on', async () => {
  await withServer([], async (s, port) => {
    const c = await connect(port);
    c.sock.write('POST /wait-abort HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n' + 'y'.repeat(1000));
    await sleep(200);
    c.sock.destroy();
    await sleep(200);
    const events = JSON.parse((await get(port, '/last-events')).body) as string[];
    assert.ok(events.includes('req aborted'), JSON.stringify(events));
    assert.ok(events.includes('res close'), JSON.stringify(events));
    assert.is((await request(port, '/echo', { method: 'POST', body: 'still here' })).status, 200);
    // logged as uWSGI logs it, with either engine
    await s.waitFor(/\[UWSGI_ERR_BODY_READ\] worker 1: request body from 127\.0\.0\.1:\d+: \[uwsgi-body-read\] Error reading the body of POST \/wait-abort/);
  });
});

test('a body that stalls for --socket-timeout: the request is aborted (ETIMEDOUT) and logged as a body read timeout; an app that reads late is not', async () => {
  await withServer(['--socket-timeout', '1'], async (s, port) => {
    const c = await connect(port);
    c.sock.write('POST /wait-abort HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n0123456789');
    const closed = await Promise.race([c.closed.then(() => true), sleep(6000).then(() => false)]);
    assert.ok(closed, 'the stalled upload is cut off');
    await s.waitFor(/\[UWSGI_ERR_BODY_READ\] worker 1: request body from 127\.0\.0\.1:\d+: \[uwsgi-body-read\] Error reading the body of POST \/wait-abort \(Content-Length: "100"\) message: Timeout: no data for --socket-timeout 1 s/);
    const events = JSON.parse((await get(port, '/last-events')).body) as string[];
    assert.ok(events.includes('req aborted') && events.includes('req error ETIMEDOUT'), JSON.stringify(events));
    // the client sent everything at once; the app reads it 2.5 s later (longer than the timeout)
    const body = Buffer.alloc(1_000_000, 0x62);
    const r = await request(port, '/read-later', { method: 'POST', body, timeoutMs: 15_000 });
    assert.equal(JSON.parse(r.body), { length: body.length });
  });
});

// Incident: a graceful stop turned shouldKeepAlive off on a response whose head had already
// promised keep-alive; the engine then closed the connection after it, and the client's next
// request on it (sent as the response ended) met a closed socket. Flaked once in the suite.
test('a reload during a response that promised keep-alive: the connection stays open for the next request, answered with Connection: close', async () => {
  await withServer([], async (s, port) => {
    const c = await connect(port);
    c.sock.write('GET /drip HTTP/1.1\r\nHost: a\r\n\r\n');
    await c.until(/Connection: keep-alive[\s\S]*first;/);
    s.signal('SIGHUP');
    await s.waitFor(/gracefully reloading|reload/i, 5000);
    await c.until(/last\r\n0\r\n\r\n$/);
    c.sock.write('GET /echo?next HTTP/1.1\r\nHost: a\r\n\r\n');
    await c.until(/"url":"\/echo\?next"/);
    assert.match(c.text().slice(c.text().lastIndexOf('HTTP/1.1 ')), /Connection: close/i);
    await Promise.race([c.closed, sleep(5000)]);
  });
});

test('a large body read slowly (socket backpressure) arrives whole', async () => {
  await withServer([], async (_s, port) => {
    const body = Buffer.alloc(3_000_000);
    for (let i = 0; i < body.length; i++) body[i] = (i * 7) & 0xff;
    const sum = body.reduce((a, b) => (a + b) % 65536, 0);
    const r = await request(port, '/slow-read', { method: 'POST', body, timeoutMs: 60_000 });
    assert.equal(JSON.parse(r.body), { length: body.length, sum });
  });
});

test('a piped response much larger than the socket buffer completes (backpressure and drain), read slowly', async () => {
  await withServer([], async (_s, port) => {
    const c = await connect(port);
    c.sock.pause();
    c.sock.write('GET /stream-big?chunks=2048 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    await sleep(300); // the server fills the socket and must wait for drain
    let bytes = 0;
    c.sock.removeAllListeners('data');
    c.sock.on('data', (d: Buffer) => { bytes += d.length; });
    c.sock.resume();
    await Promise.race([c.closed, sleep(30_000)]);
    assert.ok(bytes > 2048 * 16384, `got ${bytes} bytes`);
    assert.ok(bytes < 2048 * 16384 + 1024, `got ${bytes} bytes`);
  });
});

test('res.setTimeout reaches the response (the socket\'s timeout event is routed as Node routes it)', async () => {
  await withServer([], async (_s, port) => {
    const r = await get(port, '/res-timeout', 5000);
    assert.is(r.body, 'timed out as asked');
  });
});

test('malformed requests: 400 and a log line naming the fault; 431 past --buffer-size; the worker and other connections are unharmed', async () => {
  await withServer(['--buffer-size', '1024'], async (s, port) => {
    const keep = await connect(port);
    keep.sock.write('GET /echo HTTP/1.1\r\nHost: a\r\n\r\n');
    await keep.until(/"method":"GET"/);
    const cases: Array<[string, RegExp]> = [
      ['GARBAGE\r\n\r\n', /HPE_INVALID_METHOD.*GARBAGE/],
      ['GET / HTTP/1.1\r\nHost : a\r\n\r\n', /HPE_INVALID_HEADER_TOKEN.*Host : a/],
      ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', /HPE_UNEXPECTED_CONTENT_LENGTH/],
      ['POST / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n', /HPE_INVALID_CONTENT_LENGTH.*"abc"/],
      ['POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n', /HPE_INVALID_TRANSFER_ENCODING/],
      ['GET / HTTP/1.1\nHost: a\n\n', /HPE_STRICT.*LF without CR/],
      ['GET / HTTP/3.0\r\nHost: a\r\n\r\n', /HPE_INVALID_VERSION/],
    ];
    for (const [bytes, logged] of cases) {
      const out = (await rawRequest(port, bytes)).toString();
      assert.match(out, /^HTTP\/1\.1 400 Bad Request\r\n/, `${JSON.stringify(bytes)} → ${JSON.stringify(out)}`);
      await s.waitFor(new RegExp(`\\[UWSGI_ERR_HTTP_PARSE\\] worker 1: bad HTTP request from 127\\.0\\.0\\.1:\\d+: ${logged.source}`));
    }
    // a bad chunk in the middle of a body the app is reading: the request is aborted, 400, logged
    const badChunk = (await rawRequest(port, 'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nzz\r\n')).toString();
    assert.match(badChunk, /^HTTP\/1\.1 400 Bad Request/);
    await s.waitFor(/HPE_INVALID_CHUNK_SIZE.*"zz"/);
    const big = (await rawRequest(port, `GET / HTTP/1.1\r\nHost: a\r\nX-Big: ${'b'.repeat(2000)}\r\n\r\n`)).toString();
    assert.match(big, /^HTTP\/1\.1 431 Request Header Fields Too Large/);
    await s.waitFor(/\[UWSGI_ERR_HTTP_HEADERS_TOO_LARGE\].*--buffer-size 1024/);
    // the connection opened before all this still works
    keep.sock.write('GET /echo?again HTTP/1.1\r\nHost: a\r\n\r\n');
    await keep.until(/"url":"\/echo\?again"/);
    keep.sock.destroy();
  });
});

test('an idle keep-alive connection is closed after the keep-alive timeout (5 s)', async () => {
  await withServer([], async (_s, port) => {
    const c = await connect(port);
    c.sock.write('GET /echo HTTP/1.1\r\nHost: a\r\n\r\n');
    await c.until(/Keep-Alive: timeout=5/);
    const t0 = Date.now();
    const closed = await Promise.race([c.closed.then(() => true), sleep(9000).then(() => false)]);
    assert.ok(closed, 'closed by the server');
    assert.ok(Date.now() - t0 >= 4000, 'not before the timeout');
  });
});

test('a request head that does not complete in time: the server reports ERR_HTTP_REQUEST_TIMEOUT for that socket (in-process, 1 s head timeout)', async () => {
  const { HttpEngineServer } = await import('../src/worker/http-server.js');
  const reported: string[] = [];
  const srv = new HttpEngineServer({ maxHeaderSize: 4096, headersTimeout: 1000 }, (_req, res) => res.end('ok'));
  srv.on('clientError', (err: NodeJS.ErrnoException, sock: net.Socket) => {
    reported.push(err.code ?? '');
    sock.end('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n');
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  try {
    const port = (srv.address() as net.AddressInfo).port;
    const fine = await connect(port);
    const slow = await connect(port);
    slow.sock.write('GET / HTTP/1.1\r\nHost: a\r\n'); // never finished
    for (let i = 0; i < 8; i++) {
      fine.sock.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
      await sleep(500);
    }
    await Promise.race([slow.closed, sleep(3000)]);
    assert.match(slow.text(), /^HTTP\/1\.1 408 Request Timeout/);
    assert.equal(reported, ['ERR_HTTP_REQUEST_TIMEOUT']);
    assert.is(fine.text().match(/HTTP\/1\.1 200 OK/g)?.length, 8, 'a connection that keeps sending requests is not timed out');
    fine.sock.destroy();
  } finally {
    srv.close();
  }
});

test('--http-engine node: the same app through Node\'s http module', async () => {
  await withServer(['--http-engine', 'node'], async (_s, port) => {
    const out = (await rawRequest(port, 'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhiGET /echo HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')).toString('latin1');
    assert.is(responses(out).length, 2);
    assert.match(out, /"body":"hi"/);
  });
});

test('--http-engine with an unknown value is refused before any thread starts', async () => {
  const r = await runCliToExit(base(['--http-engine', 'llhttp']));
  assert.is(r.code, 1);
  assert.match(r.output, /--http-engine.*"llhttp"/);
});

test.run();
