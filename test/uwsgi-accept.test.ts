// @fallback-too — runs again with UWSGI_TS_NATIVE=0 (reuseport or proxy accept mode).
// Acceptance regressions for the uwsgi protocol listener (`--socket`) through the real
// CLI and raw packets, checked against what uWSGI 2.0 does (spec protocol.md §5,
// logging.md §3).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { runCli, FIXTURES, type RunningServer } from './helpers/cli.js';
import { rawRequest } from './helpers/http.js';
import { encodeUwsgiPacket, encodeVars, encodeHeader } from '../src/shared/uwsgi-packet.js';

const HELLO = path.join(FIXTURES, 'hello.ts');
const BASE: Array<[string, string]> = [['REQUEST_METHOD', 'POST'], ['REQUEST_URI', '/echo?a=1'], ['SERVER_PROTOCOL', 'HTTP/1.1'], ['REMOTE_ADDR', '10.1.2.3']];

let s: RunningServer;

test.before(async () => {
  s = await runCli(['--socket', '127.0.0.1:0', '--workers', '1', '--limit-post', '100', '--module', HELLO]);
});

test.after(async () => {
  await s?.stop();
});

test('a packet refused after its header (vars parse failure, CONTENT_LENGTH over --limit-post, empty vars) still gets uWSGI\'s request log line (app -1, status 500, or 0 when empty)', async () => {
  const port = s.ports[0];
  // null key after 4 good pairs: uWSGI keeps the pairs parsed so far for the log line
  const nullKey = Buffer.concat([encodeVars(BASE), Buffer.from([0, 0, 1, 0, 0x41])]);
  assert.is((await rawRequest(port, Buffer.concat([encodeHeader(0, nullKey.length, 0), nullKey]))).length, 0);
  await s.waitFor(/uwsgi key cannot be null\. skip this var\./);
  await s.waitFor(new RegExp(`\\[pid: \\d+\\|app: -1\\|req: -1/\\d+\\] 10\\.1\\.2\\.3 \\(\\) \\{8 vars in ${nullKey.length} bytes\\} \\[[^\\]]+\\] POST /echo\\?a=1 => generated 0 bytes in \\d+ msecs \\(HTTP/1\\.1 500\\) 0 headers in 0 bytes \\(0 switches on core 0\\)`));

  const tooBig = encodeUwsgiPacket([...BASE, ['CONTENT_LENGTH', '101']]);
  assert.is((await rawRequest(port, Buffer.concat([tooBig, Buffer.alloc(101, 0x61)]))).length, 0);
  await s.waitFor(/Invalid \(too big\) CONTENT_LENGTH\. skip\./);
  await s.waitFor(new RegExp(`\\|app: -1\\|req: -1/\\d+\\] 10\\.1\\.2\\.3 \\(\\) \\{\\d+ vars in ${tooBig.length - 4} bytes\\} \\[[^\\]]+\\] POST /echo\\?a=1 => generated 0 bytes in \\d+ msecs \\(HTTP/1\\.1 500\\)`));

  assert.is((await rawRequest(port, encodeHeader(0, 0, 0))).length, 0);
  await s.waitFor(/Empty request\. skip\./);
  await s.waitFor(/\|app: -1\|req: -1\/\d+\]  \(\) \{0 vars in 0 bytes\} \[[^\]]+\]   => generated 0 bytes in \d+ msecs \( 0\) 0 headers in 0 bytes/);

  // faults before the request handler (unknown modifier1, datasize over --buffer-size) write no request line
  const before = s.output().split('\n').filter((l) => l.includes('|app: -1|')).length;
  assert.is((await rawRequest(port, encodeUwsgiPacket(BASE, 5))).length, 0);
  assert.is((await rawRequest(port, Buffer.concat([encodeHeader(0, 5000, 0), Buffer.alloc(10)]))).length, 0);
  await s.waitFor(/invalid request block size: 5000 \(max 4096\)\.\.\.skip/);
  assert.is(s.output().split('\n').filter((l) => l.includes('|app: -1|')).length, before);
});

test.run();
