// @fallback-too — The uwsgi protocol through a real nginx (`uwsgi_pass`), TCP and UNIX sockets.
// The test starts its own nginx on a loopback port with its own config and prefix.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, chmodSync, mkdirSync, existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { runCli, FIXTURES, type RunningServer } from './helpers/cli.js';
import { request, sleep } from './helpers/http.js';

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));
const dir = mkdtempSync(path.join(os.tmpdir(), 'uwsgi-ts-nginx-'));
chmodSync(dir, 0o755);
const unixPath = path.join(dir, 'app.sock');
let app: RunningServer;
let nginx: ChildProcess;
let nginxPort = 0;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((r) => {
      const c = net.connect(port, '127.0.0.1', () => { c.destroy(); r(true); });
      c.on('error', () => r(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`nginx did not listen on ${port} within ${timeoutMs} ms: ${readFileSync(path.join(dir, 'error.log'), 'utf8')}`);
}

test.before(async () => {
  assert.ok(NGINX, 'nginx is installed (.ci/run installs it)');
  app = await runCli(['--socket', '127.0.0.1:0', '--socket', unixPath, '--workers', '2', '--module', path.join(FIXTURES, 'express-app.ts')]);
  chmodSync(unixPath, 0o777);
  const h = await runCli(['--socket', '127.0.0.1:0', '--workers', '1', '--module', path.join(FIXTURES, 'hello.ts')]);
  app2 = h;
  app3 = await runCli(['--socket', '127.0.0.1:0', '--workers', '1', '--module', path.join(FIXTURES, 'framing-app.mjs')]);
  nginxPort = await freePort();
  for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(path.join(dir, d));
  writeFileSync(path.join(dir, 'nginx.conf'), `
worker_processes 1;
daemon off;
user root;
error_log ${dir}/error.log warn;
pid ${dir}/nginx.pid;
events { worker_connections 128; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  client_max_body_size 10m;
  server {
    listen 127.0.0.1:${nginxPort};
    location /unix/ { include /etc/nginx/uwsgi_params; rewrite ^/unix(/.*)$ $1 break; uwsgi_param REQUEST_URI $uri$is_args$args; uwsgi_pass unix:${unixPath}; }
    location /plain/ { include /etc/nginx/uwsgi_params; uwsgi_pass 127.0.0.1:${h.ports[0]}; }
    location /framing/ { include /etc/nginx/uwsgi_params; rewrite ^/framing(/.*)$ $1 break; uwsgi_param REQUEST_URI $uri$is_args$args; uwsgi_pass 127.0.0.1:${app3.ports[0]}; }
    location / { include /etc/nginx/uwsgi_params; uwsgi_pass 127.0.0.1:${app.ports[0]}; }
  }
}
`);
  const check = spawnSync(NGINX!, ['-t', '-p', dir, '-c', path.join(dir, 'nginx.conf')], { encoding: 'utf8' });
  assert.is(check.status, 0, check.stderr);
  nginx = spawn(NGINX!, ['-p', dir, '-c', path.join(dir, 'nginx.conf')], { stdio: 'ignore' });
  await waitForPort(nginxPort, 10_000);
});
let app2: RunningServer;
let app3: RunningServer;

test.after(async () => {
  nginx?.kill('SIGQUIT');
  await app?.stop();
  await app2?.stop();
  await app3?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('GET through nginx reaches the Express app over uwsgi (TCP)', async () => {
  const r = await request(nginxPort, '/hello/nginx');
  assert.is(r.status, 200);
  assert.equal(JSON.parse(r.body), { hello: 'nginx', via: 'express' });
});

test('POST body through nginx (JSON, 1 MB)', async () => {
  const values = Array.from({ length: 100_000 }, (_, i) => i % 7);
  const body = JSON.stringify({ values });
  const r = await request(nginxPort, '/sum', { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  assert.is(r.status, 200, r.body);
  assert.equal(JSON.parse(r.body), { sum: values.reduce((a, b) => a + b, 0) });
});

test('UNIX socket through nginx', async () => {
  const r = await request(nginxPort, '/unix/hello/unix');
  assert.is(r.status, 200);
  assert.equal(JSON.parse(r.body), { hello: 'unix', via: 'express' });
});

test('headers, remote address, streamed responses and bodies through nginx', async () => {
  const r = await request(nginxPort, '/plain/echo?q=1', { method: 'PUT', body: 'x'.repeat(70_000), headers: { 'x-trace': 'abc' } });
  assert.is(r.status, 200);
  const j = JSON.parse(r.body);
  assert.is(j.method, 'PUT');
  assert.is(j.url, '/plain/echo?q=1');
  assert.is(j.length, 70_000);
  assert.is(j.headers['x-trace'], 'abc');
  assert.is(j.remote, '127.0.0.1');
  const s = await request(nginxPort, '/plain/stream');
  assert.is(s.body, 'first;second');
  const many = await Promise.all(Array.from({ length: 50 }, (_, i) => request(nginxPort, `/hello/n${i}`)));
  many.forEach((m, i) => assert.equal(JSON.parse(m.body).hello, `n${i}`));
  await app2.waitFor(/\[pid: \d+\|app: 0\|req: \d+\/\d+\] 127\.0\.0\.1 \(\) \{\d+ vars in \d+ bytes\} .* PUT \/plain\/echo\?q=1 => generated \d+ bytes/);
});

test('no chunk framing leaks into the body nginx relays: streamed, app-set Transfer-Encoding, TE: chunked from the client', async () => {
  for (const [p, headers, body] of [
    ['/framing/stream', {}, 'hello world'],
    ['/framing/app-te', {}, 'abcdef'],
    ['/framing/stream?te', { te: 'chunked' }, 'hello world'],
  ] as const) {
    const r = await request(nginxPort, p, { headers });
    assert.is(r.status, 200, p);
    assert.is(r.body, body, p);
  }
  const nc = await request(nginxPort, '/framing/status/204');
  assert.is(nc.status, 204);
  assert.is(nc.body, '');
});

test.run();
