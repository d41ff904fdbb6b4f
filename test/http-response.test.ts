// The HTTP engine's response (src/worker/http-response.ts) against Node's own: every
// response shape in fixtures/response-shapes.ts is served by both engines
// (--http-engine uwsgi-ts and --http-engine node), and the bytes on the wire and the
// events each response emitted must be the same. This is what keeps the end() fast
// path honest.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { runCli, FIXTURES, type RunningServer } from './helpers/cli.js';
import { rawRequest, get, sleep } from './helpers/http.js';
import { shapes } from './fixtures/response-shapes.js';

const APP = path.join(FIXTURES, 'response-shapes.ts');

let engine: RunningServer;
let node: RunningServer;

test.before(async () => {
  [engine, node] = await Promise.all([
    runCli(['--http-socket', '127.0.0.1:0', '--workers', '1', '--module', APP]),
    runCli(['--http-socket', '127.0.0.1:0', '--workers', '1', '--module', APP, '--http-engine', 'node']),
  ]);
});

test.after(async () => {
  await Promise.all([engine?.stop(), node?.stop()]);
});

/** The bytes a server answers, with the Date header's value blanked (it is the only thing allowed to differ). */
async function wire(server: RunningServer, bytes: string): Promise<string> {
  const raw = (await rawRequest(server.ports[0]!, bytes)).toString('latin1');
  return raw.replace(/^Date: [^\r]*\r$/gim, 'Date: -\r');
}

test('every response shape: the same bytes from the engine as from Node\'s http.Server (keep-alive, then close; GET and HEAD)', async () => {
  assert.ok(shapes.length >= 20, 'the fixture lists its shapes');
  for (const shape of shapes) {
    for (const method of ['GET', 'HEAD']) {
      // the shape on a keep-alive request, then a second request on the same connection asking to close
      const bytes = `${method} ${shape} HTTP/1.1\r\nHost: a\r\n\r\nGET /string HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`;
      const [mine, nodes] = await Promise.all([wire(engine, bytes), wire(node, bytes)]);
      assert.ok(mine.startsWith('HTTP/1.1 '), `${method} ${shape}: got ${JSON.stringify(mine.slice(0, 80))}`);
      assert.is(mine, nodes, `${method} ${shape}`);
    }
  }
});

test('HTTP/1.0 requests: the same bytes from both engines', async () => {
  for (const shape of ['/string', '/buffer-small', '/no-body', '/write-head-length', '/write-head-chunked']) {
    const bytes = `GET ${shape} HTTP/1.0\r\n\r\n`;
    const [mine, nodes] = await Promise.all([wire(engine, bytes), wire(node, bytes)]);
    assert.is(mine, nodes, `HTTP/1.0 ${shape}`);
  }
});

test('every response shape: the same events, in the same order, with the same state (writableEnded, writableFinished, headersSent)', async () => {
  for (const shape of shapes) {
    const seen: string[][] = [];
    for (const server of [engine, node]) {
      const port = server.ports[0]!;
      await get(port, `/events${shape}`);
      let events: string[] = [];
      for (let i = 0; i < 50; i++) {
        events = JSON.parse((await get(port, '/last-events')).body) as string[];
        if (events.includes('close')) break;
        await sleep(10);
      }
      seen.push(events);
    }
    assert.ok(seen[0]!.includes('close'), `${shape}: the response closed (${JSON.stringify(seen[0])})`);
    assert.equal(seen[0], seen[1], `${shape}: engine ${JSON.stringify(seen[0])} vs node ${JSON.stringify(seen[1])}`);
  }
});

test('the servers logged no app error', () => {
  for (const s of [engine, node]) assert.not.match(s.output(), /UWSGI_ERR_APP_ERROR|died/);
});

test.run();
