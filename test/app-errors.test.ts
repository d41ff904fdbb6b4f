// An app error never crashes a worker: a handler that throws synchronously, rejects,
// throws a non-Error, throws after its headers were sent, or a fetch handler that returns
// something other than a Response, gets a 500 (or, once headers are out, a closed
// connection), a log line naming the error, and the worker goes on serving. Through the
// real CLI: both HTTP engines and the uwsgi socket.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { runCli, FIXTURES, type RunningServer } from './helpers/cli.js';
import { rawRequest } from './helpers/http.js';
import { encodeUwsgiPacket } from '../src/shared/uwsgi-packet.js';

const NODE_APP = path.join(FIXTURES, 'app-errors.mjs');
const FETCH_APP = path.join(FIXTURES, 'fetch-errors.mjs');
let own: RunningServer;
let node: RunningServer;
let fetchApp: RunningServer;

test.before(async () => {
  [own, node, fetchApp] = await Promise.all([
    runCli(['--http-socket', '127.0.0.1:0', '--socket', '127.0.0.1:0', '--workers', '1', '--module', NODE_APP]),
    runCli(['--http-socket', '127.0.0.1:0', '--http-engine', 'node', '--workers', '1', '--module', NODE_APP]),
    runCli(['--http-socket', '127.0.0.1:0', '--socket', '127.0.0.1:0', '--workers', '1', '--module', FETCH_APP]),
  ]);
});

test.after(async () => {
  await Promise.all([own?.stop(), node?.stop(), fetchApp?.stop()]);
});

const http = (port: number, p: string): Promise<Buffer> => rawRequest(port, `GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
const uwsgi = (port: number, p: string): Promise<Buffer> => rawRequest(port, encodeUwsgiPacket([['REQUEST_METHOD', 'GET'], ['REQUEST_URI', p], ['PATH_INFO', p], ['SERVER_PROTOCOL', 'HTTP/1.1'], ['HTTP_HOST', 'x']]));

const BEFORE_HEADERS: Array<[path: string, logged: RegExp]> = [
  ['/sync', /\[UWSGI_ERR_APP_ERROR\] worker 1: GET \/sync: Error: boom sync/],
  ['/reject', /\[UWSGI_ERR_APP_ERROR\] worker 1: GET \/reject: TypeError: boom async/],
  ['/throw-string', /\[UWSGI_ERR_APP_ERROR\] worker 1: GET \/throw-string: "a plain string"/],
];
const AFTER_HEADERS: Array<[path: string, logged: RegExp]> = [
  ['/after-headers', /\[UWSGI_ERR_APP_ERROR\] worker 1: GET \/after-headers: Error: boom after headers/],
  ['/after-headers-async', /\[UWSGI_ERR_APP_ERROR\] worker 1: GET \/after-headers-async: Error: boom async after headers/],
];

async function check(s: RunningServer, send: (p: string) => Promise<Buffer>, label: string): Promise<void> {
  for (const [p, logged] of BEFORE_HEADERS) {
    const r = (await send(p)).toString('latin1');
    assert.match(r, /^HTTP\/1\.1 500 Internal Server Error\r\n/, `${label} ${p}`);
    assert.ok(r.endsWith('\r\n\r\nInternal Server Error'), `${label} ${p}: ${JSON.stringify(r)}`);
    await s.waitFor(logged, 5000);
  }
  for (const [p, logged] of AFTER_HEADERS) {
    // the head is out (or was about to be): the response cannot become a 500, the connection closes
    const r = (await send(p)).toString('latin1');
    assert.not.match(r, / 500 /, `${label} ${p}`);
    assert.not.match(r, /\r\n0\r\n\r\n$/, `${label} ${p}: a truncated body must not look complete`);
    await s.waitFor(logged, 5000);
  }
  assert.is((await send('/alive')).toString('latin1').split('\r\n\r\n')[1], 'alive /alive', label);
}

test('own HTTP engine: errors are 500s or closes, logged, and the worker keeps serving', async () => {
  await check(own, (p) => http(own.ports[0]!, p), 'http');
  assert.not.match(own.output(), /UWSGI_ERR_WORKER_CRASH|generation: 2/);
});

test('uwsgi socket: the same', async () => {
  await check(own, (p) => uwsgi(own.ports[1]!, p), 'uwsgi');
  assert.not.match(own.output(), /UWSGI_ERR_WORKER_CRASH|generation: 2/);
});

test('--http-engine node: the same', async () => {
  await check(node, (p) => http(node.ports[0]!, p), 'node');
  assert.not.match(node.output(), /UWSGI_ERR_WORKER_CRASH|generation: 2/);
});

test('fetch handler: a non-Response, undefined, a throw, or a body that fails before it starts give a 500 naming the fault', async () => {
  for (const port of fetchApp.ports) {
    const send = port === fetchApp.ports[0] ? (p: string) => http(port, p) : (p: string) => uwsgi(port, p);
    for (const p of ['/not-response', '/undefined', '/throw', '/stream-error']) {
      assert.match((await send(p)).toString('latin1'), /^HTTP\/1\.1 500 Internal Server Error\r\n/, p);
    }
    assert.is((await send('/ok')).toString('latin1').split('\r\n\r\n')[1], 'alive /ok');
  }
  await fetchApp.waitFor(/\[UWSGI_ERR_APP_ERROR\] worker 1: GET \/not-response: fetch handler returned object, not a Response/);
  await fetchApp.waitFor(/\[UWSGI_ERR_APP_ERROR\] worker 1: GET \/undefined: fetch handler returned undefined, not a Response/);
  await fetchApp.waitFor(/\[UWSGI_ERR_APP_ERROR\] worker 1: GET \/throw: Error: fetch boom/);
  await fetchApp.waitFor(/\[UWSGI_ERR_APP_ERROR\] worker 1: GET \/stream-error: Error: stream boom/);
  assert.not.match(fetchApp.output(), /UWSGI_ERR_WORKER_CRASH|generation: 2/);
});

test.run();
