// @fallback-too — runs again with UWSGI_TS_NATIVE=0 (reuseport or proxy accept mode).
// CONNECT, extension methods (WebDAV's PROPFIND, caches' PURGE, an app's own token) and
// the odd request targets (`*`, absolute-form, CONNECT's authority-form) reach the app
// with their own method and target, as uWSGI passes them, on --http-socket (both engines)
// and on --socket, through the real CLI and raw bytes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { FIXTURES, bothEngines } from './helpers/cli.js';
import { rawRequest } from './helpers/http.js';
import { encodeUwsgiPacket } from '../src/shared/uwsgi-packet.js';

const APP = path.join(FIXTURES, 'methods-app.mjs');
const servers = bothEngines(test, APP);

interface Seen { status: number; method?: string; url?: string; body?: string }

function seen(raw: Buffer): Seen {
  const text = raw.toString('latin1');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  assert.ok(m, `no status line in ${JSON.stringify(text)}`);
  const at = text.indexOf('\r\n\r\n');
  const body = text.slice(at + 4);
  return { status: Number(m[1]), ...(body.startsWith('{') ? JSON.parse(body) as object : {}) };
}

const HTTP_CASES: Array<[method: string, target: string, body?: string]> = [
  ['PROPFIND', '/dav/'],
  ['PURGE', '/cached?x=1'],
  ['MKCOL', '/dav/new'],
  ['BREW', '/pot', 'coffee'],
  ['CONNECT', 'example.com:443'],
  ['OPTIONS', '*'],
  ['GET', 'http://example.com/abs?q=1'],
];

async function httpCase(port: number, [method, target, body]: [string, string, string?]): Promise<Seen> {
  const len = body === undefined ? '' : `Content-Length: ${body.length}\r\n`;
  return seen(await rawRequest(port, `${method} ${target} HTTP/1.1\r\nHost: example.com\r\n${len}Connection: close\r\n\r\n${body ?? ''}`));
}

test('--http-socket (own engine): every method token and target form reaches the app as sent', async () => {
  for (const c of HTTP_CASES) {
    assert.equal(await httpCase(servers.own.ports[0]!, c), { status: 200, method: c[0], url: c[1], body: c[2] ?? '' }, c.join(' '));
  }
  await servers.own.waitFor(/\] CONNECT example\.com:443 => generated \d+ bytes in \d+ msecs \(HTTP\/1\.1 200\)/);
  await servers.own.waitFor(/\] BREW \/pot => generated \d+ bytes/);
  // the worker is still serving after all of them
  assert.is((await httpCase(servers.own.ports[0]!, ['GET', '/after'])).status, 200);
});

test('--http-socket --http-engine node: the methods Node knows, CONNECT (served, not tunnelled) and every target form reach the app', async () => {
  for (const c of HTTP_CASES) {
    if (c[0] === 'BREW') continue; // llhttp knows a fixed list of methods (docs/http.md)
    assert.equal(await httpCase(servers.node.ports[0]!, c), { status: 200, method: c[0], url: c[1], body: c[2] ?? '' }, c.join(' '));
  }
  await servers.node.waitFor(/\] CONNECT example\.com:443 => generated \d+ bytes in \d+ msecs \(HTTP\/1\.1 200\)/);
  assert.is((await httpCase(servers.node.ports[0]!, ['GET', '/after'])).status, 200);
});

test('--socket: REQUEST_METHOD and REQUEST_URI reach the app as the front end sent them, whatever Node\'s parser knows', async () => {
  const port = servers.own.ports[1]!;
  for (const [method, target, body] of HTTP_CASES) {
    const vars: Array<[string, string]> = [['REQUEST_METHOD', method], ['REQUEST_URI', target], ['SERVER_PROTOCOL', 'HTTP/1.1'], ['HTTP_HOST', 'example.com']];
    if (body !== undefined) vars.push(['CONTENT_LENGTH', String(body.length)]);
    const r = seen(await rawRequest(port, Buffer.concat([encodeUwsgiPacket(vars), Buffer.from(body ?? '')])));
    assert.equal(r, { status: 200, method, url: target, body: body ?? '' }, `${method} ${target}`);
  }
  await servers.own.waitFor(/\] PURGE \/cached\?x=1 => generated \d+ bytes in \d+ msecs \(HTTP\/1\.1 200\)/);
  // HEAD with an absolute-form target: still a HEAD (no body after the head)
  const head = (await rawRequest(port, encodeUwsgiPacket([['REQUEST_METHOD', 'HEAD'], ['REQUEST_URI', 'http://example.com/h'], ['SERVER_PROTOCOL', 'HTTP/1.1']]))).toString('latin1');
  assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
  assert.ok(head.endsWith('\r\n\r\n'), `no body for HEAD: ${JSON.stringify(head)}`);
  assert.not.match(servers.own.output(), /UWSGI_ERR_HTTP_PARSE/);
});

test.run();
