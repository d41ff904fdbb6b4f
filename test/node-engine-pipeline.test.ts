// `--http-engine node`: a request pipelined behind a response that closes the connection
// is never answered (Node drops its queued response without a 'close' event). It must
// not stay "in flight": it is logged, the scoreboard is freed, and a graceful stop does
// not wait out --reload-mercy for it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { runCli, FIXTURES } from './helpers/cli.js';
import { rawRequest } from './helpers/http.js';

test('a pipelined request after a Connection: close response does not hold the graceful stop', async () => {
  const s = await runCli(['--http-socket', '127.0.0.1:0', '--http-engine', 'node', '--workers', '1', '--reload-mercy', '30', '--module', path.join(FIXTURES, 'close-each.mjs')]);
  try {
    const raw = await rawRequest(s.ports[0]!, 'GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /second HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(raw.toString('latin1'), /\r\n\r\nclosing after \/first$/);
    await s.waitFor(/\] GET \/second => generated 0 bytes/, 5000);
    const t0 = Date.now();
    s.signal('SIGTERM');
    const code = await Promise.race([s.exited, new Promise<string>((r) => setTimeout(() => r('still running'), 10_000))]);
    assert.is(code, 0, s.output());
    assert.ok(Date.now() - t0 < 10_000);
    assert.not.match(s.output(), /NO MERCY/);
  } finally {
    await s.stop('SIGKILL');
  }
});

test.run();
