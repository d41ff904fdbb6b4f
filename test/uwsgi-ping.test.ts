// @fallback-too — runs again with UWSGI_TS_NATIVE=0 (reuseport or proxy accept mode).
// uWSGI's ping (modifier1 100 on the uwsgi socket, protocol.md §8): answered with
// `64 00 00 01`, logged with uWSGI's `PING` line, never request-logged or counted.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { runCli, FIXTURES } from './helpers/cli.js';
import { rawRequest } from './helpers/http.js';
import { encodeHeader } from '../src/shared/uwsgi-packet.js';

test('a ping gets the pong, one PING line, no request line, no request counted', async () => {
  const s = await runCli(['--socket', '127.0.0.1:0', '--workers', '1', '--module', path.join(FIXTURES, 'hello.ts')]);
  try {
    const port = s.ports[0]!;
    for (let i = 0; i < 2; i++) assert.is((await rawRequest(port, encodeHeader(100, 0, 0))).toString('hex'), '64000001');
    await s.waitFor(/^PING$[^]*^PING$/m);
    assert.not.match(s.output(), /\[pid: \d+\|app:/, 'a ping writes no request line');
    s.signal('SIGUSR1');
    await s.waitFor(/workers total requests: 0/);
  } finally {
    await s.stop();
  }
});

test.run();
