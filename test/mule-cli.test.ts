// Mules end to end, through the real CLI (node dist/cli.js; run `npm run build` first).
// Every wait is bounded; counts are exact; no timing assertions.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runCli, runCliToExit, type RunningServer } from './helpers/cli.js';
import { request } from './helpers/http.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const APP = 'test/fixtures/mule-app.ts';
const BASE = ['--http-socket', '127.0.0.1:0', '--module', APP, '--sharedarea', '1', '--mule-reload-mercy', '5'];

interface Counts { processed: number; sum: number; perMule: number[]; hooks: number; runs: number; muleId: number }

async function counts(s: RunningServer): Promise<Counts> {
  return JSON.parse((await request(s.ports[0], '/count')).body) as Counts;
}

async function enqueue(s: RunningServer, n: number, to = 'any', job: object = { v: 1 }): Promise<{ accepted: number; refused: number }> {
  const r = await request(s.ports[0], `/enqueue?n=${n}&to=${encodeURIComponent(to)}&job=${encodeURIComponent(JSON.stringify(job))}`);
  assert.is(r.status, 200, r.body);
  return JSON.parse(r.body) as { accepted: number; refused: number };
}

/** Poll /count until `pred` holds (at most ~15 s); returns the last counts. */
async function until(s: RunningServer, pred: (c: Counts) => boolean): Promise<Counts> {
  let c = await counts(s);
  for (let i = 0; i < 300 && !pred(c); i++) {
    await new Promise((r) => setTimeout(r, 50));
    c = await counts(s);
  }
  return c;
}

async function withServer(args: string[], body: (s: RunningServer) => Promise<void>): Promise<void> {
  const s = await runCli([...BASE, ...args]);
  try {
    await body(s);
  } finally {
    await s.stop('SIGTERM', 15_000);
  }
}

test('symcall mule + script-less mule share the "any mule" queue: 1000 sent, 1000 processed once', () => withServer(
  ['--mules', '1', '--mule=worker()'],
  async (s) => {
    await s.waitFor(/spawned uWSGI mule 2 /);
    const r = await enqueue(s, 1000);
    assert.equal(r, { accepted: 1000, refused: 0 });
    const c = await until(s, (x) => x.processed >= 1000);
    assert.is(c.processed, 1000);
    assert.is(c.sum, 1000);
    assert.is(c.perMule[0] + c.perMule[1], 1000);
    assert.is(c.muleId, 0, 'muleId() is 0 in a worker');
  },
));

test('script mule (--mule FILE.ts) reads its own queue; messages to mule 1 reach only it', () => withServer(
  ['--mule=test/fixtures/mule-script.ts', '--mule=worker()'],
  async (s) => {
    await enqueue(s, 300, '1', { v: 2 });
    const c = await until(s, (x) => x.processed >= 300);
    assert.is(c.processed, 300);
    assert.is(c.sum, 600);
    assert.is(c.perMule[0], 300);
    assert.is(c.perMule[1], 0);
  },
));

test('farm: farmMsg goes to the farm members only, spread over both', () => withServer(
  ['--mule=farmWorker()', '--mule=farmWorker()', '--mule=worker()', '--farm', 'pair:1,2'],
  async (s) => {
    await s.waitFor(/created farm 1 name: pair mules:1,2/);
    const r = await enqueue(s, 200, 'pair', { v: 1, sleep: 2 });
    assert.equal(r, { accepted: 200, refused: 0 });
    const c = await until(s, (x) => x.processed >= 200);
    assert.is(c.processed, 200);
    assert.is(c.perMule[0] + c.perMule[1], 200);
    assert.ok(c.perMule[0] > 0 && c.perMule[1] > 0, `both farm members worked: ${c.perMule}`);
    assert.is(c.perMule[2], 0, 'mule 3 is not in the farm');
  },
));

test('crash: the mule is respawned and no queued message is lost (only the one it was processing)', () => withServer(
  ['--mule=worker()'],
  async (s) => {
    await enqueue(s, 200, '1');
    await enqueue(s, 1, '1', { crash: true });
    await enqueue(s, 200, '1');
    const c = await until(s, (x) => x.processed >= 400);
    assert.is(c.processed, 400);
    await s.waitFor(/OOOPS mule 1 \(pid: \d+, thread: \d+\) crippled/);
    await s.waitFor(/spawned uWSGI mule 1 \(pid: \d+, thread: \d+, respawn: 1\)/);
  },
));

test('full queue: muleMsg returns false (never drops silently) and logs; accepted ones are all processed', () => withServer(
  ['--mule=worker()', '--mule-queue-size', '10'],
  async (s) => {
    // The mule takes this one and sleeps on it, so its queue stays unread meanwhile.
    // (Whether it took it yet or not, the queue has room for 9 or 10 of the next 50.)
    await enqueue(s, 1, '1', { v: 1, sleep: 3000 });
    const r = await enqueue(s, 50, '1');
    assert.is(r.accepted + r.refused, 50);
    assert.ok(r.accepted === 9 || r.accepted === 10, JSON.stringify(r));
    await s.waitFor(/\[UWSGI_ERR_MULE_QUEUE_FULL\] \*\*\* MULE MSG QUEUE IS FULL: mule 1 queue holds 1\d messages/);
    const c = await until(s, (x) => x.processed >= 1 + r.accepted);
    assert.is(c.processed, 1 + r.accepted);
  },
));

test('--mule-harakiri: a mule stuck on one message is replaced; later messages are processed', () => withServer(
  ['--mule=worker()', '--mule-harakiri', '1'],
  async (s) => {
    await enqueue(s, 1, '1', { spin: 30_000 });
    await s.waitFor(/\*\*\* HARAKIRI ON MULE 1 \(pid: \d+, thread: \d+\) \*\*\*/, 15_000);
    await enqueue(s, 20, '1');
    const c = await until(s, (x) => x.processed >= 20);
    assert.is(c.processed, 20);
    assert.match(s.output(), /\[UWSGI_ERR_HARAKIRI\] mule 1 busy/);
  },
));

test('--hook-as-mule runs print, exec and call in every mule at every spawn, before the program', () => withServer(
  ['--mules', '2', '--hook-as-mule', 'print:hello from as-mule', '--hook-as-mule', 'exec:echo exec-ran-$((40+2))', '--hook-as-mule', 'call:hookCalled'],
  async (s) => {
    const c = await until(s, (x) => x.hooks >= 2);
    assert.is(c.hooks, 2);
    // the exec'd commands write on their own stdout pipe: wait for both lines to arrive
    await s.waitFor(/^exec-ran-42$[\s\S]*^exec-ran-42$/m, 10_000);
    // the counter can reach 2 before the second mule's log line reaches the output: wait for it too
    await s.waitFor(/running "call:hookCalled" \(as-mule\)[\s\S]*running "call:hookCalled" \(as-mule\)/, 10_000);
    const out = s.output();
    assert.is(out.match(/running "print:hello from as-mule" \(as-mule\)\.\.\./g)?.length, 2);
    assert.is(out.match(/^exec-ran-42$/gm)?.length, 2);
    assert.is(out.match(/running "call:hookCalled" \(as-mule\)/g)?.length, 2);
  },
));

test('reload (SIGHUP): mules stop and come back; messages sent around it are all processed', () => withServer(
  ['--mule=worker()', '--mule=worker()'],
  async (s) => {
    await enqueue(s, 100);
    await until(s, (x) => x.processed >= 100);
    s.signal('SIGHUP');
    await s.waitFor(/mules reloaded/, 15_000);
    await enqueue(s, 100);
    const c = await until(s, (x) => x.processed >= 200);
    assert.is(c.processed, 200);
    assert.match(s.output(), /spawned uWSGI mule 2 \(pid: \d+, thread: \d+, respawn: 1\)/);
  },
));

// Incident: a mule that was ready and ended while another mule was still starting (here
// mule 2's as-mule hook takes 1.5 s) was never respawned: the exit came before start() had
// finished, and the pool dropped it silently.
test('a mule that ends while the other mules are still starting is respawned', () => withServer(
  ['--mule=returnsAtOnce()', '--mule=worker()', '--hook-as-mule', 'call:sleepInMule 2'],
  async (s) => {
    await s.waitFor(/spawned uWSGI mule 1 \(pid: \d+, thread: \d+, respawn: 2\)/, 15_000);
    const c = await until(s, (x) => x.runs >= 3);
    assert.ok(c.runs >= 3, `returnsAtOnce() ran ${c.runs} times`);
    assert.match(s.output(), /OOOPS mule 1 \(pid: \d+, thread: \d+\) crippled \(exit code 30 /);
    // mule 2 got ready meanwhile and works
    await enqueue(s, 10, '2');
    assert.is((await until(s, (x) => x.processed >= 10)).processed, 10);
  },
));

test('shutdown: mules get the stop request and exit cleanly', async () => {
  const s = await runCli([...BASE, '--mule=worker()', '--mules', '1', '--mule=test/fixtures/mule-script.ts']);
  const code = await s.stop('SIGTERM', 15_000);
  assert.is(code, 0);
  const out = s.output();
  for (const id of [1, 2, 3]) assert.match(out, new RegExp(`mule ${id} \\(pid: \\d+, thread: \\d+\\) annihilated`));
  assert.not.match(out, /NO MERCY/);
  assert.not.match(out, /OOOPS/);
  // Incident: muleMessages() ended (MULE_STOP) before muleStopSignal() was aborted, so the
  // script mule's check after its loop threw; the signal is aborted when MULE_STOP is returned.
  assert.not.match(out, /UWSGI_ERR_WORKER_CRASH|loop ended without a stop request/);
});

// Script mules with a syntax error fail the start (before any thread), not a respawn loop after it.
const BAD_DIR = mkdtempSync(path.join(os.tmpdir(), 'uwsgi-ts-mule-bad-'));
const BAD_MJS = path.join(BAD_DIR, 'syntax-error.mjs');
const BAD_TS = path.join(BAD_DIR, 'syntax-error.ts');
writeFileSync(BAD_MJS, 'export const x = ;\n');
writeFileSync(BAD_TS, 'const n: number = ;\n');
const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
test.after(() => rmSync(BAD_DIR, { recursive: true, force: true }));

const BAD: Array<[string[], RegExp]> = [
  [['--mule=nope()'], /\[UWSGI_ERR_MULE_SPEC\].*--mule "nope\(\)".*no exported function "nope"/],
  [['--mule=notAFunction()'], /\[UWSGI_ERR_MULE_SPEC\].*"notAFunction" \(it is number\)/],
  [['--mule=test/fixtures/missing-mule.ts'], /\[UWSGI_ERR_MULE_SPEC\] --mule "test\/fixtures\/missing-mule.ts": no such file/],
  [['--mule=bad name()'], /\[UWSGI_ERR_MULE_SPEC\] --mule "bad name\(\)"/],
  [['--mule=jobs.py'], /\[UWSGI_ERR_MULE_SPEC\] --mule "jobs.py": not a mule program/],
  [['--mules', '1', '--farm', 'nofarm'], /\[UWSGI_ERR_MULE_SPEC\] --farm "nofarm": invalid farm value \(nofarm\) must be in the form name:mule\[,muleN\]\./],
  [['--mules', '1', '--farm', 'f:1,9'], /\[UWSGI_ERR_MULE_ID\] --farm "f:1,9": invalid mule id: "9"/],
  [['--mules', '1', '--hook-as-mule', 'bogus'], /\[UWSGI_ERR_HOOK\] --hook-as-mule "bogus": invalid hook syntax, must be hook:args/],
  [['--mules', '1', '--hook-as-mule', 'frobnicate:x'], /\[UWSGI_ERR_HOOK\] --hook-as-mule "frobnicate:x": hook action not found: "frobnicate"/],
  [['--mules', '2', '--farm', 'a:1', '--farm', 'a:2'], /\[UWSGI_ERR_MULE_SPEC\] --farm "a:2": a farm named "a" is already defined \(by --farm "a:1"\)/],
  [[`--mule=${BAD_MJS}`], new RegExp(`\\[UWSGI_ERR_MULE_SPEC\\] --mule "${esc(BAD_MJS)}": "${esc(BAD_MJS)}" has a syntax error:[\\s\\S]*SyntaxError`)],
  [[`--mule=${BAD_TS}`], new RegExp(`\\[UWSGI_ERR_MULE_SPEC\\] --mule "${esc(BAD_TS)}": "${esc(BAD_TS)}" has a syntax error:[\\s\\S]*Unexpected ";"`)],
  [['--mules', '1', '--hook-as-mule', 'exec:exit 3'], /command "exit 3" exited with non-zero code: 3[\s\S]*FATAL hook failed/],
];

for (const [args, re] of BAD) {
  test(`bad value ${args.join(' ')} → exit 1, message names it`, async () => {
    const r = await runCliToExit([...BASE, ...args], { timeoutMs: 20_000 });
    assert.is(r.code, 1, r.output);
    assert.match(r.output, re);
  });
}

test('--touch-mules-reload: touching the file reloads the mules (workers untouched), and they serve again', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'uwsgi-ts-touch-mules-'));
  const touch = path.join(dir, 'mules.touch');
  writeFileSync(touch, '');
  const s = await runCli([...BASE, '--workers', '1', '--mule=worker()', '--touch-mules-reload', touch]);
  try {
    const { utimesSync } = await import('node:fs');
    const later = new Date(Date.now() + 5000);
    utimesSync(touch, later, later);
    await s.waitFor(/\*\*\* .*mules\.touch has been touched\.\.\. reloading mules \*\*\*/, 5000);
    await s.waitFor(/mules reloaded/, 15_000);
    assert.not.match(s.output(), /spawned uwsgi-ts worker 1 .*generation: 2\)/);
    const before = (await counts(s)).processed;
    assert.is((await enqueue(s, 20)).accepted, 20);
    const c = await until(s, (x) => x.processed >= before + 20);
    assert.is(c.processed, before + 20);
  } finally {
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
