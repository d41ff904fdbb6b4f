// Headers and the first body chunk leave in ONE write syscall (the 1.9.21 writev seed
// item), for res.end(body), for a streamed first res.write(), and on the uwsgi-protocol
// path. Counted with strace on the real CLI.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { runCli, CLI, FIXTURES } from './helpers/cli.js';
import { get, sleep } from './helpers/http.js';
import { encodeUwsgiPacket } from '../src/shared/uwsgi-packet.js';

const STRACE = ['/usr/bin/strace', '/bin/strace'].find((p) => existsSync(p));
const dir = mkdtempSync(path.join(os.tmpdir(), 'uwsgi-ts-strace-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

/** Syscall lines (write/writev/sendmsg…) that carry a response status line. */
function responseWrites(trace: string): string[] {
  return trace.split('\n').filter((l) => /\b(write|writev|sendmsg|sendto|pwritev2?)\(/.test(l) && l.includes('HTTP/1.1 200 OK'));
}
/** Every syscall line that writes `needle`. */
function writesOf(trace: string, needle: string): string[] {
  return trace.split('\n').filter((l) => /\b(write|writev|sendmsg|sendto|pwritev2?)\(/.test(l) && l.includes(needle));
}

test('one write syscall per small response: res.end(), first res.write(), uwsgi protocol', async () => {
  assert.ok(STRACE, 'strace is installed (.ci/run installs it)');
  const ok = spawnSync(STRACE!, ['-o', '/dev/null', 'true']);
  assert.is(ok.status, 0, `strace cannot trace here: ${ok.stderr}`);
  const out = path.join(dir, 'trace');
  // Run the CLI under strace: the "CLI" is strace, which runs node dist/cli.js.
  const s = await runCli(['--http-socket', '127.0.0.1:0', '--socket', '127.0.0.1:0', '--workers', '1', '--disable-logging', '--module', path.join(FIXTURES, 'hello.ts')], {
    wrapper: [STRACE!, '-f', '-qq', '-s', '256', '-e', 'trace=write,writev,sendmsg,sendto', '-o', out, process.execPath, CLI],
    readyTimeoutMs: 60_000,
  });
  try {
    for (let i = 0; i < 3; i++) {
      const r = await get(s.ports[0], '/', 20_000);
      assert.is(r.status, 200);
    }
    const st = await get(s.ports[0], '/stream', 20_000);
    assert.is(st.body, 'first;second');
    const u = await new Promise<string>((resolve, reject) => {
      const c = net.connect(s.ports[1], '127.0.0.1', () => c.write(encodeUwsgiPacket([['REQUEST_METHOD', 'GET'], ['REQUEST_URI', '/uwsgi-path'], ['SERVER_PROTOCOL', 'HTTP/1.1']])));
      let b = '';
      c.on('data', (d) => (b += d));
      c.on('close', () => resolve(b));
      c.on('error', reject);
    });
    assert.match(u, /hello from thread/);
    await sleep(300);
  } finally {
    // Signal node itself (strace would detach on SIGTERM and leave it running); strace exits with it.
    const pid = Number(/\(pid: (\d+),/.exec(s.output())?.[1]);
    if (pid > 0) process.kill(pid, 'SIGTERM');
    await Promise.race([s.exited, sleep(10_000)]);
    await s.stop('SIGKILL');
    if (pid > 0) try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
  }
  const trace = readFileSync(out, 'utf8');
  const heads = responseWrites(trace);
  assert.is(heads.length, 5, `expected 5 response heads, saw:\n${heads.join('\n')}`);
  // every head went out in the same syscall as its first body chunk
  const hello = writesOf(trace, 'hello from thread');
  assert.is(hello.length, 4, hello.join('\n'));
  for (const l of hello) assert.ok(l.includes('HTTP/1.1 200 OK'), `body written without its head: ${l}`);
  const first = writesOf(trace, 'first;');
  assert.is(first.length, 1);
  assert.ok(first[0].includes('HTTP/1.1 200 OK'), `streamed first chunk written apart from the head: ${first[0]}`);
});

test.run();
