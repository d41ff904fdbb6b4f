// @fallback-too — runs again with UWSGI_TS_NATIVE=0 (reuseport or proxy accept mode).
// SIGTSTP pauses every worker as uWSGI does (fifo.md §6): no new request is accepted,
// in-flight ones finish, connections made meanwhile wait and are served after a second
// SIGTSTP resumes the workers; a reload while paused keeps the new workers paused. The
// embedding handle has pause(), resume() and `paused`.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { start } from 'uwsgi-ts';
import { runCli, FIXTURES } from './helpers/cli.js';
import { get, sleep, type SimpleResponse } from './helpers/http.js';

const HELLO = path.join(FIXTURES, 'hello.ts');

/** Settles with the response, or 'pending' if none came within `ms`. */
async function within<T>(p: Promise<T>, ms: number): Promise<T | 'pending'> {
  let t: NodeJS.Timeout | undefined;
  const r = await Promise.race([p, new Promise<'pending'>((res) => { t = setTimeout(() => res('pending'), ms); })]);
  clearTimeout(t);
  return r;
}

test('SIGTSTP pauses (logged like uWSGI), a request made meanwhile waits, in-flight ones finish; a second SIGTSTP resumes and serves it', async () => {
  const s = await runCli(['--http-socket', '127.0.0.1:0', '--workers', '2', '--module', HELLO]);
  try {
    const port = s.ports[0]!;
    const inflight = get(port, '/slow?ms=800');
    await sleep(200);
    s.signal('SIGTSTP');
    await s.waitFor(/\*\*\* PAUSE \(press start to resume, if you do not have a joypad send SIGTSTP\) \*\*\*/);
    await s.waitFor(/worker 1 suspended[^]*worker 2 suspended|worker 2 suspended[^]*worker 1 suspended/);
    const waiting = get(port, '/?while-paused', 15_000);
    assert.is(await within(waiting, 800), 'pending', 'no worker accepts while paused');
    assert.is((await inflight).body, 'slow done 800', 'the request in flight finished during the pause');
    s.signal('SIGTSTP');
    await s.waitFor(/\*\*\* \(SIGTSTP received\) resuming workers \*\*\*/);
    const r = await within(waiting, 5000);
    assert.ok(r !== 'pending' && (r as SimpleResponse).status === 200, 'the waiting request is served after resume');
    await s.waitFor(/worker 1 resumed[^]*worker 2 resumed|worker 2 resumed[^]*worker 1 resumed/);
    assert.is((await get(port, '/')).status, 200);
  } finally {
    await s.stop();
  }
});

test('a reload while paused: the new workers start paused; resume serves what waited', async () => {
  const s = await runCli(['--http-socket', '127.0.0.1:0', '--workers', '1', '--module', HELLO]);
  try {
    const port = s.ports[0]!;
    s.signal('SIGTSTP');
    await s.waitFor(/worker 1 suspended/);
    s.signal('SIGHUP');
    await s.waitFor(/workers reloaded: 1 of 1 replaced/, 15_000);
    // the replacement logs its own line from its thread: it can reach the output after the master's
    await s.waitFor(/worker 1 suspended[^]*worker 1 suspended/, 10_000);
    assert.is(s.output().match(/worker 1 suspended/g)?.length, 2, 'the replacement started suspended');
    const waiting = get(port, '/?after-reload', 15_000);
    assert.is(await within(waiting, 600), 'pending');
    s.signal('SIGTSTP');
    const r = await within(waiting, 5000);
    assert.ok(r !== 'pending' && (r as SimpleResponse).status === 200);
  } finally {
    await s.stop();
  }
});

test('embedding handle: pause(), resume() and the paused getter', async () => {
  const rt = await start({ module: HELLO, 'http-socket': ['127.0.0.1:0'], workers: 2, 'disable-logging': true });
  try {
    const port = rt.addresses[0]!.port!;
    assert.is(rt.paused, false);
    await rt.pause();
    assert.is(rt.paused, true);
    assert.is(rt.state, 'running');
    const waiting = get(port, '/', 15_000);
    assert.is(await within(waiting, 600), 'pending');
    await rt.pause(); // already paused: nothing changes
    await rt.resume();
    assert.is(rt.paused, false);
    const r = await within(waiting, 5000);
    assert.ok(r !== 'pending' && (r as SimpleResponse).status === 200);
  } finally {
    await rt.stop();
  }
});

test.run();
