// Reload and SIGHUP log lines say what happens, when it happens (never "reloaded" before
// it did; a SIGHUP that is ignored says so, as uWSGI ignores it, fifo.md §5), with
// uWSGI's wording for the chain reload; the embedding handle's `state` follows.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { runCli, FIXTURES, ROOT } from './helpers/cli.js';
import { get, sleep } from './helpers/http.js';

test('SIGHUP during a reload and during a shutdown is logged as ignored, not as a reload; "workers reloaded" comes after the old workers are buried', async () => {
  const s = await runCli(['--http-socket', '127.0.0.1:0', '--workers', '2', '--module', path.join(FIXTURES, 'hello.ts')]);
  try {
    s.signal('SIGHUP');
    await s.waitFor(/\.\.\.gracefully reloading 2 workers\.\.\./);
    s.signal('SIGHUP');
    await s.waitFor(/SIGHUP received: ignored, a reload is already running/);
    await s.waitFor(/workers reloaded: 2 of 2 replaced/, 15_000);
    const out = s.output();
    assert.is(out.match(/SIGHUP received: graceful reload/g)?.length, 1, out);
    assert.is(out.match(/gracefully reloading/g)?.length, 1, out);
    const reloaded = out.indexOf('workers reloaded');
    assert.is(out.slice(0, reloaded).match(/worker \d buried after/g)?.length, 2, `both old workers buried before "workers reloaded":\n${out}`);

    await sleep(300); // the reload's promise settles (mules, sharedarea sync)
    const slow = get(s.ports[0]!, '/slow?ms=1500').catch(() => null);
    await sleep(200);
    s.signal('SIGTERM');
    await s.waitFor(/graceful shutdown: finishing in-flight requests/);
    s.signal('SIGHUP');
    await s.waitFor(/SIGHUP received: ignored, the instance is shutting down/);
    assert.is((await slow)?.body, 'slow done 1500');
    assert.is(await s.exited, 0);
    assert.is(s.output().match(/gracefully reloading/g)?.length, 1, 'no reload started during the shutdown');
  } finally {
    await s.stop('SIGKILL');
  }
});

test('embedding handle: state is running → reloading → running, chain reload logs uWSGI\'s lines, stopping → stopped; reloads that cannot run are logged as ignored', async () => {
  const child = spawn(process.execPath, [path.join(FIXTURES, 'embed-reload.mjs')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  clearTimeout(timer);
  assert.is(code, 0, out);
  const states = [...out.matchAll(/^state: (\S+) (\S+)$/gm)].map((m) => `${m[1]}=${m[2]}`);
  assert.equal(states, [
    'started=running', 'reload-called=reloading', 'reload-done=running', 'chain-called=reloading', 'chain-done=running',
    'stop-called=stopping', 'reload-while-stopping=stopping', 'stopped=stopped',
  ], out);
  assert.match(out, /same-promise: true/);
  assert.match(out, /graceful reload ignored: a reload is already running/);
  assert.match(out, /chain reload starting\.\.\.[^]*chain reloading complete/);
  assert.match(out, /graceful reload ignored: the instance is shutting down/);
  // the chain's completion line comes after its last old worker is buried
  const complete = out.indexOf('chain reloading complete');
  const starting = out.indexOf('chain reload starting');
  assert.is(out.slice(starting, complete).match(/worker \d buried after/g)?.length, 2, out);
});

test.run();
