// A fetch app streaming a body to a client that goes away: the ReadableStream is
// cancelled (the app's cancel() runs, with a UWSGI_ERR_CLIENT_GONE reason), the app's
// producer stops, one line names the request, nothing crashes or leaks, and the worker
// keeps serving. Over --http-socket and --socket.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import path from 'node:path';
import { runCli, FIXTURES, type RunningServer } from './helpers/cli.js';
import { get, sleep } from './helpers/http.js';
import { encodeUwsgiPacket } from '../src/shared/uwsgi-packet.js';

let s: RunningServer;

test.before(async () => {
  s = await runCli(['--http-socket', '127.0.0.1:0', '--socket', '127.0.0.1:0', '--workers', '1', '--module', path.join(FIXTURES, 'fetch-stream-gone.mjs')]);
});

test.after(async () => {
  await s?.stop();
});

/** Send `bytes`, read until `atLeast` bytes came, then reset the connection (bounded). */
function readThenLeave(port: number, bytes: Buffer | string, atLeast: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.write(bytes));
    let got = 0;
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`only ${got} bytes came`)); }, 10_000);
    sock.on('data', (c: Buffer) => {
      got += c.length;
      if (got >= atLeast) {
        clearTimeout(timer);
        sock.resetAndDestroy();
        resolve(got);
      }
    });
    sock.on('error', () => { /* the reset above */ });
  });
}

interface Status { started: number; cancelled: number; reasons: string[]; ticksAfterCancel: number }

async function status(): Promise<Status> {
  return JSON.parse((await get(s.ports[0]!, '/status')).body) as Status;
}

async function waitCancelled(n: number): Promise<Status> {
  const until = Date.now() + 5000;
  let st = await status();
  while (st.cancelled < n && Date.now() < until) {
    await sleep(50);
    st = await status();
  }
  return st;
}

test('HTTP client gone mid-stream: the stream is cancelled with UWSGI_ERR_CLIENT_GONE, the producer stops, the worker serves on', async () => {
  await readThenLeave(s.ports[0]!, 'GET /stream HTTP/1.1\r\nHost: x\r\n\r\n', 3000);
  const st = await waitCancelled(1);
  assert.is(st.started, 1);
  assert.is(st.cancelled, 1, 'the app\'s cancel() ran');
  assert.match(st.reasons[0]!, /^UwsgiError: GET \/stream: the client closed the connection after \d+ bytes of a streamed response body$/);
  await s.waitFor(/\[UWSGI_ERR_CLIENT_GONE\] worker 1: GET \/stream: the client closed the connection after \d+ bytes of a streamed response body: the body stream is cancelled/);
  await sleep(200);
  assert.is((await status()).ticksAfterCancel, 0, 'the producer stopped');
});

test('uwsgi client (nginx) gone mid-stream: the same', async () => {
  const pkt = encodeUwsgiPacket([['REQUEST_METHOD', 'GET'], ['REQUEST_URI', '/stream'], ['PATH_INFO', '/stream'], ['SERVER_PROTOCOL', 'HTTP/1.1'], ['HTTP_HOST', 'x']]);
  await readThenLeave(s.ports[1]!, pkt, 3000);
  const st = await waitCancelled(2);
  assert.is(st.started, 2);
  assert.is(st.cancelled, 2);
  await sleep(200);
  assert.is((await status()).ticksAfterCancel, 0);
});

test('many clients gone: every stream cancelled, no crash, the worker still serves', async () => {
  for (let i = 0; i < 10; i++) await readThenLeave(s.ports[0]!, 'GET /stream HTTP/1.1\r\nHost: x\r\n\r\n', 1500);
  const st = await waitCancelled(12);
  assert.is(st.started, 12);
  assert.is(st.cancelled, 12);
  assert.not.match(s.output(), /UWSGI_ERR_WORKER_CRASH|UWSGI_ERR_APP_ERROR|generation: 2/);
});

test.run();
