/**
 * The native helpers as a user sees them, run against whichever implementation is
 * active: the addon normally, the pure-JS fallback under UWSGI_TS_NATIVE=0. Run
 * without that variable, this file also re-runs itself in a child process with
 * UWSGI_TS_NATIVE=0, so one `npx tsx test/native.test.ts` covers both paths.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, constants, existsSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { isUwsgiError } from '../src/shared/errors.js';
import { nativeErrno, nativeKind, nativeUnavailableReason, sockets, waits } from '../src/shared/native.js';

const FORCED_FALLBACK = process.env.UWSGI_TS_NATIVE === '0';
const NATIVE = nativeKind === 'native';
const tag = `[${nativeKind}]`;
const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const addonFile = join(repoRoot, 'native', 'build', 'Release', 'uwsgi_native.node');
const nativeTs = fileURLToPath(new URL('../src/shared/native.ts', import.meta.url));
const tsxCjsApi = createRequire(import.meta.url).resolve('tsx/cjs/api');
const dir = mkdtempSync(join(tmpdir(), 'uwsgi-ts-native-'));

// ---- helpers ----

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

function expectNativeError(fn: () => unknown, message: RegExp): void {
  try {
    fn();
  } catch (e) {
    assert.ok(isUwsgiError(e), `expected a UwsgiError, got ${String(e)}`);
    assert.is((e as { code: string }).code, 'UWSGI_ERR_NATIVE');
    assert.match((e as Error).message, message);
    return;
  }
  assert.unreachable(`expected UWSGI_ERR_NATIVE matching ${message}`);
}

async function expectNativeRejection(p: Promise<unknown>, message: RegExp): Promise<void> {
  try {
    await withTimeout(p, 5000, 'a rejection');
  } catch (e) {
    assert.ok(isUwsgiError(e), `expected a UwsgiError, got ${String(e)}`);
    assert.is((e as { code: string }).code, 'UWSGI_ERR_NATIVE');
    assert.match((e as Error).message, message);
    return;
  }
  assert.unreachable(`expected a rejection matching ${message}`);
}

/**
 * A worker thread that has `waits`, `sockets`, `nativeKind`, `parentPort` and
 * `workerData` in scope (native.ts loaded through tsx's CommonJS hook).
 */
function startWorker(body: string, workerData?: unknown): Worker {
  const prelude =
    `require(${JSON.stringify(tsxCjsApi)}).register();\n` +
    `const { waits, sockets, nativeKind } = require(${JSON.stringify(nativeTs)});\n` +
    `const { parentPort, workerData } = require('node:worker_threads');\n`;
  return new Worker(prelude + body, { eval: true, workerData });
}

function nextMessage(w: Worker, what: string): Promise<unknown> {
  return withTimeout(
    new Promise((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    }),
    10_000,
    what,
  );
}

/** Runs a CommonJS snippet in a child node with native.ts loaded as `native`. */
function runChild(body: string, env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const code = `require(${JSON.stringify(tsxCjsApi)}).register();\nconst native = require(${JSON.stringify(nativeTs)});\n${body}`;
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A FIFO opened read-write and non-blocking (so opening never blocks), with write/drain helpers. */
function fifo(name: string): { fd: number; put(s: string): void; drain(): void } {
  const path = join(dir, name);
  execFileSync('mkfifo', [path]);
  const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
  return {
    fd,
    put: (s) => void writeSync(fd, s),
    drain: () => void readSync(fd, Buffer.alloc(4096)),
  };
}

/** One HTTP-less request: connect, read until the server ends the connection. */
function ask(port: number): Promise<string> {
  return withTimeout(
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      const c = net.connect({ host: '127.0.0.1', port });
      c.on('data', (d: Buffer) => chunks.push(d));
      c.on('end', () => resolve(Buffer.concat(chunks).toString()));
      c.on('error', reject);
    }),
    5000,
    `a request to port ${port}`,
  );
}

const elapsed = (t0: number): number => performance.now() - t0;

// ---- which implementation ----


/** Counts event-loop turns (setImmediate) until stop(), bounded to 1e6: proof that a wait does not block the loop. */
function countLoopTurns(): { readonly turns: number; stop(): void } {
  let turns = 0;
  let spinning = true;
  const spin = (): void => {
    turns++;
    if (spinning && turns < 1_000_000) setImmediate(spin);
  };
  setImmediate(spin);
  return { get turns() { return turns; }, stop() { spinning = false; } };
}

test(`${tag} the addon is used unless disabled, and sockets exist only with it`, () => {
  if (FORCED_FALLBACK) {
    assert.is(nativeKind, 'fallback');
    assert.is(sockets, null);
    assert.match(nativeUnavailableReason() ?? '', /UWSGI_TS_NATIVE=0/);
  } else if (existsSync(addonFile)) {
    assert.is(nativeKind, 'native', `addon present but not loaded: ${nativeUnavailableReason()}`);
    assert.is(nativeUnavailableReason(), null);
    assert.ok(sockets);
  } else {
    assert.is(nativeKind, 'fallback');
    assert.match(nativeUnavailableReason() ?? '', /does not exist/);
  }
});

// ---- millisecond waits ----

test(`${tag} waitMilliseconds blocks for at least the requested time`, () => {
  for (const ms of [0, 1, 5, 20, 0.5]) {
    const t0 = performance.now();
    waits.waitMilliseconds(ms);
    const took = elapsed(t0);
    assert.ok(took >= ms, `waitMilliseconds(${ms}) returned after ${took} ms`);
    assert.ok(took < 2000, `waitMilliseconds(${ms}) took ${took} ms`);
  }
});

test(`${tag} UWSGI_TS_WAIT_SPIN_US=0 (no spin tail) still waits at least the requested time`, () => {
  const r = runChild(`
    for (const ms of [1, 3, 0.5]) {
      const t0 = performance.now();
      native.waits.waitMilliseconds(ms);
      const took = performance.now() - t0;
      if (!(took >= ms)) { console.log('early ' + ms + ' ' + took); process.exit(3); }
    }
    console.log('ok');`, { UWSGI_TS_WAIT_SPIN_US: '0' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^ok$/m);
});

test(`${tag} a malformed UWSGI_TS_WAIT_SPIN_US is an error naming it and echoing the value`, () => {
  const r = runChild(`
    try { native.waits.waitMilliseconds(1); console.log('no error'); }
    catch (e) { console.log(e.code + ' ' + e.message); }`, { UWSGI_TS_WAIT_SPIN_US: '25us' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^UWSGI_ERR_OPTION_VALUE .*UWSGI_TS_WAIT_SPIN_US "25us"/m);
});

test(`${tag} waitMillisecondsAsync resolves after at least the requested time without blocking the loop`, async () => {
  for (const ms of [0, 1, 5, 30]) {
    const loop = countLoopTurns();
    const t0 = performance.now();
    await withTimeout(waits.waitMillisecondsAsync(ms), 2000, `waitMillisecondsAsync(${ms})`);
    const took = elapsed(t0);
    loop.stop();
    assert.ok(took >= ms, `waitMillisecondsAsync(${ms}) resolved after ${took} ms`);
    if (ms >= 5) assert.ok(loop.turns > 1, `the event loop turned ${loop.turns} times during a ${ms} ms wait`);
  }
});

test(`${tag} many concurrent async waits all resolve`, async () => {
  const t0 = performance.now();
  await withTimeout(Promise.all(Array.from({ length: 50 }, (_, i) => waits.waitMillisecondsAsync(1 + (i % 10)))), 5000, '50 waits');
  assert.ok(elapsed(t0) >= 10);
});

test(`${tag} a pending waitMillisecondsAsync keeps a process alive until it resolves`, () => {
  const r = runChild(`native.waits.waitMillisecondsAsync(50).then(() => console.log('resolved'));`);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout.trim(), 'resolved');
});

test(`${tag} process.exit with a pending async wait exits cleanly`, () => {
  const r = runChild(`native.waits.waitMillisecondsAsync(10000); setTimeout(() => process.exit(7), 20);`);
  assert.is(r.status, 7, r.stderr);
});

test(`${tag} waitMilliseconds works in a mule-like worker thread`, async () => {
  const w = startWorker(`
    const t0 = performance.now();
    for (let i = 0; i < 5; i++) waits.waitMilliseconds(2);
    parentPort.postMessage({ kind: nativeKind, took: performance.now() - t0 });
  `);
  const m = (await nextMessage(w, 'worker wait')) as { kind: string; took: number };
  await w.terminate();
  assert.is(m.kind, nativeKind);
  assert.ok(m.took >= 10, `5 waits of 2 ms took ${m.took} ms`);
});

test(`${tag} worker.terminate() interrupts a long blocking wait`, async () => {
  const w = startWorker(`parentPort.postMessage('waiting'); waits.waitMilliseconds(60000); parentPort.postMessage('woke');`);
  assert.is(await nextMessage(w, 'worker start'), 'waiting');
  await waits.waitMillisecondsAsync(20);
  const t0 = performance.now();
  await withTimeout(w.terminate(), 10_000, 'terminate during waitMilliseconds(60000)');
  assert.ok(elapsed(t0) < 10_000);
});

test(`${tag} terminating a worker with pending async waits does not crash the process`, async () => {
  const a = fifo('teardown-a');
  const b = fifo('teardown-b');
  for (let i = 0; i < 5; i++) {
    const w = startWorker(
      `
      waits.waitMillisecondsAsync(10000);
      waits.read2Async(workerData.a, workerData.b, 10000).catch(() => {});
      waits.waitMillisecondsAsync(1).then(() => parentPort.postMessage('pending'));
    `,
      { a: a.fd, b: b.fd },
    );
    assert.is(await nextMessage(w, 'worker with pending waits'), 'pending');
    await withTimeout(w.terminate(), 10_000, 'terminate with pending waits');
  }
  // The main thread still works, and the fds the workers watched are still open.
  a.put('x');
  if (NATIVE) assert.is(waits.read2(a.fd, b.fd, 1000), a.fd);
  a.drain();
  closeSync(a.fd);
  closeSync(b.fd);
});

// ---- read2 ----

if (NATIVE) {
  test(`${tag} read2 returns the fd that has data, fdA first, -1 on timeout`, () => {
    const a = fifo('r2-a');
    const b = fifo('r2-b');
    assert.is(waits.read2(a.fd, b.fd, 0), -1);
    const t0 = performance.now();
    assert.is(waits.read2(a.fd, b.fd, 15), -1);
    assert.ok(elapsed(t0) >= 15);
    b.put('x');
    assert.is(waits.read2(a.fd, b.fd, 1000), b.fd);
    a.put('y');
    assert.is(waits.read2(a.fd, b.fd, 1000), a.fd);
    a.drain();
    assert.is(waits.read2(a.fd, b.fd, 1000), b.fd);
    b.drain();
    assert.is(waits.read2(a.fd, a.fd, 0), -1);
    closeSync(a.fd);
    closeSync(b.fd);
  });

  test(`${tag} worker.terminate() interrupts a long blocking read2`, async () => {
    const a = fifo('r2k-a');
    const b = fifo('r2k-b');
    const w = startWorker(`parentPort.postMessage('waiting'); waits.read2(workerData.a, workerData.b, 60000);`, { a: a.fd, b: b.fd });
    assert.is(await nextMessage(w, 'worker start'), 'waiting');
    await waits.waitMillisecondsAsync(20);
    await withTimeout(w.terminate(), 10_000, 'terminate during read2(a, b, 60000)');
    closeSync(a.fd);
    closeSync(b.fd);
  });

  test(`${tag} read2 wakes when another thread writes`, async () => {
    const a = fifo('r2t-a');
    const b = fifo('r2t-b');
    const w = startWorker(`waits.waitMilliseconds(30); require('node:fs').writeSync(workerData.b, 'z'); parentPort.postMessage('wrote');`, {
      b: b.fd,
    });
    assert.is(waits.read2(a.fd, b.fd, 5000), b.fd);
    await nextMessage(w, 'writer');
    await w.terminate();
    closeSync(a.fd);
    closeSync(b.fd);
  });

  test(`${tag} read2Async resolves with the fd that gets data, without blocking the loop`, async () => {
    const a = fifo('r2a-a');
    const b = fifo('r2a-b');
    assert.is(await waits.read2Async(a.fd, b.fd, 0), -1);
    const loop = countLoopTurns();
    const t0 = performance.now();
    assert.is(await withTimeout(waits.read2Async(a.fd, b.fd, 20), 2000, 'read2Async timeout'), -1);
    loop.stop();
    assert.ok(elapsed(t0) >= 20);
    assert.ok(loop.turns > 1, `the loop turned ${loop.turns} times`);
    setTimeout(() => a.put('x'), 10);
    assert.is(await withTimeout(waits.read2Async(a.fd, b.fd, 5000), 6000, 'read2Async data'), a.fd);
    b.put('y');
    assert.is(await waits.read2Async(a.fd, b.fd, 5000), a.fd);
    a.drain();
    assert.is(await waits.read2Async(a.fd, b.fd, 5000), b.fd);
    b.drain();
    closeSync(a.fd);
    closeSync(b.fd);
  });

  test(`${tag} read2Async works on an fd that a Node socket already watches`, async () => {
    const server = net.createServer((c) => c.end('hello'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const client = net.connect({ host: '127.0.0.1', port });
    await new Promise<void>((r) => client.once('connect', r));
    client.pause();
    const fd = (client as unknown as { _handle: { fd: number } })._handle.fd;
    const other = fifo('r2s-other');
    assert.is(await withTimeout(waits.read2Async(other.fd, fd, 5000), 6000, 'read2Async on a socket'), fd);
    // The socket still reads normally afterwards: nothing was consumed.
    let got = '';
    client.on('data', (d) => (got += d));
    client.resume();
    await withTimeout(new Promise((r) => client.once('end', r)), 5000, 'socket end');
    assert.is(got, 'hello');
    client.end();
    await new Promise<void>((r) => server.close(() => r()));
    closeSync(other.fd);
  });
} else {
  test(`${tag} read2 and read2Async need the addon and say so`, async () => {
    expectNativeError(() => waits.read2(0, 1, 10), /read2\(0, 1, 10\) needs the native addon/);
    await expectNativeRejection(waits.read2Async(0, 1, 10), /read2Async\(0, 1, 10\) needs the native addon/);
  });
}

// ---- sockets ----

if (sockets) {
  const s = sockets;

  test(`${tag} listenTcp on port 0 returns a real port that accepts connections`, async () => {
    const { fd, port } = s.listenTcp('127.0.0.1', 0, 64);
    assert.ok(port > 0 && port < 65536, `port ${port}`);
    const server = net.createServer((c) => c.end('hi'));
    await new Promise<void>((r) => server.listen({ fd }, r));
    assert.is(await ask(port), 'hi');
    await new Promise<void>((r) => server.close(() => r()));
    const second = s.listenTcp('127.0.0.1', port, 64); // SO_REUSEADDR: the port is free again at once
    assert.is(second.port, port);
    s.close(second.fd);
  });

  test(`${tag} two worker threads share one accept queue through dup'd fds, and one retiring leaves the other serving`, async () => {
    const { fd, port } = s.listenTcp('127.0.0.1', 0, 128);
    const fds = [s.dup(fd), s.dup(fd)];
    s.close(fd);
    const body = `
      const net = require('node:net');
      const server = net.createServer((c) => c.end(workerData.name));
      server.listen({ fd: workerData.fd }, () => parentPort.postMessage('listening'));
      parentPort.on('message', (m) => { if (m === 'close') server.close(() => parentPort.postMessage('closed')); });
    `;
    const workers = [startWorker(body, { name: 'A', fd: fds[0] }), startWorker(body, { name: 'B', fd: fds[1] })];
    // Listen on both before awaiting either: a Worker drops messages nobody listens for.
    const listening = workers.map((w) => nextMessage(w, 'listening'));
    try {
      assert.equal(await Promise.all(listening), ['listening', 'listening']);
      const before = new Set<string>();
      for (let i = 0; i < 20; i++) before.add(await ask(port));
      for (const name of before) assert.ok(name === 'A' || name === 'B', `answered by ${name}`);
      workers[0].postMessage('close');
      assert.is(await nextMessage(workers[0], 'close A'), 'closed');
      const after: string[] = [];
      for (let i = 0; i < 30; i++) after.push(await ask(port));
      assert.equal([...new Set(after)], ['B'], 'only B answers once A closed its dup');
      assert.is(after.length, 30);
    } finally {
      await Promise.all(workers.map((w) => w.terminate()));
    }
  });

  test(`${tag} listenTcp binds IPv6 and reports bind errors with errno`, () => {
    const v6 = s.listenTcp('::1', 0, 16);
    assert.ok(v6.port > 0);
    const taken = s.listenTcp('127.0.0.1', 0, 16);
    try {
      s.listenTcp('127.0.0.1', taken.port, 16);
      assert.unreachable('expected EADDRINUSE');
    } catch (e) {
      assert.ok(isUwsgiError(e));
      assert.match((e as Error).message, /native listenTcp\("127\.0\.0\.1", \d+, 16\) failed: bind failed: EADDRINUSE/);
      assert.is(nativeErrno(e), 'EADDRINUSE');
    }
    expectNativeError(() => s.listenTcp('no-such-host.invalid', 0, 16), /listenTcp\("no-such-host\.invalid", 0, 16\) failed: getaddrinfo/);
    s.close(v6.fd);
    s.close(taken.fd);
  });

  test(`${tag} listenUnix serves, replaces only a stale socket file, and supports the abstract namespace`, async () => {
    const path = join(dir, 'app.sock');
    const fd = s.listenUnix(path, 16);
    const server = net.createServer((c) => c.end('unix'));
    await new Promise<void>((r) => server.listen({ fd }, r));
    const answer = await withTimeout(
      new Promise<string>((resolve, reject) => {
        const c = net.connect(path);
        let got = '';
        c.on('data', (d) => (got += d));
        c.on('end', () => resolve(got));
        c.on('error', reject);
      }),
      5000,
      'unix request',
    );
    assert.is(answer, 'unix');
    expectNativeError(() => s.listenUnix(path, 16), /EADDRINUSE.*a server is listening on it/);
    await new Promise<void>((r) => server.close(() => r()));

    // A socket file nobody listens on is stale: replaced.
    const stale = join(dir, 'stale.sock');
    s.close(s.listenUnix(stale, 4));
    assert.ok(existsSync(stale));
    const fresh = s.listenUnix(stale, 4);
    s.close(fresh);

    // A regular file is never removed.
    const regular = join(dir, 'not-a-socket');
    writeFileSync(regular, 'keep me');
    expectNativeError(() => s.listenUnix(regular, 4), /listenUnix\(".*not-a-socket", 4\) failed: bind failed: EADDRINUSE/);
    assert.ok(existsSync(regular));

    const abstractFd = s.listenUnix(`@uwsgi-ts-native-test-${process.pid}`, 4);
    s.close(abstractFd);
  });

  test(`${tag} dup and close report bad fds with errno`, () => {
    const fd = s.dup(0);
    assert.ok(fd > 2);
    s.close(fd);
    expectNativeError(() => s.close(fd), new RegExp(`native close\\(${fd}\\) failed: close failed: EBADF`));
    expectNativeError(() => s.dup(2147483000), /native dup\(2147483000\) failed: .*EBADF/);
  });
}

// ---- argument checks (both implementations) ----

test(`${tag} bad arguments throw UWSGI_ERR_NATIVE naming the argument and echoing the value`, async () => {
  expectNativeError(() => waits.waitMilliseconds(-1), /waitMilliseconds: ms must be .* got -1/);
  expectNativeError(() => waits.waitMilliseconds(Number.NaN), /ms must be .* got NaN/);
  expectNativeError(() => waits.waitMilliseconds(Infinity), /ms must be .* got Infinity/);
  expectNativeError(() => waits.waitMilliseconds('5' as unknown as number), /ms must be .* got "5"/);
  expectNativeError(() => waits.read2(-1, 0, 1), /read2: fdA must be an integer file descriptor >= 0, got -1/);
  expectNativeError(() => waits.read2(0, 1.5, 1), /read2: fdB must be .* got 1\.5/);
  expectNativeError(() => waits.read2(0, 1, -5), /read2: timeoutMs must be .* got -5/);
  await expectNativeRejection(waits.waitMillisecondsAsync(-2), /waitMillisecondsAsync: ms must be .* got -2/);
  await expectNativeRejection(waits.read2Async(0, Number.NaN, 1), /read2Async: fdB must be .* got NaN/);
  if (sockets) {
    expectNativeError(() => sockets!.dup(-3), /native dup: fd must be .* got -3/);
    expectNativeError(() => sockets!.listenTcp('127.0.0.1', 70000, 1), /listenTcp: port must be an integer in \[0, 65535\], got 70000/);
    expectNativeError(() => sockets!.listenTcp(5 as unknown as string, 0, 1), /listenTcp: host must be a string/);
    expectNativeError(() => sockets!.listenUnix('', 1), /listenUnix: path must be a non-empty string/);
    expectNativeError(() => sockets!.listenTcp('127.0.0.1', 0, -1), /listenTcp: backlog must be .* got -1/);
  }
});

// ---- the fallback path, in a child process ----

if (!FORCED_FALLBACK) {
  test('the same suite passes with UWSGI_TS_NATIVE=0 (pure-JS fallback, in a child process)', () => {
    const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
      encoding: 'utf8',
      timeout: 120_000,
      env: { ...process.env, UWSGI_TS_NATIVE: '0' },
    });
    const out = `${r.stdout}\n${r.stderr}`;
    assert.is(r.status, 0, `fallback suite failed:\n${out.slice(-4000)}`);
    assert.match(out, /Passed:\s+\d+/);
  });
}

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
