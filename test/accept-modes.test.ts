// @fallback-too — every accept mode this Node can run, forced with --accept-mode, and a
// clear startup error for the ones it cannot.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { runCli, runCliToExit, FIXTURES } from './helpers/cli.js';
import { get, sleep } from './helpers/http.js';

const HELLO = path.join(FIXTURES, 'hello.ts');
const [major, minor] = process.versions.node.split('.').map(Number);
const hasReusePort = major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
const hasAddon = process.env.UWSGI_TS_NATIVE !== '0';

async function servesFromBoth(mode: string): Promise<void> {
  const s = await runCli(['--http-socket', '127.0.0.1:0', '--workers', '2', '--disable-logging', '--accept-mode', mode, '--module', HELLO]);
  try {
    assert.match(s.output(), new RegExp(`accept mode ${mode}`));
    const threads = new Set<string>();
    for (let round = 0; round < 20 && threads.size < 2; round++) {
      const rs = await Promise.all(Array.from({ length: 8 }, () => get(s.ports[0], '/slow?ms=20')));
      rs.forEach((r) => assert.is(r.status, 200));
      const hs = await Promise.all(Array.from({ length: 8 }, () => get(s.ports[0], '/')));
      hs.forEach((r) => threads.add(String(r.headers['x-thread'])));
    }
    assert.is(threads.size, 2, `${mode}: both workers answered`);
    // a crashed worker is replaced and the listener keeps answering
    await get(s.ports[0], '/crash');
    await s.waitFor(/spawned uwsgi-ts worker \d .*generation: 2\)/);
    await sleep(200);
    let ok = 0;
    for (let i = 0; i < 20; i++) if ((await get(s.ports[0], '/').catch(() => null))?.status === 200) ok++;
    if (mode === 'reuseport') assert.ok(ok >= 15, `reuseport: ${ok}/20 answered after a crash`);
    else assert.is(ok, 20);
  } finally {
    await s.stop();
  }
}

test('proxy mode serves from every worker and survives a crash', () => servesFromBoth('proxy'));

if (hasAddon) {
  test('dup mode serves from every worker and survives a crash', () => servesFromBoth('dup'));
} else {
  test('dup mode without the addon is a clear startup error', async () => {
    const r = await runCliToExit(['--http-socket', '127.0.0.1:0', '--accept-mode', 'dup', '--module', HELLO]);
    assert.is(r.code, 1);
    assert.match(r.output, /\[UWSGI_ERR_OPTION_VALUE\] --accept-mode dup for "127\.0\.0\.1:0" needs the native addon/);
  });
}

if (hasReusePort) {
  test('reuseport mode serves from every worker, and warns about queued connections on retire', async () => {
    await servesFromBoth('reuseport');
  });
} else {
  test('reuseport mode on a Node without SO_REUSEPORT support is a clear startup error', async () => {
    const r = await runCliToExit(['--http-socket', '127.0.0.1:0', '--accept-mode', 'reuseport', '--module', HELLO]);
    assert.is(r.code, 1);
    assert.match(r.output, /--accept-mode reuseport needs Node >= 22\.12/);
  });
}

test.run();
