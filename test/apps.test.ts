// @fallback-too — Express, Fastify and Hono apps run unmodified, over HTTP and over the uwsgi protocol.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import net from 'node:net';
import { runCli, FIXTURES, type RunningServer } from './helpers/cli.js';
import { request } from './helpers/http.js';
import { encodeUwsgiPacket } from '../src/shared/uwsgi-packet.js';

/** One request over the uwsgi protocol, as nginx's uwsgi_pass would send it. */
function uwsgiRequest(port: number, method: string, uri: string, body = '', headers: Record<string, string> = {}): Promise<string> {
  const [p, q = ''] = uri.split('?');
  const vars: Array<[string, string]> = [
    ['REQUEST_METHOD', method], ['REQUEST_URI', uri], ['PATH_INFO', p], ['QUERY_STRING', q],
    ['SERVER_PROTOCOL', 'HTTP/1.1'], ['REMOTE_ADDR', '10.1.2.3'], ['REMOTE_PORT', '5555'],
    ['SERVER_NAME', 'example.com'], ['SERVER_PORT', '80'], ['HTTP_HOST', 'example.com'],
  ];
  if (body) vars.push(['CONTENT_LENGTH', String(Buffer.byteLength(body))], ['CONTENT_TYPE', 'application/json']);
  for (const [k, v] of Object.entries(headers)) vars.push([`HTTP_${k.toUpperCase().replace(/-/g, '_')}`, v]);
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.end(Buffer.concat([encodeUwsgiPacket(vars), Buffer.from(body)])));
    let out = '';
    sock.setTimeout(10_000, () => sock.destroy(new Error('uwsgi request timed out')));
    sock.on('data', (d) => (out += d));
    sock.on('error', reject);
    sock.on('close', () => resolve(out));
  });
}

const APPS = [
  { name: 'express', file: 'express-app.ts' },
  { name: 'fastify', file: 'fastify-app.ts' },
  { name: 'hono', file: 'hono-app.ts' },
];

for (const app of APPS) {
  test(`${app.name} app runs unmodified over HTTP and the uwsgi protocol`, async () => {
    let s: RunningServer | undefined;
    try {
      s = await runCli(['--http-socket', '127.0.0.1:0', '--socket', '127.0.0.1:0', '--workers', '2', '--module', path.join(FIXTURES, app.file)]);
      const [httpPort, uwsgiPort] = s.ports;
      const r = await request(httpPort, '/hello/world');
      assert.is(r.status, 200);
      assert.equal(JSON.parse(r.body), { hello: 'world', via: app.name });
      const p = await request(httpPort, '/sum', { method: 'POST', body: JSON.stringify({ values: [1, 2, 3, 4] }), headers: { 'content-type': 'application/json' } });
      assert.equal(JSON.parse(p.body), { sum: 10 });

      const u = await uwsgiRequest(uwsgiPort, 'GET', '/hello/uwsgi');
      assert.match(u, /^HTTP\/1\.1 200 OK\r\n/);
      assert.equal(JSON.parse(u.slice(u.indexOf('\r\n\r\n') + 4)), { hello: 'uwsgi', via: app.name });
      const up = await uwsgiRequest(uwsgiPort, 'POST', '/sum', JSON.stringify({ values: [5, 6] }));
      assert.equal(JSON.parse(up.slice(up.indexOf('\r\n\r\n') + 4)), { sum: 11 });
      await s.waitFor(new RegExp(`worker \\d: ${app.name === 'express' ? 'node' : app.name === 'fastify' ? 'fastify' : 'fetch'} app loaded`));
    } finally {
      await s?.stop();
    }
  });
}

test('a fetch app and a Host that cannot make a URL: 400 and a log line naming the Host, not a 500', async () => {
  const s = await runCli(['--http-socket', '127.0.0.1:0', '--workers', '1', '--module', path.join(FIXTURES, 'hono-app.ts')]);
  try {
    const { rawRequest } = await import('./helpers/http.js');
    const out = (await rawRequest(s.ports[0]!, 'GET /hello/x HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n')).toString();
    assert.match(out, /^HTTP\/1\.1 400 Bad Request/);
    await s.waitFor(/\[UWSGI_ERR_HTTP_PARSE\] worker 1: GET \/hello\/x: cannot build the fetch Request from Host "a b" and target "\/hello\/x"/);
    assert.not.match(s.output(), /UWSGI_ERR_APP_ERROR/);
    assert.is((await request(s.ports[0]!, '/hello/ok')).status, 200);
  } finally {
    await s.stop();
  }
});

test('a .mjs module with a named fetch export (FILE:EXPORT)', async () => {
  const s = await runCli(['--http-socket', '127.0.0.1:0', '--workers', '1', '--module', `${path.join(FIXTURES, 'hello.mjs')}:app`]);
  try {
    const r = await request(s.ports[0], '/path/x');
    assert.is(r.body, 'mjs fetch /path/x');
  } finally {
    await s.stop();
  }
});

test('uwsgi protocol: the same req shape as HTTP (method, url, headers, remote address, streamed body)', async () => {
  const s = await runCli(['--socket', '127.0.0.1:0', '--workers', '1', '--module', path.join(FIXTURES, 'hello.ts')]);
  try {
    const body = 'b'.repeat(100_000);
    const out = await uwsgiRequest(s.ports[0], 'POST', '/echo?x=1', body, { 'x-custom': 'yes' });
    const json = JSON.parse(out.slice(out.indexOf('\r\n\r\n') + 4));
    assert.is(json.method, 'POST');
    assert.is(json.url, '/echo?x=1');
    assert.is(json.length, 100_000);
    assert.is(json.headers['x-custom'], 'yes');
    assert.is(json.headers.host, 'example.com');
    assert.is(json.remote, '10.1.2.3');
    await s.waitFor(/\[pid: \d+\|app: 0\|req: 1\/1\] 10\.1\.2\.3 \(\) \{\d+ vars in \d+ bytes\} .* POST \/echo\?x=1 => generated \d+ bytes in \d+ msecs \(HTTP\/1\.1 200\)/);
  } finally {
    await s.stop();
  }
});

test('request log: the URI as received, not as a mounted Express router rewrote req.url; over uwsgi, REQUEST_URI as sent', async () => {
  const s = await runCli(['--http-socket', '127.0.0.1:0', '--socket', '127.0.0.1:0', '--workers', '1', '--module', path.join(FIXTURES, 'express-app.ts')]);
  try {
    const r = await request(s.ports[0], '/api/users/7?x=1');
    assert.equal(JSON.parse(r.body), { user: '7', url: '/users/7?x=1' });
    await s.waitFor(/\] GET \/api\/users\/7\?x=1 => generated \d+ bytes/);
    const u = await uwsgiRequest(s.ports[1], 'GET', '/api/users/\u00fc?q=\u00e4', '', {});
    assert.match(u, /^HTTP\/1\.1 200 OK/);
    await s.waitFor(/\] GET \/api\/users\/\u00fc\?q=\u00e4 => generated \d+ bytes/);
    assert.not.match(s.output(), /\] GET \/users\//);
  } finally {
    await s.stop();
  }
});

test('a malformed uwsgi packet closes that connection with a log line naming the peer; others are served', async () => {
  const s = await runCli(['--socket', '127.0.0.1:0', '--workers', '1', '--module', path.join(FIXTURES, 'hello.ts')]);
  try {
    const { rawRequest } = await import('./helpers/http.js');
    // datasize 5000 > buffer-size 4096
    const big = await rawRequest(s.ports[0], Buffer.from('00881300', 'hex'));
    assert.is(big.length, 0);
    await s.waitFor(/\[UWSGI_ERR_UWSGI_TOO_BIG\] worker 1: uwsgi packet from 127\.0\.0\.1:\d+ on 127\.0\.0\.1:\d+: invalid request block size: 5000 \(max 4096\)\.\.\.skip/);
    // zero-length key
    const nullKey = await rawRequest(s.ports[0], Buffer.from('000500000000010041', 'hex'));
    assert.is(nullKey.length, 0);
    await s.waitFor(/uwsgi key cannot be null/);
    const ok = await uwsgiRequest(s.ports[0], 'GET', '/');
    assert.match(ok, /hello from thread/);
  } finally {
    await s.stop();
  }
});

test.run();
