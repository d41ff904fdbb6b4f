// @fallback-too — the uwsgi protocol behind real uWSGI: its HTTP router (`--http … --http-to`) forwards
// requests to a uwsgi-ts `--socket`, as a uWSGI user would deploy it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { runCli, FIXTURES, type RunningServer } from './helpers/cli.js';
import { request, sleep } from './helpers/http.js';

const UWSGI = ['/usr/bin/uwsgi', '/usr/bin/uwsgi-core'].find((p) => existsSync(p));
let app: RunningServer;
let router: ChildProcess;
let routerPort = 0;
let routerLog = '';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

test.before(async () => {
  assert.ok(UWSGI, 'uWSGI is installed (.ci/run installs uwsgi-core)');
  app = await runCli(['--socket', '127.0.0.1:0', '--workers', '2', '--module', path.join(FIXTURES, 'express-app.ts')]);
  routerPort = await freePort();
  router = spawn(UWSGI!, ['--plugin', 'http', '--master', '--http', `127.0.0.1:${routerPort}`, '--http-to', `127.0.0.1:${app.ports[0]}`, '--die-on-term', '--disable-logging'], { stdio: ['ignore', 'pipe', 'pipe'] });
  router.stdout!.on('data', (d) => (routerLog += d));
  router.stderr!.on('data', (d) => (routerLog += d));
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise<boolean>((r) => {
      const c = net.connect(routerPort, '127.0.0.1', () => { c.destroy(); r(true); });
      c.on('error', () => r(false));
    });
    if (up) break;
    if (Date.now() > deadline) throw new Error(`uWSGI router did not start:\n${routerLog}`);
    await sleep(50);
  }
});

test.after(async () => {
  router?.kill('SIGTERM');
  await app?.stop();
});

test('GET and POST through the uWSGI HTTP router', async () => {
  const r = await request(routerPort, '/hello/router');
  assert.is(r.status, 200, routerLog);
  assert.equal(JSON.parse(r.body), { hello: 'router', via: 'express' });
  const p = await request(routerPort, '/sum', { method: 'POST', body: JSON.stringify({ values: [1, 2, 3, 4, 5] }), headers: { 'content-type': 'application/json' } });
  assert.equal(JSON.parse(p.body), { sum: 15 });
});

test('many concurrent requests through the router, each answered', async () => {
  const rs = await Promise.all(Array.from({ length: 40 }, (_, i) => request(routerPort, `/hello/r${i}`)));
  rs.forEach((r, i) => assert.equal(JSON.parse(r.body).hello, `r${i}`));
  await app.waitFor(/\[pid: \d+\|app: 0\|req: \d+\/\d+\] 127\.0\.0\.1 \(\) \{\d+ vars in \d+ bytes\} .* GET \/hello\/r\d+ => generated \d+ bytes/);
});

test.run();
