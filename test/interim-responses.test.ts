// 1xx interim responses (writeContinue, writeProcessing, writeEarlyHints) reach HTTP/1.1
// clients and are dropped for HTTP/1.0 clients and on the uwsgi socket (nginx's uwsgi
// module and 1.0 clients would take the first status line as the response). The app's
// callback still runs, and the request log's rsize counts the body only.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { FIXTURES, bothEngines } from './helpers/cli.js';
import { rawRequest } from './helpers/http.js';
import { encodeUwsgiPacket } from '../src/shared/uwsgi-packet.js';

const APP = path.join(FIXTURES, 'interim-app.mjs');
const servers = bothEngines(test, APP);

const statusLines = (raw: Buffer): string[] => raw.toString('latin1').match(/^HTTP\/1\.[01] \d{3}[^\r]*/gm) ?? [];

for (const [engine, srv] of [['uwsgi-ts', () => servers.own], ['node', () => servers.node]] as const) {
  test(`HTTP/1.0 client (${engine} engine): no 1xx, the final response alone; HTTP/1.1: 100, 102, 103 then 200`, async () => {
    const port = srv().ports[0]!;
    const old = await rawRequest(port, 'GET /v10 HTTP/1.0\r\n\r\n');
    assert.equal(statusLines(old), ['HTTP/1.1 200 OK']);
    assert.ok(old.toString('latin1').endsWith('\r\n\r\nfinal'));
    const cur = await rawRequest(port, 'GET /v11 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.equal(statusLines(cur), ['HTTP/1.1 100 Continue', 'HTTP/1.1 102 Processing', 'HTTP/1.1 103 Early Hints', 'HTTP/1.1 200 OK']);
    assert.match(cur.toString('latin1'), /103 Early Hints\r\nLink: <\/style\.css>; rel=preload; as=style\r\n\r\n/);
    await srv().waitFor(/GET \/v11 => generated 5 bytes/);
    assert.match(srv().output(), /GET \/v10 => generated 5 bytes/);
  });
}

test('uwsgi socket: no 1xx whatever SERVER_PROTOCOL says; the final response is the first bytes nginx reads', async () => {
  const raw = await rawRequest(servers.own.ports[1]!, encodeUwsgiPacket([['REQUEST_METHOD', 'GET'], ['REQUEST_URI', '/uw'], ['SERVER_PROTOCOL', 'HTTP/1.1'], ['HTTP_EXPECT', '100-continue']]));
  assert.is(raw.toString('latin1'), 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nfinal');
  await servers.own.waitFor(/GET \/uw => generated 5 bytes/);
});

test.run();
