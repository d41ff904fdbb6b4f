// @fallback-too — `import { start } from 'uwsgi-ts'` runs the same runtime inside a program.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { start } from 'uwsgi-ts';
import { FIXTURES } from './helpers/cli.js';
import { get, sleep } from './helpers/http.js';

test('start() returns a typed handle: addresses, workers, reload, stop', async () => {
  const rt = await start({ module: path.join(FIXTURES, 'hello.ts'), 'http-socket': ['127.0.0.1:0'], workers: 2, 'disable-logging': true });
  try {
    assert.is(rt.addresses.length, 1);
    const port = rt.addresses[0].port!;
    assert.ok(port > 0);
    assert.is(rt.addresses[0].protocol, 'http');
    assert.is(rt.workers().length, 2);
    assert.is((await get(port, '/')).status, 200);
    const before = new Set(rt.workers().map((w) => w.threadId));
    const slow = get(port, '/slow?ms=500');
    await sleep(50);
    await rt.reload();
    assert.is((await slow).body, 'slow done 500');
    const after = rt.workers();
    assert.is(after.length, 2);
    for (const w of after) assert.not.ok(before.has(w.threadId), 'every worker thread was replaced');
    assert.is((await get(port, '/')).status, 200);
  } finally {
    await rt.stop();
  }
  await rt.stopped;
});

test('start() rejects with a coded error for bad options', async () => {
  try {
    await start({ module: path.join(FIXTURES, 'hello.ts'), 'http-socket': ['127.0.0.1:0'], workers: 0 });
    assert.unreachable('should have thrown');
  } catch (e) {
    assert.is((e as { code?: string }).code, 'UWSGI_ERR_OPTION_VALUE');
    assert.match((e as Error).message, /--workers/);
  }
});

test('start() rejects a missing options object and values that are not strings, numbers or booleans (no socket named "[object Object]")', async () => {
  const bad: Array<[unknown, RegExp]> = [
    [undefined, /start\(\) takes an options object, got undefined/],
    [null, /start\(\) takes an options object, got null/],
    [{ module: path.join(FIXTURES, 'hello.ts'), 'http-socket': [{ port: 0 }] }, /invalid value for option --http-socket: .*port.*\(expected a string, number or boolean/],
    [{ module: path.join(FIXTURES, 'hello.ts'), 'http-socket': ['127.0.0.1:0'], workers: { n: 2 } }, /invalid value for option --workers: .*"n/],
    [{ module: path.join(FIXTURES, 'hello.ts'), socket: [() => 0] }, /--socket/],
  ];
  for (const [opts, message] of bad) {
    try {
      const rt = await start(opts as Parameters<typeof start>[0]);
      await rt.stop({ graceful: false });
      assert.unreachable(`start(${String(opts)}) should have thrown`);
    } catch (e) {
      assert.is((e as { code?: string }).code, 'UWSGI_ERR_OPTION_VALUE', String(e));
      assert.match((e as Error).message, message);
    }
  }
});

test.run();

