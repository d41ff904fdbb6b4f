// A response with no Content-Length is never chunk-encoded on the uwsgi socket or to an
// HTTP/1.0 client: uWSGI sends the body raw and ends it by closing (spec protocol.md §9).
// The request log's rsize counts body bytes, never chunk framing. Checked through the real
// CLI on both HTTP engines and on --socket with raw packets.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { FIXTURES, bothEngines, type RunningServer } from './helpers/cli.js';
import { rawRequest } from './helpers/http.js';
import { encodeUwsgiPacket } from '../src/shared/uwsgi-packet.js';

const APP = path.join(FIXTURES, 'framing-app.mjs');
const servers = bothEngines(test, APP);

function split(raw: Buffer): { head: string; body: string } {
  const text = raw.toString('latin1');
  const at = text.indexOf('\r\n\r\n');
  assert.ok(at > 0, `no response head in ${JSON.stringify(text)}`);
  return { head: text.slice(0, at + 2), body: text.slice(at + 4) };
}

/** The log line of the request whose URI is `uri` (the last one), read once it is written. */
async function logLine(s: RunningServer, uri: string): Promise<string> {
  const esc = uri.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  await s.waitFor(new RegExp(`\\] GET ${esc} => generated`));
  const lines = s.output().split('\n').filter((l) => l.includes(`] GET ${uri} => generated`));
  return lines[lines.length - 1]!;
}

for (const [engine, srv] of [['uwsgi-ts', () => servers.own], ['node', () => servers.node]] as const) {
  test(`HTTP/1.0 (${engine} engine): a streamed body, an app-set Transfer-Encoding, or TE: chunked from the client, goes out raw and ends by close; rsize = body bytes`, async () => {
    const port = srv().ports[0]!;
    for (const [req, body] of [
      ['GET /stream HTTP/1.0\r\n\r\n', 'hello world'],
      ['GET /app-te HTTP/1.0\r\n\r\n', 'abcdef'],
      ['GET /stream?te HTTP/1.0\r\nTE: chunked\r\nConnection: keep-alive\r\n\r\n', 'hello world'],
    ] as const) {
      const r = split(await rawRequest(port, req));
      assert.not.match(r.head, /transfer-encoding/i, req);
      assert.not.match(r.head, /keep-alive/i, req);
      assert.is(r.body, body, req);
    }
    assert.match(await logLine(srv(), '/app-te'), /generated 6 bytes/);
    assert.match(await logLine(srv(), '/stream?te'), /generated 11 bytes/);
    // the app's Content-Length delimits the body when it gave one with the Transfer-Encoding
    const r = split(await rawRequest(port, 'GET /app-te-length HTTP/1.0\r\n\r\n'));
    assert.not.match(r.head, /transfer-encoding/i);
    assert.match(r.head, /Content-Length: 6\r\n/);
    assert.is(r.body, 'abcdef');
  });

  test(`HTTP/1.1 (${engine} engine): a streamed body is still chunked, and rsize counts the body, not the framing`, async () => {
    const r = split(await rawRequest(srv().ports[0]!, 'GET /stream?v11 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    assert.match(r.head, /Transfer-Encoding: chunked\r\n/);
    assert.is(r.body, '6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n');
    assert.match(await logLine(srv(), '/stream?v11'), /generated 11 bytes/);
  });
}

for (const [engine, srv] of [['uwsgi-ts', () => servers.own], ['node', () => servers.node]] as const) {
  test(`204 and 304 (${engine} engine): no body and no Transfer-Encoding even when the app set one; HEAD keeps the app's Content-Length and sends no body`, async () => {
    const port = srv().ports[0]!;
    for (const status of [204, 304]) {
      const raw = (await rawRequest(port, `GET /status/${status} HTTP/1.1\r\nHost: x\r\n\r\n`)).toString('latin1');
      assert.match(raw, new RegExp(`^HTTP/1\\.1 ${status} `));
      assert.match(raw, new RegExp(`X-Status: ${status}\r\n`));
      assert.not.match(raw, /transfer-encoding/i, raw);
      assert.ok(raw.endsWith('\r\n\r\n'), `no body after the head: ${JSON.stringify(raw)}`);
    }
    const head = (await rawRequest(port, 'HEAD /head-length HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).toString('latin1');
    assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(head, /\r\nContent-Length: 11\r\n/);
    assert.not.match(head, /transfer-encoding/i);
    assert.ok(head.endsWith('\r\n\r\n'), `no body: ${JSON.stringify(head)}`);
  });
}

test('uwsgi socket: 204/304 with an app-set Transfer-Encoding, and HEAD, go out as heads alone', async () => {
  const port = servers.own.ports[1]!;
  for (const status of [204, 304]) {
    const raw = (await rawRequest(port, encodeUwsgiPacket([['REQUEST_METHOD', 'GET'], ['REQUEST_URI', `/status/${status}`], ['SERVER_PROTOCOL', 'HTTP/1.1']]))).toString('latin1');
    assert.match(raw, new RegExp(`^HTTP/1\\.1 ${status} [^\r]+\r\nX-Status: ${status}\r\n\r\n$`), raw);
  }
  const head = (await rawRequest(port, encodeUwsgiPacket([['REQUEST_METHOD', 'HEAD'], ['REQUEST_URI', '/head-length'], ['SERVER_PROTOCOL', 'HTTP/1.1']]))).toString('latin1');
  assert.is(head, 'HTTP/1.1 200 OK\r\nContent-Length: 11\r\nContent-Type: text/plain\r\n\r\n');
});

test('uwsgi socket: no chunked encoding, whatever SERVER_PROTOCOL, HTTP_TE or the app says; rsize = body bytes', async () => {
  const port = servers.own.ports[1]!;
  for (const [uri, extra, body] of [
    ['/stream?u1', [], 'hello world'],
    ['/stream?u2', [['HTTP_TE', 'chunked']], 'hello world'],
    ['/app-te?u3', [], 'abcdef'],
  ] as const) {
    const pkt = encodeUwsgiPacket([['REQUEST_METHOD', 'GET'], ['REQUEST_URI', uri], ['SERVER_PROTOCOL', 'HTTP/1.1'], ...extra]);
    const r = split(await rawRequest(port, pkt));
    assert.match(r.head, /^HTTP\/1\.1 200 OK\r\n/);
    assert.not.match(r.head, /transfer-encoding/i, uri);
    assert.is(r.body, body, uri);
    assert.match(await logLine(servers.own, uri), new RegExp(`generated ${body.length} bytes`));
  }
});

test.run();
