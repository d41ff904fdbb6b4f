// Sharedareas across real worker_threads: lock exclusion, atomic counters, wait wake-ups,
// blocking waitSync in a worker, lock misuse inside a worker, dead-holder recovery.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Worker } from 'node:worker_threads';
import {
  attachSharedareas, createSharedareas, parseSharedareaSpec, releaseLocksHeldBy,
  sharedarea as sa, sharedareaStats, type SharedareaInit,
} from '../src/shared/sharedarea.js';

const FIXTURE = new URL('./fixtures/sharedarea-worker.mjs', import.meta.url);
const THREADS = 4;

function fresh(...specs: string[]): SharedareaInit[] {
  const inits = createSharedareas(specs.map((s) => parseSharedareaSpec(s)));
  attachSharedareas(inits);
  return inits;
}

const exits = new WeakMap<Worker, Promise<number>>();

function spawn(inits: SharedareaInit[], task: string, extra: Record<string, unknown> = {}): Worker {
  const w = new Worker(FIXTURE, { workerData: { inits, task, ...extra } });
  exits.set(w, new Promise((resolve) => w.once('exit', resolve)));
  return w;
}

/** Resolve with the first message matching `pred`; reject on error or early exit. */
function message<T>(w: Worker, pred: (m: T) => boolean = () => true): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMsg = (m: T): void => {
      if (pred(m)) {
        cleanup();
        resolve(m);
      }
    };
    const onErr = (e: Error): void => { cleanup(); reject(e); };
    const onExit = (code: number): void => { cleanup(); reject(new Error(`worker exited (${code}) before the expected message`)); };
    const cleanup = (): void => { w.off('message', onMsg); w.off('error', onErr); w.off('exit', onExit); };
    w.on('message', onMsg);
    w.on('error', onErr);
    w.on('exit', onExit);
  });
}

/** The worker's exit code (the listener is attached at spawn, so an early exit is not missed). */
function exited(w: Worker): Promise<number> {
  const p = exits.get(w);
  if (p === undefined) throw new Error('not spawned by spawn()');
  return p;
}

test('N threads × 100k inc64 under wlock: exact totals (incl. a lock-only read-modify-write)', async () => {
  const inits = fresh('1');
  const n = 100_000;
  const ws = Array.from({ length: THREADS }, () => spawn(inits, 'inc-locked', { n }));
  await Promise.all(ws.map((w) => message(w)));
  await Promise.all(ws.map(exited));
  assert.is(sa.read64(0, 0), BigInt(THREADS * n));
  assert.is(sa.read64(0, 8), BigInt(THREADS * n), 'read64+write64 under wlock lost no update');
  assert.is(sharedareaStats()[0].lockHolder, null);
});

test('N threads × 100k unlocked inc64 (atomic), plus unaligned CAS / span-mutex paths: exact', async () => {
  const inits = fresh('1');
  const n = 100_000;
  const m = 20_000;
  sa.write32(0, 90, 0);
  const ws = Array.from({ length: THREADS }, () => spawn(inits, 'inc-free', { n, m }));
  await Promise.all(ws.map((w) => message(w)));
  await Promise.all(ws.map(exited));
  assert.is(sa.read64(0, 0), BigInt(THREADS * n));
  assert.is(sa.read16(0, 61), ((THREADS * m) << 16) >> 16, 'inc16 at an odd position (CAS on the 8-byte word), 16-bit wraparound');
  assert.is(sa.read64(0, 44), BigInt(THREADS * m), 'inc64 straddling two words (span mutex)');
  assert.is(sa.read32(0, 70), THREADS * m, 'inc32 straddling two words (span mutex)');
  assert.is(sa.read32(0, 90), -THREADS * m, 'dec32 unaligned');
});

test('wait() wakes on a write from another thread; returns false on timeout', async () => {
  const inits = fresh('1', '1');
  const before = sharedareaStats()[0].updates;
  const p = sa.wait(0, { timeout: 30 });
  const w = spawn(inits, 'write-once');
  assert.is(await p, true);
  await exited(w);
  assert.is(sa.read8(0, 100), 7);
  assert.ok(sharedareaStats()[0].updates > before);
  assert.is(await sa.wait(1, { freq: 5, timeout: 0.05 }), false);
});

test('waitSync() blocks a worker until another thread writes; times out otherwise', async () => {
  const inits = fresh('1', '1');
  const w = spawn(inits, 'wait-sync');
  await message<{ ready?: boolean }>(w, (m) => m.ready === true);
  const result = message<{ woke?: boolean; timedOut?: boolean }>(w, (m) => m.woke !== undefined);
  let got: { woke?: boolean; timedOut?: boolean } | undefined;
  void result.then((r) => { got = r; });
  // keep writing until the worker reports (it may not be waiting yet at the first write)
  for (let i = 0; i < 3000 && got === undefined; i++) {
    sa.inc8(0, 0);
    await new Promise((r) => setTimeout(r, 10));
  }
  const r = await result;
  assert.is(r.woke, true);
  assert.is(r.timedOut, false);
  await exited(w);
});

test('lock misuse inside a worker throws coded errors instead of deadlocking', async () => {
  const inits = fresh('1');
  const w = spawn(inits, 'misuse');
  const out = await message<Record<string, string>>(w);
  await exited(w);
  assert.equal(out, {
    wlockTwice: 'UWSGI_ERR_SHAREDAREA_LOCK',
    rlockUnderW: 'UWSGI_ERR_SHAREDAREA_LOCK',
    objectUnderW: 'no error',
    unlockFree: 'UWSGI_ERR_SHAREDAREA_LOCK',
    upgrade: 'UWSGI_ERR_SHAREDAREA_LOCK',
    storeUnderR: 'UWSGI_ERR_SHAREDAREA_LOCK',
    loadUnderR: 'no error',
    waitSyncBadId: 'UWSGI_ERR_SHAREDAREA_ID',
  });
  assert.equal(sa.object.load(0, 1000), { a: 1 });
});

test('wlockAsync on the main thread waits for a worker read lock (nested) and gets it after', async () => {
  const inits = fresh('1');
  const flag = new SharedArrayBuffer(4);
  const w = spawn(inits, 'hold-rlock', { flag });
  const { threadId } = await message<{ locked?: boolean; threadId: number }>(w, (m) => m.locked === true);
  assert.equal(sharedareaStats()[0].lockHolder, threadId);
  assert.is(sharedareaStats()[0].lockMode, 'read');
  let acquired = false;
  const p = sa.wlockAsync(0).then(() => { acquired = true; });
  await new Promise((r) => setTimeout(r, 20));
  assert.is(acquired, false, 'the writer must wait while a reader holds the lock');
  Atomics.store(new Int32Array(flag), 0, 1);
  Atomics.notify(new Int32Array(flag), 0);
  await p;
  assert.is(sharedareaStats()[0].lockMode, 'write');
  sa.unlock(0);
  await exited(w);
});

test('dead holder: a terminated thread holding wlock is released by releaseLocksHeldBy()', async () => {
  const inits = fresh('1');
  const flag = new SharedArrayBuffer(4);
  const holder = spawn(inits, 'hold-wlock', { flag });
  const { threadId } = await message<{ locked?: boolean; threadId: number }>(holder, (m) => m.locked === true);
  await holder.terminate(); // harakiri
  const st = sharedareaStats()[0];
  assert.is(st.lockHolder, threadId, 'the dead thread still holds the lock');
  assert.is(st.lockMode, 'write');

  // another thread blocks on the lock until the master releases the dead holder's hold
  const next = spawn(inits, 'wlock-once');
  let acquired = false;
  const got = message<{ acquired?: boolean }>(next).then(() => { acquired = true; });
  await new Promise((r) => setTimeout(r, 50));
  assert.is(acquired, false, 'blocked behind the dead holder');

  const released = releaseLocksHeldBy(threadId);
  assert.equal(released.map((r) => [r.id, r.mode, r.lock]), [[0, 'write', 'sharedarea0']]);
  assert.match(released[0].message, `[deadlock-detector] thread ${threadId} was holding lock sharedarea0`);
  await got;
  await exited(next);
  assert.is(sa.read8(0, 200), 42);
  assert.is(sharedareaStats()[0].lockHolder, null);
  assert.equal(releaseLocksHeldBy(threadId), [], 'nothing left to release');
});

test.run();
