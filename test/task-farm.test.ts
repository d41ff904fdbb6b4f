// Task farms (--task-farm, runInFarm) end to end through the real CLI (node dist/cli.js;
// run `npm run build` first), plus the embedding API in this process and the option parser.
// Every wait is bounded; counts and values are exact; no timing assertions.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import path from 'node:path';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { start, runInFarm, runInFarmWith, taskFarmStats, type TaskFarmStats, type UwsgiError } from 'uwsgi-ts';
import { runCli, runCliToExit, FIXTURES, type RunningServer } from './helpers/cli.js';
import { request } from './helpers/http.js';
import { parseTaskFarm, parseTaskFarms } from '../src/master/task-farm-spec.js';

const APP = 'test/fixtures/task-app.ts';
const TASKS = 'test/fixtures/tasks.ts';
const BASE = ['--http-socket', '127.0.0.1:0', '--module', APP, '--workers', '2', '--sharedarea', '1', '--disable-logging'];
const FARMS = [
  '--task-farm', `name=calc,file=${TASKS},threads=2`,
  '--task-farm', 'js:test/fixtures/tasks.mjs',
  '--task-farm', `name=one,file=${TASKS},threads=1,queue=1`,
];

interface RunResult { ok: boolean; value?: unknown; code?: string; message?: string; causeName?: string; causeMessage?: string }

async function run(s: RunningServer, fn: string, args: unknown[] = [], extra = ''): Promise<RunResult> {
  const r = await request(s.ports[0], `/run?fn=${fn}&args=${encodeURIComponent(JSON.stringify(args))}${extra}`, { timeoutMs: 20_000 });
  assert.is(r.status, 200, r.body);
  return JSON.parse(r.body) as RunResult;
}

const tmp = mkdtempSync(path.join(tmpdir(), 'uwsgi-ts-task-farm-'));

// One instance serves the tests that do not stop or reload it.
let shared: RunningServer | undefined;
async function server(): Promise<RunningServer> {
  shared ??= await runCli([...BASE, ...FARMS, '--mule=farmMule()', '--mule-reload-mercy', '5']);
  return shared;
}

test('startup logs each farm with its module functions; a .ts task module loads', async () => {
  const s = await server();
  await s.waitFor(/created task farm 1 name: calc threads: 2 queue: 1000 module: \S+tasks\.ts \(functions: add, bytes, fail, returnsFunction, sleep, slowWrite, spin, square, taskThreadId\)/);
  await s.waitFor(/created task farm 2 name: js threads: 2 queue: 1000 module: \S+tasks\.mjs \(functions: greet\)/);
  await s.waitFor(/uwsgi-ts is ready: 2 workers, 1 mule, 3 task farms accepting/);
});

test('a worker endpoint returns runInFarm results: 200 concurrent requests, every value exact', async () => {
  const s = await server();
  const n = 200;
  const results = await Promise.all(Array.from({ length: n }, (_, i) => run(s, 'square', [i])));
  for (let i = 0; i < n; i++) assert.equal(results[i], { ok: true, value: { n: i, square: i * i } });
  assert.equal(await run(s, 'greet', ['bob'], '&farm=js'), { ok: true, value: 'hello bob' });
});

test('a mule calls runInFarm: result, a task error with its cause, an unknown farm', async () => {
  const s = await server();
  let m = { add: 0, sawFailure: 0, sawUnknown: 0 };
  for (let i = 0; i < 300 && m.sawUnknown === 0; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 50));
    m = JSON.parse((await request(s.ports[0], '/mule')).body) as typeof m;
  }
  assert.equal(m, { add: 42, sawFailure: 1, sawUnknown: 1 });
});

test('a task that throws rejects with its message, farm and function; the pool keeps serving', async () => {
  const s = await server();
  const r = await run(s, 'fail', ['boom']);
  assert.is(r.code, 'UWSGI_ERR_TASK_FAILED');
  assert.is(r.message, 'runInFarm("calc", "fail"): the task threw TypeError: boom');
  assert.is(r.causeName, 'TypeError');
  assert.is(r.causeMessage, 'boom');
  const after = await Promise.all(Array.from({ length: 20 }, (_, i) => run(s, 'add', [i, 1])));
  after.forEach((x, i) => assert.equal(x, { ok: true, value: i + 1 }));
});

// Incident: a result that cannot be cloned was reported as "the task thread failed: [object Object]".
test('a task whose result cannot be cloned rejects with a message that says so; the pool keeps serving', async () => {
  const s = await server();
  const r = await run(s, 'returnsFunction');
  assert.is(r.code, 'UWSGI_ERR_TASK_FAILED');
  assert.match(r.message!, /^runInFarm\("calc", "returnsFunction"\): the task thread failed with an error that could not cross threads \(it arrived as (?:"\{\}"|an Error with no message)\): most likely the task's result cannot be structured-cloned/, r.message);
  assert.not.match(r.message!, /\[object Object\]/);
  const after = await Promise.all(Array.from({ length: 10 }, (_, i) => run(s, 'add', [i, 1])));
  after.forEach((x, i) => assert.equal(x, { ok: true, value: i + 1 }));
});

test('unknown farm, missing export and a non-function export are coded errors naming them', async () => {
  const s = await server();
  const unknown = await run(s, 'add', [1, 2], '&farm=nope');
  assert.is(unknown.code, 'UWSGI_ERR_TASK_FARM');
  assert.is(unknown.message, 'runInFarm("nope", "add"): no task farm named "nope" (task farms: calc, js, one)');
  const missing = await run(s, 'nope');
  assert.is(missing.code, 'UWSGI_ERR_TASK_FARM');
  assert.match(missing.message!, /^runInFarm\("calc", "nope"\): "\S+tasks\.ts" has no exported function "nope" \(exported functions: add, bytes, fail, /);
  const notFn = await run(s, 'notAFunction');
  assert.is(notFn.code, 'UWSGI_ERR_TASK_FARM');
  assert.match(notFn.message!, /has no exported function "notAFunction" \(it is number\)/);
});

test('a full farm refuses with UWSGI_ERR_TASK_FARM_FULL (1 running + queue=1 waiting admitted, 3 refused), never silently', async () => {
  const s = await server();
  const r = JSON.parse((await request(s.ports[0], '/fill?farm=one&n=5&ms=3000', { timeoutMs: 20_000 })).body) as { fulfilled: number; codes: string[]; message: string };
  assert.is(r.fulfilled, 2);
  assert.equal(r.codes, ['UWSGI_ERR_TASK_FARM_FULL', 'UWSGI_ERR_TASK_FARM_FULL', 'UWSGI_ERR_TASK_FARM_FULL']);
  assert.is(r.message, 'runInFarm("one", "sleep"): task farm "one" is full: 1 running and 1 waiting (--task-farm queue=1); the task was not queued');
  const stats = JSON.parse((await request(s.ports[0], '/stats')).body) as TaskFarmStats[];
  const one = stats.find((f) => f.name === 'one')!;
  assert.is(one.rejected, 3);
  assert.is(one.completed, 2);
  assert.is(one.inFlight, 0);
  assert.is(one.maxThreads, 1);
  assert.is(one.maxQueue, 1);
});

test('timeoutMs: a stuck task rejects with UWSGI_ERR_TASK_TIMEOUT, its thread is replaced, the farm keeps serving', async () => {
  const s = await server();
  const r = await run(s, 'spin', [30_000], '&timeout=300');
  assert.is(r.code, 'UWSGI_ERR_TASK_TIMEOUT');
  assert.is(r.message, 'runInFarm("calc", "spin"): no result within timeoutMs 300');
  // Both threads answer again (the spinning one was terminated and replaced).
  const after = await Promise.all(Array.from({ length: 10 }, (_, i) => run(s, 'add', [i, i])));
  after.forEach((x, i) => assert.equal(x, { ok: true, value: 2 * i }));
  const stats = JSON.parse((await request(s.ports[0], '/stats')).body) as TaskFarmStats[];
  assert.is(stats.find((f) => f.name === 'calc')!.threads, 2);
});

test('stop the shared instance', async () => {
  if (shared) assert.is(await shared.stop('SIGTERM', 15_000), 0);
  shared = undefined;
});

test('graceful shutdown lets an in-flight task finish before the pools are destroyed', async () => {
  const file = path.join(tmp, 'shutdown.txt');
  const s = await runCli([...BASE, '--task-farm', `calc:${TASKS}`]);
  try {
    const r = await request(s.ports[0], `/fire?file=${encodeURIComponent(file)}&ms=1500`);
    assert.is(r.status, 200);
    assert.not.ok(existsSync(file), 'the task is still running');
    const code = await s.stop('SIGTERM', 20_000);
    assert.is(code, 0, s.output());
    assert.is(readFileSync(file, 'utf8'), 'task finished');
    const out = s.output();
    assert.match(out, /task farms: waiting for 1 in-flight task\(s\) \(calc\), at most --reload-mercy 60 s\.\.\./);
    assert.match(out, /task farms: in-flight tasks finished[\s\S]*task farm calc stopped \(1 tasks completed\)/);
  } finally {
    await s.stop('SIGKILL');
  }
});

test('a worker reload (SIGHUP) does not restart the pools: a running task finishes, new workers reach the farm', async () => {
  const file = path.join(tmp, 'reload.txt');
  const s = await runCli([...BASE, '--task-farm', `calc:${TASKS}`]);
  try {
    await request(s.ports[0], `/fire?file=${encodeURIComponent(file)}&ms=1500`);
    s.signal('SIGHUP');
    await s.waitFor(/workers reloaded: 2 of 2 replaced/, 20_000);
    assert.equal(await run(s, 'add', [2, 3]), { ok: true, value: 5 });
    // Poll the content, not the file's existence: writeFileSync creates the file before it writes (CI caught '' once).
    const content = (): string => (existsSync(file) ? readFileSync(file, 'utf8') : '');
    for (let i = 0; i < 200 && content() !== 'task finished'; i++) await new Promise((r) => setTimeout(r, 50));
    assert.is(content(), 'task finished');
    assert.is(s.output().match(/created task farm 1 /g)?.length, 1, 'the pool was created once');
    const stats = JSON.parse((await request(s.ports[0], '/stats')).body) as TaskFarmStats[];
    assert.is(stats[0].completed, 2);
  } finally {
    await s.stop('SIGTERM', 15_000);
  }
});

test('embedding: runInFarm in the master thread goes straight to the pool; signal and stats', async () => {
  const rt = await start({
    module: path.join(FIXTURES, 'hello.ts'), 'http-socket': ['127.0.0.1:0'], 'disable-logging': true,
    'task-farm': [`name=calc,file=${path.join(FIXTURES, 'tasks.ts')},threads=1`],
  });
  try {
    assert.is(await runInFarm<number>('calc', 'add', 40, 2), 42);
    const big = await runInFarm<Uint8Array>('calc', 'bytes', 100_000);
    assert.is(big.length, 100_000);
    assert.is(big[99_999], 7);
    const ac = new AbortController();
    const pending = runInFarmWith('calc', 'sleep', [30_000], { signal: ac.signal });
    ac.abort(new Error('user gave up'));
    try {
      await pending;
      assert.unreachable('aborted');
    } catch (e) {
      assert.is((e as UwsgiError).code, 'UWSGI_ERR_TASK_ABORTED');
      assert.is((e as Error).message, 'runInFarm("calc", "sleep"): aborted by its signal (user gave up)');
    }
    try {
      await runInFarmWith('calc', 'add', [1, 2], { timeoutMs: -1 });
      assert.unreachable('bad timeout');
    } catch (e) {
      assert.is((e as UwsgiError).code, 'UWSGI_ERR_TASK_FARM');
      assert.match((e as Error).message, /timeoutMs must be a positive number of milliseconds up to 2147483647 \(24.8 days\), got "-1"/);
    }
    for (const t of [NaN, 0, 2 ** 31, 1e12, Infinity, '100']) {
      try {
        await runInFarmWith('calc', 'add', [1, 2], { timeoutMs: t as number });
        assert.unreachable(`timeoutMs ${String(t)} accepted`);
      } catch (e) {
        assert.is((e as UwsgiError).code, 'UWSGI_ERR_TASK_FARM', String(e));
        assert.match((e as Error).message, /^runInFarm\("calc", "add"\): timeoutMs must be a positive number of milliseconds up to 2147483647/);
      }
    }
    assert.is(await runInFarmWith<number>('calc', 'add', [2, 3], { timeoutMs: 2 ** 31 - 1 }), 5, 'the longest timer works (no instant timeout)');
    assert.is(await runInFarm<number>('calc', 'add', 1, 1), 2);
    const [calc] = await taskFarmStats();
    assert.is(calc.name, 'calc');
    assert.is(calc.completed, 5); // add, bytes, the aborted sleep, add (2^31-1 timeout), add
    assert.is(calc.threads, 1);
  } finally {
    await rt.stop();
  }
  try {
    await runInFarm('calc', 'add', 1, 2);
    assert.unreachable('stopped');
  } catch (e) {
    assert.is((e as UwsgiError).code, 'UWSGI_ERR_TASK_FARM');
    assert.match((e as Error).message, /no task farm is configured in this/);
  }
  assert.equal(await taskFarmStats(), []);
});

test('parser: keyval and short forms, defaults', () => {
  const cwd = path.resolve(FIXTURES, '..', '..');
  assert.equal(parseTaskFarm(`calc:${TASKS}`, cwd), { value: `calc:${TASKS}`, name: 'calc', file: path.join(cwd, TASKS), threads: 2, queue: 1000 });
  assert.equal(parseTaskFarm(`name=a,file=${TASKS},threads=4,queue=0`, cwd), { value: `name=a,file=${TASKS},threads=4,queue=0`, name: 'a', file: path.join(cwd, TASKS), threads: 4, queue: 0 });
  assert.is(parseTaskFarms([`a:${TASKS}`, `b:${TASKS}`], cwd).length, 2);
});

const BAD: Array<[string[], RegExp]> = [
  [['--task-farm', 'calc'], /\[UWSGI_ERR_TASK_FARM\] --task-farm "calc": give name=NAME,file=FILE\[,threads=N\]\[,queue=N\] or NAME:FILE/],
  [['--task-farm', `name=calc,file=${TASKS},threads=0`], /\[UWSGI_ERR_TASK_FARM\] --task-farm "name=calc,file=test\/fixtures\/tasks.ts,threads=0": threads="0" must be a whole number from 1 to 256/],
  [['--task-farm', `name=calc,file=${TASKS},queue=-1`], /\[UWSGI_ERR_TASK_FARM\] --task-farm "[^"]+": queue="-1" must be a whole number from 0 to 1000000/],
  [['--task-farm', `name=calc,file=${TASKS},threads=two`], /\[UWSGI_ERR_TASK_FARM\] --task-farm "[^"]+": threads="two" must be a whole number/],
  [['--task-farm', `name=calc,file=${TASKS},colour=red`], /\[UWSGI_ERR_TASK_FARM\] --task-farm "[^"]+": unknown key "colour" \(keys: name, file, threads, queue\)/],
  [['--task-farm', `file=${TASKS}`], /\[UWSGI_ERR_TASK_FARM\] --task-farm "file=test\/fixtures\/tasks.ts": no name= given/],
  [['--task-farm', 'name=calc'], /\[UWSGI_ERR_TASK_FARM\] --task-farm "name=calc": no file= given/],
  [['--task-farm', 'calc:test/fixtures/missing-tasks.ts'], /\[UWSGI_ERR_TASK_FARM\] --task-farm "calc:test\/fixtures\/missing-tasks.ts": no such file "\/\S+\/test\/fixtures\/missing-tasks.ts"/],
  [['--task-farm', 'calc:tasks.py'], /\[UWSGI_ERR_TASK_FARM\] --task-farm "calc:tasks.py": file "tasks.py" is not a \.js\/\.mjs\/\.cjs\/\.ts\/\.mts\/\.cts module/],
  [['--task-farm', 'bad name:x.ts'], /\[UWSGI_ERR_TASK_FARM\] --task-farm "bad name:x.ts": name "bad name" must be 1-64 characters/],
  [['--task-farm', `calc:${TASKS}`, '--task-farm', 'calc:test/fixtures/tasks.mjs'], /\[UWSGI_ERR_TASK_FARM\] --task-farm "calc:test\/fixtures\/tasks.mjs": a task farm named "calc" is already defined \(by --task-farm "calc:test\/fixtures\/tasks.ts"\)/],
  [['--task-farm', 'boom:test/fixtures/throws-on-load.ts'], /\[UWSGI_ERR_TASK_FARM\] --task-farm "boom:test\/fixtures\/throws-on-load.ts": task farm "boom": module "\/\S+throws-on-load.ts" failed to load: [\s\S]*this app fails at load time/],
];

for (const [args, re] of BAD) {
  test(`bad value ${args.join(' ')} → exit 1, message names it`, async () => {
    const r = await runCliToExit([...BASE, ...args], { timeoutMs: 20_000 });
    assert.is(r.code, 1, r.output);
    assert.match(r.output, re);
    if (!/throws-on-load/.test(args.join(' '))) assert.not.match(r.output, /spawned|created task farm/, 'no thread started');
  });
}

test.after(() => {
  rmSync(tmp, { recursive: true, force: true });
});

test.run();
