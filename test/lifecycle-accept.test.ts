// @fallback-too — runs again with UWSGI_TS_NATIVE=0 (reuseport or proxy accept mode).
// Acceptance regressions for shutdown and reload through the real CLI and the embedding
// API: what happens when a worker dies, or a second stop arrives, while the master is
// already waiting for a worker to drain.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { start } from 'uwsgi-ts';
import { runCli, FIXTURES } from './helpers/cli.js';
import { get, sleep } from './helpers/http.js';

const EXIT_LATER = path.join(FIXTURES, 'exit-later.ts');
const HELLO = path.join(FIXTURES, 'hello.ts');

/** Resolves 'timeout' if `p` has not settled within `ms` (a bound, not a measurement). */
function within<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<'timeout'>((r) => { t = setTimeout(() => r('timeout'), ms); })]).finally(() => clearTimeout(t));
}

test('graceful shutdown: a worker that exits while it drains ends the stop at once (the master does not wait out the control-call timeout)', async () => {
  const s = await runCli(['--http-socket', '127.0.0.1:0', '--workers', '1', '--module', EXIT_LATER]);
  try {
    const cut = get(s.ports[0], '/exit-later?ms=500').then(() => 'answered', () => 'cut');
    await sleep(200);
    s.signal('SIGTERM');
    assert.is(await cut, 'cut');
    // the control-call timeout is --worker-reload-mercy + 5 s (65 s by default)
    const code = await within(s.exited, 20_000);
    assert.is(code, 0, `the master did not exit after its only worker died during the graceful stop; output:\n${s.output()}`);
    assert.match(s.output(), /goodbye to uWSGI\./);
    assert.not.match(s.output(), /UWSGI_ERR_CONTROL_TIMEOUT/);
  } finally {
    await s.stop('SIGKILL');
  }
});

test('embedding: stop() during a reload() ends promptly, with no failed control call', async () => {
  const { log } = await import('../dist/shared/log-writer.js') // the instance behind 'uwsgi-ts' (dist/);
  const lines: string[] = [];
  const line = log.line.bind(log);
  log.line = (l: string) => { lines.push(l); line(l); };
  const rt = await start({ module: HELLO, 'http-socket': ['127.0.0.1:0'], workers: 2, 'disable-logging': true });
  try {
    const port = rt.addresses[0].port!;
    const slow = get(port, '/slow?ms=800');
    await sleep(100);
    const reload = rt.reload();
    await sleep(50);
    const stop = rt.stop();
    assert.is(await within(Promise.all([reload, stop]).then(() => 'done'), 20_000), 'done', `reload + stop did not end; log:\n${lines.join('\n')}`);
    assert.is((await slow).body, 'slow done 800');
    assert.is(rt.workers().length, 0);
    const failed = lines.filter((l) => /graceful stop failed|UWSGI_ERR_CONTROL_TIMEOUT/.test(l));
    assert.equal(failed, [], 'no stop call was left unanswered');
  } finally {
    log.line = line;
    await rt.stop({ graceful: false });
  }
});

test('a second SIGINT (or a SIGQUIT) during a graceful shutdown turns it brutal: the in-flight request is cut', async () => {
  for (const second of ['SIGINT', 'SIGQUIT'] as const) {
    const s = await runCli(['--http-socket', '127.0.0.1:0', '--workers', '1', '--module', HELLO]);
    try {
      const slow = get(s.ports[0], '/slow?ms=15000', 30_000).then((r) => `answered ${r.body}`, () => 'cut');
      await sleep(300);
      s.signal('SIGTERM');
      await s.waitFor(/graceful shutdown: finishing in-flight requests/);
      s.signal(second);
      assert.is(await within(slow, 10_000), 'cut', `${second} did not cut the in-flight request; output:\n${s.output()}`);
      assert.is(await within(s.exited, 10_000), 0);
      assert.match(s.output(), /goodbye to uWSGI\./);
      assert.not.match(s.output(), /graceful stop failed/);
    } finally {
      await s.stop('SIGKILL');
    }
  }
});

test('--worker-reload-mercy bounds a reload and --reload-mercy a graceful shutdown, even when the worker is stuck in synchronous code', async () => {
  // reload: the old thread spins and cannot answer its stop call; it is cut after the mercy
  const a = await runCli(['--http-socket', '127.0.0.1:0', '--workers', '1', '--worker-reload-mercy', '2', '--module', HELLO]);
  try {
    const spin = get(a.ports[0], '/spin?ms=60000', 90_000).then(() => 'answered', () => 'cut');
    await sleep(300);
    a.signal('SIGHUP');
    assert.is(await within(spin, 20_000), 'cut', `the reload left the spinning worker running; output:\n${a.output()}`);
    await a.waitFor(/workers reloaded: 1 of 1 replaced/, 10_000);
    assert.match(a.output(), /worker 1 \(thread \d+\) is taking too much time to die\.\.\.NO MERCY !!!/);
    assert.not.match(a.output(), /graceful stop failed/);
  } finally {
    await a.stop('SIGKILL');
  }
  // shutdown: bounded by --reload-mercy (the control-call timeout is --worker-reload-mercy + 5 s = 65 s)
  const b = await runCli(['--http-socket', '127.0.0.1:0', '--workers', '1', '--reload-mercy', '2', '--module', HELLO]);
  try {
    const spin = get(b.ports[0], '/spin?ms=60000', 90_000).then(() => 'answered', () => 'cut');
    await sleep(300);
    b.signal('SIGTERM');
    assert.is(await within(b.exited, 20_000), 0, `the graceful shutdown waited for the spinning worker; output:\n${b.output()}`);
    assert.is(await spin, 'cut');
    assert.match(b.output(), /NO MERCY !!!/);
    assert.not.match(b.output(), /graceful stop failed/);
  } finally {
    await b.stop('SIGKILL');
  }
});

test('SIGUSR1 logs the request counters (uWSGI\'s stats) instead of opening Node\'s inspector on 127.0.0.1:9229', async () => {
  const s = await runCli(['--http-socket', '127.0.0.1:0', '--workers', '2', '--module', HELLO]);
  try {
    for (let i = 0; i < 3; i++) assert.is((await get(s.ports[0], '/')).status, 200);
    await s.waitFor(/(\[pid: \d+\|app: 0[^]*){3}/); // each request counted (its log line follows the count)
    s.signal('SIGUSR1');
    await s.waitFor(/workers total requests: 3\n/);
    await s.waitFor(/worker 1 app 0 \[\] requests: \d+ exceptions: 0\n-----------------\nworker 2 app 0 \[\] requests: \d+ exceptions: 0/);
    assert.not.match(s.output(), /Debugger listening/);
    assert.is((await get(s.ports[0], '/')).status, 200);
  } finally {
    await s.stop();
  }
});

test('signals during startup: SIGHUP does not kill the server (it comes up and serves); SIGTERM stops it cleanly (vacuum, exit 0)', async () => {
  const { mkdtempSync, rmSync, existsSync } = await import('node:fs');
  const os = await import('node:os');
  const a = await runCli(['--http-socket', '127.0.0.1:0', '--workers', '1', '--module', path.join(FIXTURES, 'slow-load.ts')], { noWait: true });
  try {
    await a.waitFor(/spawned uwsgi-ts worker 1 /);
    a.signal('SIGHUP');
    await a.waitFor(/\*\*\* uwsgi-ts is ready/, 20_000);
    const port = Number(/bound to TCP address 127\.0\.0\.1:(\d+)/.exec(a.output())![1]);
    assert.is((await get(port, '/')).body, 'loaded');
    assert.match(a.output(), /SIGHUP received during startup/);
  } finally {
    await a.stop();
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'uwsgi-ts-startup-'));
  const sock = path.join(dir, 'app.sock');
  const pid = path.join(dir, 'app.pid');
  const b = await runCli(['--socket', sock, '--pidfile', pid, '--vacuum', '--workers', '1', '--module', path.join(FIXTURES, 'stuck-at-load.ts')], { noWait: true });
  try {
    await b.waitFor(/spawned uwsgi-ts worker 1 /);
    assert.ok(existsSync(sock) && existsSync(pid));
    b.signal('SIGTERM');
    assert.is(await within(b.exited, 20_000), 0, `SIGTERM during startup; output:\n${b.output()}`);
    assert.match(b.output(), /SIGTERM received during startup/);
    assert.not.ok(existsSync(sock), 'the UNIX socket was vacuumed');
    assert.not.ok(existsSync(pid), 'the pidfile was vacuumed');
  } finally {
    await b.stop('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a worker that dies while its replacement loads is not respawned beside it: one thread per worker, and the next reload completes', async () => {
  const s = await runCli(['--http-socket', '127.0.0.1:0', '--workers', '1', '--module', path.join(FIXTURES, 'slow-load.ts')], { readyTimeoutMs: 30_000 });
  try {
    const port = s.ports[0];
    s.signal('SIGHUP');
    await s.waitFor(/spawned uwsgi-ts worker 1 .*generation: 2\)/);
    assert.is((await get(port, '/crash')).body, 'crashing'); // the old thread, while generation 2 loads
    await s.waitFor(/workers reloaded: 1 of 1 replaced/, 20_000);
    await sleep(500); // a respawn (the defect) would be spawned 100 ms after the death
    const mark = s.output().length;
    s.signal('SIGUSR2');
    await s.waitFor(/SIGUSR2: worker 1 /);
    await sleep(200);
    assert.is(s.output().slice(mark).match(/SIGUSR2: worker 1 /g)?.length, 1, `one thread for worker 1; output:\n${s.output()}`);
    s.signal('SIGHUP');
    const reloaded = s.waitFor(/workers reloaded: 1 of 1 replaced[^]*workers reloaded: 1 of 1 replaced/, 20_000).then(() => 'done', () => 'hung');
    assert.is(await reloaded, 'done', `the second reload did not complete; output:\n${s.output()}`);
    assert.is((await get(port, '/')).body, 'loaded');
  } finally {
    await s.stop();
  }
});

test.run();
