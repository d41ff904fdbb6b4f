// Regression: the HTTP engine reads every socket of a thread into one shared buffer
// (src/worker/socket-read-buffer.ts). Bytes that outlive a read (a pipelined request held
// while the one before it runs, body chunks an app keeps until 'end') must be copies:
// here other connections' reads overwrite the buffer in between, and what the app and the
// clients see must still be intact.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import path from 'node:path';
import { runCli, FIXTURES, type RunningServer } from './helpers/cli.js';
import { rawRequest, sleep } from './helpers/http.js';

const APP = path.join(FIXTURES, 'http-engine-app.ts');
let s: RunningServer;

test.before(async () => {
  // one worker: every connection shares that thread's read buffer
  s = await runCli(['--http-socket', '127.0.0.1:0', '--workers', '1', '--module', APP]);
});
test.after(async () => {
  await s?.stop();
});

function collect(sock: net.Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    sock.on('data', (d) => { out += d.toString('latin1'); });
    sock.on('close', () => resolve(out));
    sock.on('error', reject);
    setTimeout(() => { sock.destroy(); reject(new Error(`timed out; got ${JSON.stringify(out.slice(0, 200))}`)); }, 15_000).unref();
  });
}

test('a pipelined request held while the one before it runs is intact after other connections\' reads', async () => {
  const port = s.ports[0]!;
  const held = `/held-${'h'.repeat(60)}`;
  const a = net.connect(port, '127.0.0.1');
  const outA = collect(a);
  // /drip answers over 800 ms: the second request waits in the connection meanwhile
  a.write(`GET /drip HTTP/1.1\r\nHost: a\r\n\r\nGET ${held} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`);
  await sleep(50);
  // other connections' requests of the same length go through the same buffer
  for (let i = 0; i < 20; i++) {
    const other = `/zzzz-${String(i).padStart(2, '0')}${'z'.repeat(58)}`;
    const out = (await rawRequest(port, `GET ${other} HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n`)).toString('latin1');
    assert.match(out, new RegExp(`"url":"${other}"`));
  }
  const text = await outA;
  assert.match(text, /first;\r\n4\r\nlast/);
  assert.match(text, new RegExp(`"url":"${held}"`), text.slice(-300));
});

test('body chunks an app keeps until the end are intact while other uploads arrive in between', async () => {
  const port = s.ports[0]!;
  const size = 256 * 1024;
  const piece = 16 * 1024;
  const patterns = ['a', 'b', 'c'];
  const socks = patterns.map(() => net.connect(port, '127.0.0.1'));
  const outs = socks.map(collect);
  await Promise.all(socks.map((k) => new Promise<void>((r) => k.once('connect', () => r()))));
  socks.forEach((k, i) => k.write(`POST /upload-${patterns[i]} HTTP/1.1\r\nHost: a\r\nContent-Length: ${size}\r\nConnection: close\r\n\r\n`));
  // the uploads interleave: each piece is a separate read on the server, between the others'
  for (let off = 0; off < size; off += piece) {
    socks.forEach((k, i) => k.write(Buffer.alloc(piece, patterns[i]!)));
    await sleep(2);
  }
  const texts = await Promise.all(outs);
  texts.forEach((t, i) => {
    const json = JSON.parse(t.slice(t.indexOf('\r\n\r\n') + 4)) as { url: string; body: string };
    assert.is(json.url, `/upload-${patterns[i]}`);
    assert.is(json.body.length, size);
    assert.ok(json.body === patterns[i]!.repeat(size), `upload ${patterns[i]}: the body is all "${patterns[i]}" (first other byte at ${[...json.body].findIndex((c) => c !== patterns[i])})`);
  });
});

test('a request with a body and the next one in the same packet: both answered intact', async () => {
  const port = s.ports[0]!;
  const out = (await rawRequest(port, 'POST /one HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloPOST /two HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nConnection: close\r\n\r\nworld')).toString('latin1');
  assert.match(out, /"url":"\/one".*"body":"hello"/s);
  assert.match(out, /"url":"\/two".*"body":"world"/s);
  assert.not.match(s.output(), /died|UWSGI_ERR_APP_ERROR/);
});

test.run();
