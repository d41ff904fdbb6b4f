// Edge cases of the mule options and API, through the real CLI (node dist/cli.js; run
// `npm run build` first). Every wait is bounded; every server is stopped.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli, runCliToExit, type RunningServer } from './helpers/cli.js';
import { request } from './helpers/http.js';

const APP = 'test/fixtures/mule-app.ts';
const BASE = ['--http-socket', '127.0.0.1:0', '--module', APP, '--mule-reload-mercy', '5'];
const dir = mkdtempSync(path.join(os.tmpdir(), 'mule-edge-'));
const at = (f: string): string => path.join(dir, f);
mkdirSync(at('dir.mjs'));
writeFileSync(at('notes.txt'), 'not a module\n');
writeFileSync(at('stuck-mule.mjs'), [
  "console.log('edge: stuck mule module loading');",
  'const until = Date.now() + 60_000;',
  'while (Date.now() < until) { /* stuck while loading: the mule never reports ready */ }',
  'export function run() {}',
].join('\n'));
writeFileSync(at('exports.mjs'), [
  'export class Job { run() {} }',
  'export const answer = 42;',
  "export default async function () { console.log('default export ran in mule'); }",
].join('\n'));

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The CLI refuses `args`: exit 1, a coded error line naming what `parts` say, no thread started. */
async function refuses(args: string[], code: string, parts: string[], opts: { threadsMayStart?: boolean } = {}): Promise<string> {
  const r = await runCliToExit([...BASE, ...args]);
  assert.is(r.code, 1, r.output);
  const line = r.output.split('\n').find((l) => l.startsWith('uwsgi-ts: [')) ?? '';
  assert.ok(line.startsWith(`uwsgi-ts: [${code}]`), r.output);
  for (const p of parts) assert.ok(line.includes(p), `${JSON.stringify(line)} should include ${JSON.stringify(p)}`);
  if (!opts.threadsMayStart) assert.not.match(r.output, /spawned/, 'refused before any thread starts');
  assert.not.match(r.output, /^\s+at /m, 'no stack trace');
  return line;
}

test('--mule=DIR (a directory named like a module): coded error, exit 1 before threads', async () => {
  await refuses([`--mule=${at('dir.mjs')}`], 'UWSGI_ERR_MULE_SPEC', [`--mule "${at('dir.mjs')}"`, 'is a directory']);
  await refuses([`--mule=${at('dir.mjs')}:run()`], 'UWSGI_ERR_MULE_SPEC', ['is a directory']);
});

test('--mule=missing file: coded error, exit 1 before threads', async () => {
  await refuses([`--mule=${at('missing.mjs')}`], 'UWSGI_ERR_MULE_SPEC', ['no such file']);
  await refuses([`--mule=${at('missing.mjs')}:run()`], 'UWSGI_ERR_MULE_SPEC', ['no such file']);
});

test('--mule=FILE:fn() with a FILE that is not a module: coded error, exit 1 before threads', async () => {
  await refuses([`--mule=${at('notes.txt')}:fn()`], 'UWSGI_ERR_MULE_SPEC', [`--mule "${at('notes.txt')}:fn()"`, 'not a JavaScript or TypeScript module']);
});

test('--mule=FILE:Class() / FILE:const(): coded error naming the export, exit 1 (found by the first mule)', async () => {
  await refuses([`--mule=${at('exports.mjs')}:Job()`], 'UWSGI_ERR_MULE_SPEC', ['"Job"', 'is a class, not a function'], { threadsMayStart: true });
  await refuses([`--mule=${at('exports.mjs')}:answer`], 'UWSGI_ERR_MULE_SPEC', ['"answer"', 'it is number'], { threadsMayStart: true });
});

test('--mule=FILE:default runs the default export', async () => {
  const s = await runCli([...BASE, `--mule=${at('exports.mjs')}:default`]);
  try {
    await s.waitFor(/default export ran in mule/);
  } finally {
    await s.stop('SIGTERM', 15_000);
  }
  assert.not.match(s.output(), /UWSGI_ERR/);
});

test('--mule job.mjs (a space, not =): the stray argument error hints --mule=job.mjs', async () => {
  await refuses(['--mule', 'job.mjs'], 'UWSGI_ERR_CONFIG_FILE', ['"job.mjs"', 'did you mean --mule=job.mjs?']);
  await refuses(['--mule', 'jobs()'], 'UWSGI_ERR_CONFIG_FILE', ['"jobs()"', 'did you mean --mule=jobs()?']);
  // not after --mule: the usual hint
  const line = await refuses(['--mules', '1', 'job.mjs'], 'UWSGI_ERR_CONFIG_FILE', ['serve it with --module job.mjs']);
  assert.not.match(line, /did you mean/);
});

test('--mule-msg-size above 64 MiB: coded error naming the option and the cap, exit 1 before threads (was a RangeError stack)', async () => {
  await refuses(['--mules', '1', '--mule-msg-size', '1000000000'], 'UWSGI_ERR_OPTION_VALUE',
    ['--mule-msg-size: "1000000000"', 'between 1 and 67108864']);
});

test('timer options above 2147483 s (--mule-harakiri, --mule-reload-mercy, --worker-reload-mercy, --reload-mercy): refused before threads', async () => {
  for (const name of ['mule-harakiri', 'mule-reload-mercy', 'worker-reload-mercy', 'reload-mercy']) {
    await refuses(['--mules', '1', `--${name}`, '3000000'], 'UWSGI_ERR_OPTION_VALUE',
      [`--${name}: "3000000"`, 'between 0 and 2147483', 'JS timers are limited to 2^31−1 ms']);
  }
});

for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  test(`${sig} while a mule is still starting (stuck loading its module): the mule is terminated, exit 0 promptly`, async () => {
    const s = await runCli([...BASE, `--mule=${at('stuck-mule.mjs')}:run`], { noWait: true });
    try {
      await s.waitFor(/edge: stuck mule module loading/);
      const sentAt = Date.now();
      s.signal(sig);
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([s.exited, new Promise((r) => { timer = setTimeout(() => r('still running 8 s after the signal'), 8000); })]);
      clearTimeout(timer);
      assert.is(code, 0, s.output());
      assert.ok(Date.now() - sentAt < 8000);
      assert.match(s.output(), new RegExp(`${sig} received during startup: stopping`));
      assert.match(s.output(), /mule 1 \(pid: \d+, thread: \d+\) annihilated/);
      assert.match(s.output(), /goodbye to uWSGI\./);
      assert.not.match(s.output(), /uwsgi-ts is ready/);
    } finally {
      await s.stop('SIGKILL');
    }
  });
}

test('--worker-reload-mercy 0: the instance starts, and a reload lets an in-flight request finish (uWSGI: killed at the next master cycle)', async () => {
  const s = await runCli(['--http-socket', '127.0.0.1:0', '--module', 'test/fixtures/hello.ts', '--workers', '2', '--worker-reload-mercy', '0']);
  try {
    const slow = request(s.ports[0], '/slow?ms=500');
    await pause(150);
    s.signal('SIGHUP');
    await s.waitFor(/workers reloaded: 2 of 2 replaced/);
    assert.equal(await slow.then((r) => [r.status, r.body]), [200, 'slow done 500']);
    assert.not.match(s.output(), /NO MERCY|UWSGI_ERR_WORKER_CRASH/);
  } finally {
    await s.stop('SIGTERM', 15_000);
  }
});

test('--mules 10000 (or more mules than 256 in all): refused before anything is allocated', async () => {
  await refuses(['--mules', '10000'], 'UWSGI_ERR_OPTION_VALUE', ['--mules: "10000"', 'between 0 and 256']);
  await refuses(['--mules', '200', '--mules', '100'], 'UWSGI_ERR_MULE_SPEC', ['--mules "100"', '300 mules requested, at most 256']);
  await refuses(['--mules', '256', '--mule=jobs()'], 'UWSGI_ERR_MULE_SPEC', ['257 mules requested, at most 256']);
});

const EDGE = ['--http-socket', '127.0.0.1:0', '--module', 'test/fixtures/mule-edge-app.ts', '--mule-reload-mercy', '5'];

async function withEdge(args: string[], body: (s: RunningServer) => Promise<void>): Promise<void> {
  const s = await runCli([...EDGE, ...args]);
  try {
    await body(s);
  } finally {
    await s.stop('SIGTERM', 15_000);
  }
}


test('muleGetMsg({ timeoutMs: 2^33 }) and muleGetMsgSync({ timeout: 1e7 }) wait: no overflow, no early timeout', () => withEdge(
  ['--mule=longWait()', '--mule=longWaitSync()'],
  async (s) => {
    await s.waitFor(/edge: long wait started/);
    await s.waitFor(/edge: long sync wait started/);
    await pause(1500);
    assert.not.match(s.output(), /edge: long (sync )?wait got/, 'still waiting after 1.5 s');
    assert.not.match(s.output(), /TimeoutOverflowWarning/);
    assert.is((await request(s.ports[0], '/send?to=1&v=7')).body, 'true');
    assert.is((await request(s.ports[0], '/send?to=2&v=8')).body, 'true');
    await s.waitFor(/edge: long wait got \{"hello":7\}/);
    await s.waitFor(/edge: long sync wait got \{"hello":8\}/);
    assert.not.match(s.output(), /TimeoutOverflowWarning/);
  },
));

test('--mule-reload-mercy 0: a reload gives the mule one master cycle to finish (uWSGI), not an instant kill', () => withEdge(
  ['--mule=slowStop()', '--mule-reload-mercy', '0'],
  async (s) => {
    await s.waitFor(/edge: slow stopper running/);
    s.signal('SIGHUP');
    await s.waitFor(/mules reloaded/);
    // the mule's console.log travels through its thread's stdout stream: it may follow the master's line
    await s.waitFor(/edge: slow stopper finished cleanly/, 5000);
    assert.not.match(s.output(), /NO MERCY/);
  },
));

test('muleGetMsg / muleGetMsgSync refuse bad options (negative, NaN, wrong types) with a coded error echoing the value', () => withEdge(
  ['--mule=badOptions()'],
  async (s) => {
    await s.waitFor(/edge: bad options done/);
    const out = s.output();
    assert.not.match(out, /accepted/, out);
    for (const how of ['async', 'sync']) {
      assert.match(out, new RegExp(`edge: ${how} timeoutMs -5 refused: \\[UWSGI_ERR_OPTION_VALUE\\] [^\\n]*timeoutMs "-5" must be a number of milliseconds`));
      assert.match(out, new RegExp(`edge: ${how} timeoutMs NaN refused: \\[UWSGI_ERR_OPTION_VALUE\\] [^\\n]*timeoutMs "NaN" must be`));
      assert.match(out, new RegExp(`edge: ${how} timeoutMs "5" refused: \\[UWSGI_ERR_OPTION_VALUE\\] [^\\n]*timeoutMs "5" \\(a string\\) must be`));
      assert.match(out, new RegExp(`edge: ${how} timeout -2 refused: \\[UWSGI_ERR_OPTION_VALUE\\] [^\\n]*timeout "-2" must be a number of seconds`));
      assert.match(out, new RegExp(`edge: ${how} timeout NaN refused: \\[UWSGI_ERR_OPTION_VALUE\\]`));
      assert.match(out, new RegExp(`edge: ${how} timeout "1" refused: \\[UWSGI_ERR_OPTION_VALUE\\]`));
      assert.match(out, new RegExp(`edge: ${how} farms "yes" refused: \\[UWSGI_ERR_OPTION_VALUE\\] [^\\n]*farms "yes" must be true or false`));
      assert.match(out, new RegExp(`edge: ${how} options null refused: \\[UWSGI_ERR_OPTION_VALUE\\] [^\\n]*must be an object`));
      assert.match(out, new RegExp(`edge: ${how} options 5 refused: \\[UWSGI_ERR_OPTION_VALUE\\] [^\\n]*must be an object`));
    }
  },
));

test('muleMsg with a function, a symbol, a cyclic object, a 70-bit bigint: UWSGI_ERR_MULE_MSG_TYPE naming the type; the worker keeps serving', () => withEdge(
  ['--mules', '1'],
  async (s) => {
    const bad = async (what: string): Promise<string> => (await request(s.ports[0], `/bad?what=${what}`)).body;
    assert.match(await bad('function'), /^\[UWSGI_ERR_MULE_MSG_TYPE\] muleMsg\(\): message "\(\) ?=> ?1" cannot travel to a mule: the message is a function/);
    assert.match(await bad('symbol'), /^\[UWSGI_ERR_MULE_MSG_TYPE\] muleMsg\(\): message "Symbol\(job\)" [^\n]*: the message is a symbol Symbol\(job\)/);
    assert.match(await bad('cyclic'), /^\[UWSGI_ERR_MULE_MSG_TYPE\] [^\n]*message\.self is a cyclic object/);
    assert.match(await bad('nested-function'), /^\[UWSGI_ERR_MULE_MSG_TYPE\] [^\n]*message\.done is a function done/);
    assert.match(await bad('nested-symbol'), /^\[UWSGI_ERR_MULE_MSG_TYPE\] [^\n]*message\.tag is a symbol Symbol\(tag\)/);
    assert.match(await bad('bigint'), /^\[UWSGI_ERR_MULE_MSG_TYPE\] [^\n]*the message is a bigint beyond 64 bits/);
    assert.is(await bad('plain'), 'queued true', 'a plain value still travels');
    await s.waitFor(/\*\*\* mule 1 received a message \(object\) \*\*\*/);
    assert.not.match(s.output(), /UWSGI_ERR_WORKER_CRASH|RangeError|Maximum call stack/);
  },
));

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
