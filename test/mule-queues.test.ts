// Mule queues without the runtime: the ring in one thread, then raw worker_threads as
// producers (workers) and consumers (mules) sharing the master-built buffers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Worker } from 'node:worker_threads';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RingQueue, createMuleQueues, openMuleQueues, ringCapacity, RECORD_OVERHEAD } from '../src/shared/mule-queues.js';
import { attachMuleQueues, muleMsg, farmMsg, muleId, inFarm, muleGetMsg, muleQueueStats } from '../src/shared/mule-api.js';
import { UwsgiError } from '../src/shared/errors.js';

const FIXTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'mule-queue-thread.ts');

function startThread(data: Record<string, unknown>): { worker: Worker; result: Promise<Record<string, unknown>> } {
  const worker = new Worker(`require('tsx/cjs/api').register(); require(${JSON.stringify(FIXTURE)});`, { eval: true, workerData: data });
  const result = new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => { void worker.terminate(); reject(new Error(`thread ${JSON.stringify(data.role)} timed out`)); }, 30_000);
    worker.once('message', (m: Record<string, unknown>) => {
      clearTimeout(timer);
      if (m.error) reject(new Error(String(m.error)));
      else resolve(m);
    });
    worker.once('error', (e) => { clearTimeout(timer); reject(e); });
  });
  return { worker, result };
}

/** Bounded wait until every queue is empty (the consumers have taken everything). */
async function drained(init: ReturnType<typeof createMuleQueues>): Promise<void> {
  const q = openMuleQueues(init);
  const all = [q.shared, ...q.mules, ...q.farms.map((f) => f.queue)];
  for (let n = 0; n < 1000 && !all.every((r) => r.isEmpty()); n++) await new Promise((r) => setTimeout(r, 10));
}

test('ring: FIFO order, wrap-around, exact bytes back', () => {
  const q = new RingQueue(RingQueue.create('t', 256, 1000));
  let next = 0;
  let expect = 0;
  for (let round = 0; round < 200; round++) {
    // Push until full, pop half: the write position wraps many times with odd sizes.
    for (let k = 0; k < 50; k++) {
      const len = (next * 7) % 61;
      const payload = Buffer.alloc(len, next & 0xff);
      if (!q.push(3, payload)) break;
      next++;
    }
    for (let k = 0; k < 3; k++) {
      const r = q.pop();
      if (!r) break;
      assert.is(r.kind, 3);
      assert.is(r.payload.length, (expect * 7) % 61);
      assert.ok(r.payload.every((b) => b === (expect & 0xff)));
      expect++;
    }
  }
  while (q.pop()) expect++;
  assert.is(expect, next);
  assert.ok(q.isEmpty());
  assert.is(q.size, 0);
});

test('ring: full by count and by bytes; refused pushes change nothing', () => {
  const byCount = new RingQueue(RingQueue.create('c', 1024, 3));
  assert.ok(byCount.push(0, Buffer.from('a')));
  assert.ok(byCount.push(0, Buffer.from('b')));
  assert.ok(byCount.push(0, Buffer.from('c')));
  assert.not.ok(byCount.push(0, Buffer.from('d')));
  assert.is(byCount.stats().rejected, 1);
  assert.is(byCount.pop()!.payload.toString(), 'a');
  assert.ok(byCount.push(0, Buffer.from('d')));

  const byBytes = new RingQueue(RingQueue.create('b', 128, 100));
  assert.ok(byBytes.push(0, Buffer.alloc(56)));
  assert.ok(byBytes.push(0, Buffer.alloc(56)));
  assert.not.ok(byBytes.push(0, Buffer.alloc(1)));
  assert.is(byBytes.stats().bytes, 128);
  assert.is(byBytes.size, 2);
});

test('ring capacity: room for the queue size at 1 KiB, at least two maximum messages, a power of two', () => {
  assert.is(ringCapacity(65536, 1024), 1 << 20);
  assert.ok(ringCapacity(1 << 20, 4) >= 2 * ((1 << 20) + RECORD_OVERHEAD));
  const c = ringCapacity(1000, 10);
  assert.is(c & (c - 1), 0);
});

test('repair: a lock left by a dead holder is released and the count rebuilt', () => {
  const init = RingQueue.create('r', 256, 10);
  const q = new RingQueue(init);
  q.push(0, Buffer.from('x'));
  q.push(0, Buffer.from('y'));
  const h = new Int32Array(init.buffer, 0, 48);
  const P_LOCK = 16, SENT = 18, C_LOCK = 32, RECEIVED = 34;
  // Thread 41 terminated inside push(): sender lock held, TAIL committed, SENT not yet updated.
  Atomics.store(h, P_LOCK, 42);
  Atomics.store(h, SENT, 1);
  assert.equal(q.lockState().owner, 42);
  assert.is(q.repair(99), -1, 'not the owner: untouched');
  assert.is(q.repair(42), 41);
  assert.is(q.size, 2);
  assert.is(q.lockState().owner, 0);
  // Thread 51 terminated inside pop(): reader lock held, HEAD committed, RECEIVED not yet updated.
  const other = new RingQueue(init);
  assert.is(other.pop()!.payload.toString(), 'x');
  Atomics.store(h, C_LOCK, 52);
  Atomics.store(h, RECEIVED, 0);
  assert.is(q.size, 2, 'the counter lags the ring by one');
  assert.is(q.repair(52), 51);
  assert.is(q.size, 1);
  assert.is(q.pop()!.payload.toString(), 'y');
  assert.ok(q.push(0, Buffer.from('z')), 'both locks free again');
  assert.is(other.pop()!.payload.toString(), 'z');
});

test('the mule wait knobs reject malformed values, naming the variable and echoing the value', () => {
  const api = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'shared', 'mule-api.ts');
  for (const [name, value] of [['UWSGI_TS_MULE_BLOCK', 'yes'], ['UWSGI_TS_MULE_SPIN_US', '15us']]) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', `import(${JSON.stringify(api)}).then(() => console.log('loaded'), (e) => console.log(e.code + ' ' + e.message))`], {
      encoding: 'utf8', timeout: 20_000, env: { ...process.env, [name]: value },
    });
    assert.match(r.stdout, new RegExp(`^UWSGI_ERR_OPTION_VALUE ${name} "${value}"`, 'm'), r.stdout + r.stderr);
  }
});

test('API outside mules: ids, errors name the bad value', () => {
  attachMuleQueues(null);
  assert.is(muleId(), 0);
  assert.throws(() => muleMsg('x'), (e: unknown) => e instanceof UwsgiError && e.code === 'UWSGI_ERR_MULE_ID' && /no mule configured/.test(e.message));
  attachMuleQueues(createMuleQueues({ count: 2, msgSize: 100, maxMessages: 4, farms: [{ name: 'f', members: [2] }] }));
  assert.throws(() => muleMsg('x', 3), (e: unknown) => e instanceof UwsgiError && e.code === 'UWSGI_ERR_MULE_ID' && /invalid mule number "3"/.test(e.message));
  assert.throws(() => muleMsg('x', -1), (e: unknown) => e instanceof UwsgiError && /"-1"/.test(e.message));
  assert.throws(() => farmMsg('nope', 'x'), (e: unknown) => e instanceof UwsgiError && /unknown farm "nope"/.test(e.message));
  assert.throws(() => muleMsg('x'.repeat(101), 1, { throwOnFull: true }), (e: unknown) => e instanceof UwsgiError && e.code === 'UWSGI_ERR_MULE_MSG_SIZE');
  assert.is(muleMsg('x'.repeat(101), 1), false, 'too long: false, not thrown');
  for (let i = 0; i < 4; i++) assert.ok(muleMsg(`m${i}`, 1));
  assert.is(muleMsg('m4', 1), false, 'full by count');
  assert.throws(() => muleMsg('m4', 1, { throwOnFull: true }), (e: unknown) => e instanceof UwsgiError && e.code === 'UWSGI_ERR_MULE_QUEUE_FULL');
  assert.is(inFarm('f'), false);
  const stats1 = muleQueueStats().find((s) => s.name === 'mule 1 queue')!;
  assert.is(stats1.queued, 4);
  assert.is(stats1.rejected, 4, 'two too long, two full: every refusal counts');
  return muleGetMsg().then(() => assert.unreachable('must throw'), (e: unknown) => {
    assert.ok(e instanceof UwsgiError && e.code === 'UWSGI_ERR_NOT_IN_MULE');
  });
});

test('threads: 3 producers × 3000 messages to the shared queue, 2 async mules + 1 sync mule: each delivered exactly once', async () => {
  const init = createMuleQueues({ count: 3, msgSize: 1024, maxMessages: 64, farms: [] });
  const consumers = [
    startThread({ role: 'mule', id: 1, init }),
    startThread({ role: 'mule', id: 2, init }),
    startThread({ role: 'sync-mule', id: 3, init }),
  ];
  const producers = [1, 2, 3].map((id) => startThread({ role: 'producer', id, init, count: 3000, target: 0 }));
  const done = await Promise.all(producers.map((p) => p.result));
  assert.ok(done.every((d) => d.done));
  await drained(init);
  const q = openMuleQueues(init);
  for (let id = 1; id <= 3; id++) q.board.requestStop(id);
  const results = await Promise.all(consumers.map((c) => c.result));
  const seen = new Set<string>();
  let total = 0;
  for (const r of results) {
    assert.is(r.end, 'stop');
    for (const m of r.got as Array<{ p: number; i: number }>) {
      const key = `${m.p}:${m.i}`;
      assert.not.ok(seen.has(key), `duplicate ${key}`);
      seen.add(key);
      total++;
    }
  }
  assert.is(total, 9000);
  // FIFO per producer within one consumer.
  for (const r of results) {
    const last = new Map<number, number>();
    for (const m of r.got as Array<{ p: number; i: number }>) {
      assert.ok((last.get(m.p) ?? -1) < m.i, 'per-producer order kept');
      last.set(m.p, m.i);
    }
  }
  await Promise.all([...consumers, ...producers].map((t) => t.worker.terminate()));
});

test('threads: an idle mule blocks in the kernel, a mule with a running timer waits in its event loop; both get every message', async () => {
  // Room for all 100 messages per mule: a thread that starts late (a loaded machine) must not turn this into a queue-full test.
  const init = createMuleQueues({ count: 2, msgSize: 1024, maxMessages: 128, farms: [] });
  const idle = startThread({ role: 'mule', id: 1, init });
  const ticking = startThread({ role: 'ticking-mule', id: 2, init });
  // Let both park before the messages come, then feed each with pauses so they park again.
  for (let round = 0; round < 5; round++) {
    await new Promise((r) => setTimeout(r, 40));
    for (let i = 0; i < 20; i++) {
      assert.ok(muleMsgFrom(init, { r: round, i }, 1));
      assert.ok(muleMsgFrom(init, { r: round, i }, 2));
    }
  }
  await drained(init);
  // The stop arrives while both are parked: the blocked one is woken by its doorbell.
  await new Promise((r) => setTimeout(r, 40));
  const q = openMuleQueues(init);
  q.board.requestStop(1);
  q.board.requestStop(2);
  const [a, b] = await Promise.all([idle.result, ticking.result]);
  assert.is(a.end, 'stop');
  assert.is(b.end, 'stop');
  assert.is((a.got as unknown[]).length, 100);
  assert.is((b.got as unknown[]).length, 100);
  // The last wait (≥ 40 ms before the stop) saw the 1 ms interval run: the loop was not blocked.
  assert.ok((b.maxTicksWhileWaiting as number) >= 5, `interval ticks during a wait: ${String(b.maxTicksWhileWaiting)}`);
  await Promise.all([idle.worker.terminate(), ticking.worker.terminate()]);
});

/** Send from this (test) thread as a worker would. */
function muleMsgFrom(init: ReturnType<typeof createMuleQueues>, m: unknown, target: number): boolean {
  attachMuleQueues(init);
  return muleMsg(m, target);
}

test('threads: own queues and a farm: messages reach only their targets', async () => {
  const init = createMuleQueues({ count: 3, msgSize: 1024, maxMessages: 1024, farms: [{ name: 'pair', members: [2, 3] }] });
  const m1 = startThread({ role: 'mule', id: 1, init });
  const m2 = startThread({ role: 'farm-mule', id: 2, init });
  const m3 = startThread({ role: 'farm-mule', id: 3, init });
  const p1 = startThread({ role: 'producer', id: 1, init, count: 500, target: 1 });
  const p2 = startThread({ role: 'producer', id: 2, init, count: 800, target: 'pair' });
  await Promise.all([p1.result, p2.result]);
  await drained(init);
  const q = openMuleQueues(init);
  for (let id = 1; id <= 3; id++) q.board.requestStop(id);
  const [r1, r2, r3] = await Promise.all([m1.result, m2.result, m3.result]);
  const got1 = r1.got as Array<{ p: number }>;
  const got2 = r2.got as Array<{ p: number }>;
  const got3 = r3.got as Array<{ p: number }>;
  assert.is(got1.length, 500);
  assert.ok(got1.every((m) => m.p === 1));
  assert.is(got2.length + got3.length, 800);
  assert.ok([...got2, ...got3].every((m) => m.p === 2));
  await Promise.all([m1, m2, m3, p1, p2].map((t) => t.worker.terminate()));
});

test('threads: a queue fills while no mule reads, and drains to a mule started later (nothing lost)', async () => {
  const init = createMuleQueues({ count: 1, msgSize: 64, maxMessages: 100, farms: [] });
  attachMuleQueues(init);
  let accepted = 0;
  for (let i = 0; i < 150; i++) if (muleMsg({ i }, 1)) accepted++;
  assert.is(accepted, 100);
  const m = startThread({ role: 'mule', id: 1, init });
  // The mule reads everything, then the stop word ends its loop.
  await drained(init);
  const q = openMuleQueues(init);
  q.board.requestStop(1);
  const r = await m.result;
  assert.equal((r.got as Array<{ i: number }>).map((x) => x.i), Array.from({ length: 100 }, (_, i) => i));
  await m.worker.terminate();
});

test('threads: messages decoded in place in the mule are copies (bytes, long strings, msgpack binaries), the ring slots being reused after', async () => {
  const init = createMuleQueues({ count: 1, msgSize: 16384, maxMessages: 8, farms: [] });
  attachMuleQueues(init);
  const long = 'é€x'.repeat(2000);
  const bin = Buffer.alloc(300, 7);
  const mule = startThread({ role: 'mule', id: 1, init });
  const sent: unknown[] = [];
  for (let i = 0; i < 60; i++) {
    const m = i % 3 === 0 ? Buffer.alloc(100 + i, i) : i % 3 === 1 ? `${long}${i}` : { i, s: long, b: bin, n: [1, 2.5, null] };
    const t0 = Date.now();
    while (!muleMsg(m, 1)) {
      if (Date.now() - t0 > 10_000) throw new Error('queue stayed full');
      await new Promise((r) => setTimeout(r, 1));
    }
    sent.push(m);
  }
  await drained(init);
  openMuleQueues(init).board.requestStop(1);
  const r = await mule.result;
  const got = r.got as unknown[];
  assert.is(got.length, 60);
  for (let i = 0; i < 60; i++) {
    const g = got[i];
    const e = sent[i];
    if (e instanceof Uint8Array) assert.equal(Buffer.from(g as Uint8Array), e);
    else if (typeof e === 'string') assert.is(g, e);
    else {
      const o = g as { i: number; s: string; b: Uint8Array; n: unknown[] };
      assert.is(o.i, i);
      assert.is(o.s, long);
      assert.equal(Buffer.from(o.b), bin);
      assert.equal(o.n, [1, 2.5, null]);
    }
  }
  await mule.worker.terminate();
});

test('threads: 4 producers × 5000 messages into one mule queue (sender lock contended) while the mule reads: each exactly once, in per-producer order, within 20 s', async () => {
  const init = createMuleQueues({ count: 1, msgSize: 256, maxMessages: 32, farms: [] });
  const t0 = Date.now();
  const mule = startThread({ role: 'mule', id: 1, init });
  const producers = [1, 2, 3, 4].map((id) => startThread({ role: 'producer', id, init, count: 5000, target: 1 }));
  const done = await Promise.all(producers.map((p) => p.result));
  assert.ok(done.some((d) => (d.full as number) > 0), 'the queue was full at times (bounded: producers saw false)');
  await drained(init);
  openMuleQueues(init).board.requestStop(1);
  const r = await mule.result;
  assert.ok(Date.now() - t0 < 20_000);
  const got = r.got as Array<{ p: number; i: number }>;
  assert.is(got.length, 20000);
  const last = new Map<number, number>();
  for (const m of got) {
    assert.is(m.i, (last.get(m.p) ?? -1) + 1, `producer ${m.p}: exactly once, in order`);
    last.set(m.p, m.i);
  }
  const s = openMuleQueues(init).mules[0].stats();
  assert.is(s.queued, 0);
  assert.is(s.sent, 20000);
  assert.is(s.received, 20000);
  await Promise.all([mule, ...producers].map((t) => t.worker.terminate()));
});

test.run();
