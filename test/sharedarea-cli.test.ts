// @fallback-too — Sharedareas through the real CLI: workers and a mule share one area,
// locks keep a read-modify-write exact, wait() wakes on another thread's write, and a
// file-backed area survives a graceful restart.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli, FIXTURES } from './helpers/cli.js';
import { get, sleep } from './helpers/http.js';

const APP = path.join(FIXTURES, 'sharedarea-app.ts');
const dir = mkdtempSync(path.join(os.tmpdir(), 'uwsgi-ts-sa-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('two workers and a mule: 100k locked increments each end with the exact total', async () => {
  const s = await runCli(['--http-socket', '127.0.0.1:0', '--workers', '2', '--disable-logging', '--module', APP, '--sharedarea', '1', '--mule=counter()']);
  try {
    const workers = new Set<number>();
    let requests = 0;
    for (let round = 0; round < 10 && workers.size < 2; round++) {
      const rs = await Promise.all([get(s.ports[0], '/inc?n=100000', 60_000), get(s.ports[0], '/inc?n=100000', 60_000)]);
      for (const r of rs) workers.add(JSON.parse(r.body).worker);
      requests += 2;
    }
    assert.is(workers.size, 2, 'both workers took part');
    let state = { total: '0', muleDone: '0' };
    for (let i = 0; i < 200 && state.muleDone !== '1'; i++) {
      state = JSON.parse((await get(s.ports[0], '/read')).body);
      if (state.muleDone !== '1') await sleep(50);
    }
    assert.is(state.muleDone, '1', 'the mule finished its 100k');
    assert.is(state.total, String(100_000 * (requests + 1)));
  } finally {
    await s.stop();
  }
});

test('wait() in one worker wakes on a write from another, and times out without one', async () => {
  const s = await runCli(['--http-socket', '127.0.0.1:0', '--workers', '2', '--disable-logging', '--module', APP, '--sharedarea', '1']);
  try {
    const quiet = JSON.parse((await get(s.ports[0], '/wait?timeout=1')).body);
    assert.is(quiet.changed, false);
    const waiting = get(s.ports[0], '/wait?timeout=10');
    await sleep(300);
    // the waiting worker is busy awaiting; this request reaches the other one (or the same: both work)
    await get(s.ports[0], '/inc?n=1');
    assert.is(JSON.parse((await waiting).body).changed, true);
  } finally {
    await s.stop();
  }
});

test('bad sharedarea calls give coded errors that name the call', async () => {
  const s = await runCli(['--http-socket', '127.0.0.1:0', '--workers', '1', '--disable-logging', '--module', APP, '--sharedarea', '1']);
  try {
    const r = await get(s.ports[0], '/bad');
    assert.match(r.body, /^UWSGI_ERR_SHAREDAREA_ID: .*read64.*7.*no such sharedarea/);
    // a string id (say, straight from a query string) is not "no such sharedarea" when area 0 exists
    const t = await get(s.ports[0], '/bad?string');
    assert.match(t.body, /^UWSGI_ERR_SHAREDAREA_ID: sharedarea\.read64\(id="0"\): the id must be an integer number, not a string/);
  } finally {
    await s.stop();
  }
});

test('the master logs one line per area it creates, as uWSGI does', async () => {
  const file = path.join(dir, 'logged.bin');
  const s = await runCli(['--http-socket', '127.0.0.1:0', '--module', APP, '--sharedarea', '2', '-A', 'size=100', '--sharedarea', `file=${file},size=5000`]);
  try {
    assert.match(s.output(), /sharedarea 0 created \(2 pages, 8192 bytes\)/);
    assert.match(s.output(), /sharedarea 1 created \(1 pages, 4096 bytes\)/);
    assert.ok(s.output().includes(`sharedarea 2 created (2 pages, 5000 bytes, file ${file})`), s.output());
  } finally {
    await s.stop();
  }
});

test('an app gets the native waits from the package: waitMilliseconds, waitMillisecondsAsync, read2', async () => {
  const s = await runCli(['--http-socket', '127.0.0.1:0', '--module', APP, '--sharedarea', '1']);
  try {
    const r = await get(s.ports[0], '/waits');
    assert.is(r.status, 200, r.body);
    const { kind, read2 } = JSON.parse(r.body);
    assert.is(kind, process.env.UWSGI_TS_NATIVE === '0' ? 'fallback' : 'native');
    // read2 needs the addon; the fallback refuses it with a coded error
    assert.is(read2, kind === 'native' ? 'readable' : 'UWSGI_ERR_NATIVE');
  } finally {
    await s.stop();
  }
});

test('a file-backed area is written back on graceful shutdown and read at the next start', async () => {
  const file = path.join(dir, 'area.bin');
  const args = ['--http-socket', '127.0.0.1:0', '--workers', '2', '--disable-logging', '--module', APP, '--sharedarea', '1', '--sharedarea', `file=${file},size=64`];
  const a = await runCli(args);
  assert.is((await get(a.ports[0], '/write?id=1&text=persisted%20state')).body, 'ok');
  a.signal('SIGTERM');
  assert.is(await a.exited, 0);
  assert.is(readFileSync(file).subarray(0, 15).toString(), 'persisted state');
  const b = await runCli(args);
  try {
    assert.is((await get(b.ports[0], '/text?id=1&len=15')).body, 'persisted state');
  } finally {
    await b.stop();
  }
});

test.run();
