// The fetch(Request) adapter through the CLI, on the wire: a body known whole before the
// head is written goes out with a Content-Length (head and body in one write, as Node's
// res.end(body) sends it); a streamed body goes out chunked; bodyless statuses get no
// length; headers the app set are kept. Over the uwsgi protocol too.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { runCli, FIXTURES, type RunningServer } from './helpers/cli.js';
import { rawRequest } from './helpers/http.js';

const APP = path.join(FIXTURES, 'fetch-shapes.ts');
let s: RunningServer;

test.before(async () => {
  s = await runCli(['--http-socket', '127.0.0.1:0', '--workers', '1', '--module', APP]);
});
test.after(async () => {
  await s?.stop();
});

interface Parsed { status: string; headers: Map<string, string[]>; body: string }
async function fetchRaw(method: string, target: string): Promise<Parsed> {
  const raw = (await rawRequest(s.ports[0]!, `${method} ${target} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`)).toString('latin1');
  const end = raw.indexOf('\r\n\r\n');
  assert.ok(end > 0, `${target}: a complete head in ${JSON.stringify(raw)}`);
  const [status, ...lines] = raw.slice(0, end).split('\r\n');
  const headers = new Map<string, string[]>();
  for (const line of lines) {
    const i = line.indexOf(':');
    const k = line.slice(0, i).toLowerCase();
    headers.set(k, [...(headers.get(k) ?? []), line.slice(i + 1).trim()]);
  }
  return { status: status!, headers, body: raw.slice(end + 4) };
}
const one = (p: Parsed, name: string): string | undefined => p.headers.get(name)?.[0];

test('a body known whole (text, JSON, empty, a one-chunk stream) gets a Content-Length, not chunked', async () => {
  for (const [target, body] of [['/text', 'Hello World'], ['/json', '{"ok":true}'], ['/empty', ''], ['/one-chunk-stream', 'only chunk']] as const) {
    const r = await fetchRaw('GET', target);
    assert.is(r.status, 'HTTP/1.1 200 OK', target);
    assert.is(one(r, 'content-length'), String(Buffer.byteLength(body)), target);
    assert.is(one(r, 'transfer-encoding'), undefined, target);
    assert.is(r.body, body, target);
  }
  const utf8 = await fetchRaw('GET', '/utf8');
  assert.is(one(utf8, 'content-length'), String(Buffer.byteLength('h\u00e9llo \u2603')));
  assert.is(Buffer.from(utf8.body, 'latin1').toString('utf8'), 'h\u00e9llo \u2603');
});

test('a streamed body goes out chunked, every part in order', async () => {
  const r = await fetchRaw('GET', '/streamed');
  assert.is(one(r, 'transfer-encoding'), 'chunked');
  assert.is(one(r, 'content-length'), undefined);
  const parts: string[] = [];
  let rest = r.body;
  for (let i = 0; i < 10; i++) {
    const nl = rest.indexOf('\r\n');
    const size = parseInt(rest.slice(0, nl), 16);
    if (size === 0) break;
    parts.push(rest.slice(nl + 2, nl + 2 + size));
    rest = rest.slice(nl + 2 + size + 2);
  }
  assert.is(parts.join(''), 'part one, part two, part three');
});

test('bodyless statuses get no Content-Length; a declared length, cookies and a status text are kept', async () => {
  const nc = await fetchRaw('GET', '/null-body');
  assert.is(nc.status, 'HTTP/1.1 204 No Content');
  assert.is(one(nc, 'content-length'), undefined);
  assert.is(nc.body, '');
  const nm = await fetchRaw('GET', '/not-modified');
  assert.is(nm.status, 'HTTP/1.1 304 Not Modified');
  assert.is(one(nm, 'content-length'), undefined);
  assert.is(one(nm, 'etag'), '"x"');
  const dl = await fetchRaw('GET', '/declared-length');
  assert.equal(dl.headers.get('content-length'), ['5']);
  assert.is(dl.body, '12345');
  const ck = await fetchRaw('GET', '/cookies');
  assert.equal(ck.headers.get('set-cookie'), ['a=1', 'b=2']);
  const st = await fetchRaw('GET', '/status-text');
  assert.is(st.status, 'HTTP/1.1 418 Short And Stout');
});

test('HEAD: the Content-Length of the body, no body', async () => {
  const r = await fetchRaw('HEAD', '/text');
  assert.is(one(r, 'content-length'), '11');
  assert.is(r.body, '');
  assert.not.match(s.output(), /UWSGI_ERR_APP_ERROR|died/);
});

test.run();
