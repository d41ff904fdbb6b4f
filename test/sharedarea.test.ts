// The sharedarea API on the main thread: every call's happy path and its coded errors,
// memoryview zero-copy, msgpackr objects, counters, file backing round trip.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  attachSharedareas, createSharedareas, parseSharedareaSpec, releaseLocksHeldBy,
  sharedarea as sa, sharedareaStats, syncSharedareaFiles, type SharedareaInit,
} from '../src/shared/sharedarea.js';

function fresh(...specs: string[]): SharedareaInit[] {
  const inits = createSharedareas(specs.map((s) => parseSharedareaSpec(s)));
  attachSharedareas(inits);
  return inits;
}

function code(fn: () => unknown, expected: string, re?: RegExp): void {
  try {
    fn();
  } catch (e) {
    assert.is((e as { code?: string }).code, expected, (e as Error).message);
    if (re) assert.match((e as Error).message, re);
    return;
  }
  assert.unreachable(`expected ${expected}`);
}

async function codeAsync(fn: () => Promise<unknown>, expected: string): Promise<void> {
  try {
    await fn();
  } catch (e) {
    assert.is((e as { code?: string }).code, expected, (e as Error).message);
    return;
  }
  assert.unreachable(`expected ${expected}`);
}

const bad = <T>(v: unknown): T => v as T; // pass deliberately mistyped arguments

test('no areas attached → NOT_READY; count() is 0', () => {
  attachSharedareas([]);
  assert.is(sa.count(), 0);
  code(() => sa.read64(0, 0), 'UWSGI_ERR_SHAREDAREA_NOT_READY', /no sharedareas are attached/);
  code(() => sa.memoryview(0), 'UWSGI_ERR_SHAREDAREA_NOT_READY');
});

test('count, size, memoryview is zero-copy both ways', () => {
  fresh('1', 'size=0x2000');
  assert.is(sa.count(), 2);
  assert.is(sa.size(0), 4096);
  assert.is(sa.size(1), 8192);
  const v = sa.memoryview(1);
  assert.ok(v instanceof Uint8Array);
  assert.is(v.length, 8192);
  v[10] = 0x7f;
  assert.is(sa.read8(1, 10), 0x7f, 'a write through the view is seen by read');
  sa.write8(1, 11, 5);
  assert.is(v[11], 5, 'an API write is seen through the view');
  assert.is(sa.memoryview(1), v, 'the same view every time');
});

test('read / write byte ranges, strings, len 0 = to the end, hits/updates counters', () => {
  fresh('1');
  const s0 = sharedareaStats()[0];
  sa.write(0, 4090, new Uint8Array([1, 2, 3]));
  assert.equal([...sa.read(0, 4090, 3)], [1, 2, 3]);
  assert.is(sa.read(0, 4090).length, 6, 'len omitted → to the end');
  assert.is(sa.read(0, 4090, 0).length, 6);
  sa.write(0, 0, 'héllo');
  assert.is(Buffer.from(sa.read(0, 0, 6)).toString('utf8'), 'héllo');
  sa.write(0, 4095, new Uint8Array(0)); // empty data allowed when pos <= max_pos
  const copy = sa.read(0, 0, 2);
  copy[0] = 0;
  assert.is(sa.read8(0, 0), 'h'.charCodeAt(0), 'read returns a copy');
  const s1 = sharedareaStats()[0];
  assert.is(s1.updates - s0.updates, 3);
  assert.is(s1.hits - s0.hits, 6);
});

test('read / write errors', () => {
  fresh('1');
  code(() => sa.read(0, 4096), 'UWSGI_ERR_SHAREDAREA_RANGE', /pos="4096"/);
  code(() => sa.read(0, 4000, 97), 'UWSGI_ERR_SHAREDAREA_RANGE');
  code(() => sa.read(0, -1), 'UWSGI_ERR_SHAREDAREA_RANGE');
  code(() => sa.read(0, 1.5), 'UWSGI_ERR_SHAREDAREA_ARG', /integer/);
  code(() => sa.read(0, bad('0')), 'UWSGI_ERR_SHAREDAREA_ARG');
  code(() => sa.read(0, 0, -1), 'UWSGI_ERR_SHAREDAREA_ARG', /len "-1"/);
  code(() => sa.read(1, 0), 'UWSGI_ERR_SHAREDAREA_ID', /id="1".*ids 0\.\.0/);
  code(() => sa.read(-1, 0), 'UWSGI_ERR_SHAREDAREA_ID');
  code(() => sa.read(bad('0'), 0), 'UWSGI_ERR_SHAREDAREA_ID');
  code(() => sa.write(0, 4095, new Uint8Array(2)), 'UWSGI_ERR_SHAREDAREA_RANGE', /2 byte\(s\)/);
  code(() => sa.write(0, 4096, new Uint8Array(0)), 'UWSGI_ERR_SHAREDAREA_RANGE');
  code(() => sa.write(0, 0, bad([1, 2])), 'UWSGI_ERR_SHAREDAREA_ARG', /data .* is not a Uint8Array/);
  code(() => sa.write(0, 4094, 'abc'), 'UWSGI_ERR_SHAREDAREA_RANGE');
});

test('word calls: little-endian, signed reads, wraparound, aliases', () => {
  fresh('1');
  sa.write8(0, 0, 255);
  assert.is(sa.read8(0, 0), -1, 'byte 0xff reads back signed');
  assert.is(sa.readbyte(0, 0), -1);
  sa.writebyte(0, 1, -128);
  assert.is(sa.read8(0, 1), -128);
  sa.write16(0, 2, 0x1234);
  assert.equal([...sa.read(0, 2, 2)], [0x34, 0x12]);
  sa.write16(0, 2, 65535);
  assert.is(sa.read16(0, 2), -1);
  sa.write32(0, 4, 4000000000);
  assert.is(sa.read32(0, 4), -294967296, 'as uWSGI (observed)');
  sa.write64(0, 8, 2n ** 64n - 1n);
  assert.is(sa.read64(0, 8), -1n);
  sa.writelong(0, 16, 0x0102030405060708n);
  assert.equal([...sa.read(0, 16, 8)], [8, 7, 6, 5, 4, 3, 2, 1]);
  assert.is(sa.readlong(0, 16), 0x0102030405060708n);
  sa.write8(0, 24, 127);
  // inc/dec return the new value, signed, as the read of the same width returns it
  assert.is(sa.inc8(0, 24), -128, 'inc8 returns the wrapped new value');
  assert.is(sa.read8(0, 24), -128, 'inc8 wraps');
  assert.is(sa.dec8(0, 24, 2), 126);
  assert.is(sa.read8(0, 24), 126);
  assert.is(sa.inc16(0, 26, 300), 300);
  assert.is(sa.dec16(0, 26), 299);
  assert.is(sa.read16(0, 26), 299);
  assert.is(sa.inc32(0, 28, 5), 5);
  assert.is(sa.dec32(0, 28, 7), -2);
  assert.is(sa.read32(0, 28), -2);
  assert.is(sa.inc64(0, 32), 1n);
  assert.is(sa.inc64(0, 32, 41n), 42n);
  assert.is(sa.inclong(0, 32), 43n);
  assert.is(sa.dec64(0, 32, 50n), -7n);
  assert.is(sa.read64(0, 32), -7n);
  sa.write64(0, 40, 2n ** 63n - 1n);
  assert.is(sa.inc64(0, 40), -(2n ** 63n), 'inc64 returns the wrapped new value');
  assert.is(sa.read64(0, 40), -(2n ** 63n), 'inc64 wraps');
  assert.is(sa.inc64(0, 40, 2n ** 64n - 1n), 2n ** 63n - 1n, 'an unsigned 64-bit amount wraps like -1');
  // last valid positions (uWSGI's 4-byte inc64 check is fixed: 8 bytes)
  sa.inc64(0, 4088);
  code(() => sa.inc64(0, 4089), 'UWSGI_ERR_SHAREDAREA_RANGE');
  sa.read32(0, 4092);
  code(() => sa.read32(0, 4093), 'UWSGI_ERR_SHAREDAREA_RANGE');
  sa.read16(0, 4094);
  code(() => sa.write16(0, 4095, 1), 'UWSGI_ERR_SHAREDAREA_RANGE');
  sa.read8(0, 4095);
  code(() => sa.read8(0, 4096), 'UWSGI_ERR_SHAREDAREA_RANGE');
});

test('unaligned word calls (CAS on the containing word, span mutex across words)', () => {
  fresh('1');
  const v = sa.memoryview(0);
  sa.write64(0, 3, 0x1122334455667788n); // spans words 0 and 1
  assert.equal([...v.subarray(3, 11)], [0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11]);
  assert.is(v[2], 0);
  assert.is(v[11], 0);
  assert.is(sa.read64(0, 3), 0x1122334455667788n);
  assert.is(sa.inc64(0, 3, 0x100n), 0x1122334455667888n);
  assert.is(sa.read64(0, 3), 0x1122334455667888n);
  sa.write64(0, 3, -1n);
  assert.is(sa.inc64(0, 3), 0n);
  assert.is(sa.read64(0, 3), 0n, 'carry propagates across the word boundary');
  sa.write16(0, 17, -2); // inside one word
  assert.is(sa.read16(0, 17), -2);
  assert.is(sa.read8(0, 18), -1);
  assert.is(sa.inc16(0, 17, 3), 1);
  assert.is(sa.read16(0, 17), 1);
  sa.write16(0, 23, 0x0102); // straddles words 2 and 3
  assert.equal([...v.subarray(23, 25)], [0x02, 0x01]);
  assert.is(sa.dec16(0, 23, 0x0103), -1);
  assert.is(sa.read16(0, 23), -1);
  sa.write32(0, 33, 0xdeadbeef); // inside word 4
  assert.is(sa.read32(0, 33), 0xdeadbeef | 0);
  sa.write32(0, 46, 7); // straddles
  assert.is(sa.inc32(0, 46, 0xffffffff), 6);
  assert.is(sa.read32(0, 46), 6);
  assert.is(sa.dec32(0, 46, 7), -1);
  assert.is(sa.read32(0, 46), -1);
});

test('word call argument errors: type and range per width', () => {
  fresh('1');
  code(() => sa.write8(0, 0, 256), 'UWSGI_ERR_SHAREDAREA_ARG', /value "256" is not an integer number in -128\.\.255/);
  code(() => sa.write8(0, 0, -129), 'UWSGI_ERR_SHAREDAREA_ARG');
  code(() => sa.write8(0, 0, 1.5), 'UWSGI_ERR_SHAREDAREA_ARG');
  code(() => sa.writebyte(0, 0, bad('1')), 'UWSGI_ERR_SHAREDAREA_ARG');
  code(() => sa.write16(0, 0, 65536), 'UWSGI_ERR_SHAREDAREA_ARG', /-32768\.\.65535/);
  code(() => sa.write32(0, 0, 2 ** 32), 'UWSGI_ERR_SHAREDAREA_ARG');
  code(() => sa.write32(0, 0, -(2 ** 31) - 1), 'UWSGI_ERR_SHAREDAREA_ARG');
  code(() => sa.write64(0, 0, bad(1)), 'UWSGI_ERR_SHAREDAREA_ARG', /not a bigint/);
  code(() => sa.write64(0, 0, 2n ** 64n), 'UWSGI_ERR_SHAREDAREA_ARG');
  code(() => sa.write64(0, 0, -(2n ** 63n) - 1n), 'UWSGI_ERR_SHAREDAREA_ARG');
  code(() => sa.inc8(0, 0, 256), 'UWSGI_ERR_SHAREDAREA_ARG', /amount/);
  code(() => sa.dec8(0, 0, bad(1n)), 'UWSGI_ERR_SHAREDAREA_ARG');
  code(() => sa.read64(0, bad(8n)), 'UWSGI_ERR_SHAREDAREA_ARG', /pos must be an integer number/);
  code(() => sa.read(0, 0, bad(1n)), 'UWSGI_ERR_SHAREDAREA_ARG');
  code(() => sa.write32(0, 0, bad({ valueOf: () => 1 })), 'UWSGI_ERR_SHAREDAREA_ARG');
  code(() => sa.inc16(0, 0, 70000), 'UWSGI_ERR_SHAREDAREA_ARG');
  code(() => sa.dec16(0, 0, NaN), 'UWSGI_ERR_SHAREDAREA_ARG');
  code(() => sa.inc32(0, 0, 2 ** 32), 'UWSGI_ERR_SHAREDAREA_ARG');
  code(() => sa.dec32(0, 0, 0.5), 'UWSGI_ERR_SHAREDAREA_ARG');
  code(() => sa.inc64(0, 0, bad(1)), 'UWSGI_ERR_SHAREDAREA_ARG', /amount "1" is not a bigint/);
  code(() => sa.dec64(0, 0, 2n ** 64n), 'UWSGI_ERR_SHAREDAREA_ARG');
  // positions and ids, for every word call
  const calls: Array<[string, (id: number, pos: number) => unknown]> = [
    ['read8', (i, p) => sa.read8(i, p)], ['read16', (i, p) => sa.read16(i, p)],
    ['read32', (i, p) => sa.read32(i, p)], ['read64', (i, p) => sa.read64(i, p)],
    ['write8', (i, p) => sa.write8(i, p, 1)], ['write16', (i, p) => sa.write16(i, p, 1)],
    ['write32', (i, p) => sa.write32(i, p, 1)], ['write64', (i, p) => sa.write64(i, p, 1n)],
    ['inc8', (i, p) => sa.inc8(i, p)], ['inc16', (i, p) => sa.inc16(i, p)],
    ['inc32', (i, p) => sa.inc32(i, p)], ['inc64', (i, p) => sa.inc64(i, p)],
    ['dec8', (i, p) => sa.dec8(i, p)], ['dec16', (i, p) => sa.dec16(i, p)],
    ['dec32', (i, p) => sa.dec32(i, p)], ['dec64', (i, p) => sa.dec64(i, p)],
  ];
  for (const [name, f] of calls) {
    code(() => f(3, 0), 'UWSGI_ERR_SHAREDAREA_ID', new RegExp(`sharedarea\\.${name}\\(id="3"\\).*uwsgi_sharedarea_${name}`));
    code(() => f(0, 4096), 'UWSGI_ERR_SHAREDAREA_RANGE', new RegExp(name));
    code(() => f(0, -8), 'UWSGI_ERR_SHAREDAREA_RANGE');
    code(() => f(0, 2.5), 'UWSGI_ERR_SHAREDAREA_ARG', /pos must be an integer/);
    code(() => f(0, bad('8')), 'UWSGI_ERR_SHAREDAREA_ARG');
  }
});

test('object.store / object.load: msgpackr round trip, empty slot, errors', () => {
  fresh('1');
  const value = { name: 'x', list: [1, 2.5, 'three', null, true], nested: { big: 2n ** 60n }, bytes: new Uint8Array([1, 2]) };
  sa.object.store(0, value, 100);
  assert.equal(sa.object.load(0, 100), value);
  sa.object.store(0, 'at zero');
  assert.is(sa.object.load(0), 'at zero');
  assert.is(sa.object.load(0, 2000), undefined, 'nothing stored → undefined');
  code(() => sa.object.store(0, 'x'.repeat(5000)), 'UWSGI_ERR_SHAREDAREA_RANGE', /does not fit/);
  code(() => sa.object.store(0, 1, 4093), 'UWSGI_ERR_SHAREDAREA_RANGE');
  code(() => sa.object.load(0, 4093), 'UWSGI_ERR_SHAREDAREA_RANGE');
  code(() => sa.object.load(9), 'UWSGI_ERR_SHAREDAREA_ID');
  sa.write32(0, 3000, 100000);
  code(() => sa.object.load(0, 3000), 'UWSGI_ERR_SHAREDAREA_ARG', /no stored object there/);
  sa.write32(0, 3000, 2);
  sa.write(0, 3004, new Uint8Array([0x92, 0x01])); // a 2-element array with one element
  code(() => sa.object.load(0, 3000), 'UWSGI_ERR_SHAREDAREA_ARG', /not a stored object/);
});

test('main thread: sync lock calls refuse to block; async locks work; unlock checks', async () => {
  fresh('1');
  code(() => sa.rlock(0), 'UWSGI_ERR_SHAREDAREA_LOCK', /would block the main thread; use sharedarea\.rlockAsync/);
  code(() => sa.wlock(0), 'UWSGI_ERR_SHAREDAREA_LOCK', /wlockAsync/);
  code(() => sa.waitSync(0), 'UWSGI_ERR_SHAREDAREA_LOCK', /main thread/);
  code(() => sa.unlock(0), 'UWSGI_ERR_SHAREDAREA_LOCK', /holds no lock/);
  code(() => sa.wlock(5), 'UWSGI_ERR_SHAREDAREA_ID');
  await codeAsync(() => sa.wlockAsync(5), 'UWSGI_ERR_SHAREDAREA_ID');
  await sa.wlockAsync(0);
  assert.is(sharedareaStats()[0].lockMode, 'write');
  sa.inc64(0, 0); // data calls work while holding the lock
  sa.object.store(0, { held: true }, 8); // uses the held lock
  assert.equal(sa.object.load(0, 8), { held: true });
  let second = false;
  const p = sa.wlockAsync(0).then(() => { second = true; }); // another task of this thread
  await new Promise((r) => setTimeout(r, 10));
  assert.is(second, false, 'a second async writer waits');
  sa.unlock(0);
  await p;
  sa.unlock(0);
  await sa.rlockAsync(0);
  await sa.rlockAsync(0); // nested reads
  assert.is(sharedareaStats()[0].lockMode, 'read');
  code(() => sa.object.store(0, 1, 8), 'UWSGI_ERR_SHAREDAREA_LOCK', /holds the read lock/);
  sa.unlock(0);
  sa.unlock(0);
  assert.is(sharedareaStats()[0].lockHolder, null);
  code(() => releaseLocksHeldBy(0), 'UWSGI_ERR_SHAREDAREA_ARG', /calling thread/);
  code(() => releaseLocksHeldBy(-1), 'UWSGI_ERR_SHAREDAREA_ARG');
});

test('wait(): same-thread write wakes it, timeout → false, update() wakes it, bad options', async () => {
  fresh('1');
  const p = sa.wait(0, { timeout: 30 });
  setTimeout(() => sa.write(0, 0, new Uint8Array([1])), 5);
  assert.is(await p, true);
  assert.is(await sa.wait(0, { freq: 5, timeout: 0.03 }), false);
  assert.is(await sa.wait(0, { freq: 5, timeout: -1 }), false, 'negative timeout: one freq period');
  const q = sa.wait(0, { timeout: 30 });
  setTimeout(() => { sa.memoryview(0)[5] = 1; sa.update(0); }, 5);
  assert.is(await q, true);
  code(() => { void sa.wait(0, { freq: -1 }); }, 'UWSGI_ERR_SHAREDAREA_ARG', /freq "-1"/);
  code(() => { void sa.wait(0, { timeout: bad('1') }); }, 'UWSGI_ERR_SHAREDAREA_ARG', /timeout/);
  code(() => { void sa.wait(0, bad(5)); }, 'UWSGI_ERR_SHAREDAREA_ARG');
  code(() => { void sa.wait(2); }, 'UWSGI_ERR_SHAREDAREA_ID');
  code(() => sa.update(2), 'UWSGI_ERR_SHAREDAREA_ID');
});

test('file backing: created zero-filled, written back by syncSharedareaFiles(), reloaded', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'uwsgi-ts-sa-'));
  try {
    const path = join(dir, 'sa.bin');
    fresh(`file=${path},size=5000`, '1');
    assert.is(statSync(path).size, 5000, 'missing file + size= → created zero-filled');
    assert.is(sa.size(0), 5000, 'file-backed areas are not rounded to pages');
    assert.is(sharedareaStats()[0].pages, 2);
    assert.is(sharedareaStats()[0].file, path);
    assert.is(sharedareaStats()[1].file, undefined);
    sa.write(0, 4990, new Uint8Array([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]));
    sa.write64(0, 0, 123456789n);
    sa.object.store(0, { persisted: [1, 2, 3] }, 100);
    const expected = Buffer.from(sa.read(0, 0));
    assert.is(readFileSync(path)[0], 0, 'not written before a sync');
    await syncSharedareaFiles();
    assert.equal(readFileSync(path), expected);
    fresh(`file=${path}`); // size from the file
    assert.is(sa.size(0), 5000);
    assert.equal(Buffer.from(sa.read(0, 0)), expected);
    assert.equal(sa.object.load(0, 100), { persisted: [1, 2, 3] });
    // an existing shorter file with a larger size=: the rest is zero
    writeFileSync(join(dir, 'short.bin'), Buffer.from([1, 2, 3]));
    fresh(`file=${join(dir, 'short.bin')},size=10`);
    assert.equal([...sa.read(0, 0)], [1, 2, 3, 0, 0, 0, 0, 0, 0, 0]);
    code(() => fresh(`file=${join(dir, 'missing.bin')}`), 'UWSGI_ERR_SHAREDAREA_FILE', /does not exist and no size=/);
    writeFileSync(join(dir, 'empty.bin'), '');
    code(() => fresh(`file=${join(dir, 'empty.bin')}`), 'UWSGI_ERR_OPTION_VALUE', /you need to set a size/);
    code(() => fresh(`file=${dir}`), 'UWSGI_ERR_SHAREDAREA_FILE', /not a regular file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('attach/create argument checks', () => {
  code(() => attachSharedareas(bad({})), 'UWSGI_ERR_SHAREDAREA_ARG', /expected the array/);
  code(() => attachSharedareas(bad([{ id: 0, size: 10 }])), 'UWSGI_ERR_SHAREDAREA_ARG', /inits\[0\]/);
  code(() => createSharedareas(bad([{ kind: 'nope' }])), 'UWSGI_ERR_SHAREDAREA_ARG', /specs\[0\]/);
  const inits = createSharedareas([parseSharedareaSpec('1')]);
  assert.ok(structuredClone(inits)[0].data instanceof SharedArrayBuffer, 'inits are structured-clone safe');
});

test('the registry is shared through globalThis[Symbol.for("uwsgi-ts.sharedareas")]', () => {
  fresh('1', '1');
  const reg = (globalThis as Record<symbol, unknown>)[Symbol.for('uwsgi-ts.sharedareas')] as { areas: unknown[] };
  assert.is(reg.areas.length, 2);
});

test.run();
