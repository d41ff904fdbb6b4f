/**
 * uWSGI sharedareas on SharedArrayBuffer (spec sharedarea.md): creation in the master,
 * attachment in every thread, and the `sharedarea` API with uWSGI's names.
 *
 * Concurrency model (docs/sharedarea.md):
 * - word calls (read8..64, write8..64, inc/dec 8..64) are single hardware atomics on aligned
 *   positions, a CAS on the containing aligned 8-byte word when unaligned, and run under a
 *   tiny per-area "span" mutex only when the value straddles two 8-byte words. They never
 *   take the area's rwlock, so they never block on it and may be used while holding it.
 * - `read`/`write` (byte ranges) are plain copies, also lock-free: wrap them in
 *   rlock/wlock in every party that needs a consistent multi-byte view.
 * - `object.store`/`object.load` take the area lock themselves (unless this thread holds it).
 */
import { isMainThread, threadId } from 'node:worker_threads';
import { Packr } from 'msgpackr';
import { UwsgiError, echo } from './errors.js';
import { SHAREDAREA_PAGE_SIZE, type SharedareaSpec } from './sharedarea-spec.js';
import { fileInitialSize, loadAreaFile, syncAreaFile } from './sharedarea-file.js';
import {
  CTL_INTS, HITS, HITS_HI, UPD, UPD_HI, WAITERS,
  acquireAsync, acquireSync, bumpAndNotify, lockHolder, readCounter, release, releaseHeldBy,
  spanLock, spanUnlock, tryAcquire, waitForUpdate, waitForUpdateSync,
  type LockTarget, type SharedareaLockRelease, type WaitPlan,
} from './sharedarea-lock.js';

export { parseSharedareaSpec, SHAREDAREA_PAGE_SIZE } from './sharedarea-spec.js';
export type { SharedareaSpec } from './sharedarea-spec.js';
export type { SharedareaLockRelease } from './sharedarea-lock.js';

/** Structured-clone-safe description of one area, passed to every thread in workerData. */
export interface SharedareaInit {
  readonly id: number;
  /** usable bytes (the buffer may be up to 7 bytes longer, for 8-byte word alignment) */
  readonly size: number;
  /** reported pages: ceil(size / 4096) */
  readonly pages: number;
  readonly data: SharedArrayBuffer;
  readonly ctl: SharedArrayBuffer;
  readonly file: string | null;
}

export interface SharedareaStat {
  readonly id: number;
  readonly size: number;
  readonly pages: number;
  /** approximate under contention (plain increments), wraps at 2^53 */
  readonly updates: number;
  readonly hits: number;
  readonly file?: string;
  /** thread id holding the rwlock (a writer, or one recorded reader), null when free */
  readonly lockHolder: number | null;
  readonly lockMode: 'read' | 'write' | null;
}

export interface SharedareaWaitOptions {
  /** ms between re-checks (uWSGI `freq`); 0 or omitted → 100 */
  readonly freq?: number;
  /** seconds (uWSGI `timeout`); 0 or omitted → forever; negative → one `freq` period */
  readonly timeout?: number;
}

// ---------------------------------------------------------------------------------------
// per-thread area objects and the registry shared by every copy of this module

class Area implements LockTarget {
  readonly maxPos: number;
  readonly last2: number;
  readonly last4: number;
  readonly last8: number;
  readonly u8: Uint8Array;
  readonly i8: Int8Array;
  readonly i16: Int16Array;
  readonly i32: Int32Array;
  readonly b64: BigInt64Array;
  readonly dv: DataView;
  readonly ctl: Int32Array;
  held = 0;
  readSlot = -1;
  constructor(
    readonly id: number,
    readonly size: number,
    readonly pages: number,
    data: SharedArrayBuffer,
    ctl: SharedArrayBuffer,
    readonly file: string | null,
  ) {
    this.maxPos = size - 1;
    this.last2 = size - 2;
    this.last4 = size - 4;
    this.last8 = size - 8;
    this.u8 = new Uint8Array(data, 0, size);
    this.i8 = new Int8Array(data);
    this.i16 = new Int16Array(data);
    this.i32 = new Int32Array(data);
    this.b64 = new BigInt64Array(data);
    this.dv = new DataView(data);
    this.ctl = new Int32Array(ctl);
  }
}

interface Registry {
  readonly areas: Area[];
}

const REGISTRY_KEY = Symbol.for('uwsgi-ts.sharedareas');
type GlobalWithRegistry = typeof globalThis & { [REGISTRY_KEY]?: Registry };
const g = globalThis as GlobalWithRegistry;
const registry: Registry = g[REGISTRY_KEY] ?? (g[REGISTRY_KEY] = { areas: [] });
/** the same array object in every module copy of this thread; attach refills it in place */
const AREAS = registry.areas;

// ---------------------------------------------------------------------------------------
// creation (master) and attachment (every thread)

function ceil8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

function assertLittleEndian(): void {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
    throw new UwsgiError('UWSGI_ERR_SHAREDAREA_ARG', 'createSharedareas(): this host is big-endian; uwsgi-ts sharedareas are little-endian only');
  }
}

export function createSharedareas(specs: readonly SharedareaSpec[]): SharedareaInit[] {
  if (!Array.isArray(specs)) {
    throw new UwsgiError('UWSGI_ERR_SHAREDAREA_ARG', `createSharedareas(specs): expected an array of parsed specs, got ${echo(specs)}`);
  }
  assertLittleEndian();
  return specs.map((spec, id): SharedareaInit => {
    if (spec === null || typeof spec !== 'object' || (spec.kind !== 'anonymous' && spec.kind !== 'file')) {
      throw new UwsgiError('UWSGI_ERR_SHAREDAREA_ARG', `createSharedareas(specs): specs[${id}] is not a parsed SharedareaSpec: ${echo(spec)}`);
    }
    const size = spec.kind === 'file' ? fileInitialSize(spec.file, spec.size, spec.optionName, spec.arg) : spec.size;
    const data = new SharedArrayBuffer(ceil8(size));
    const ctl = new SharedArrayBuffer(CTL_INTS * 4);
    if (spec.kind === 'file') loadAreaFile(spec.file, new Uint8Array(data, 0, size), spec.optionName);
    return { id, size, pages: Math.ceil(size / SHAREDAREA_PAGE_SIZE), data, ctl, file: spec.kind === 'file' ? spec.file : null };
  });
}

function checkInit(init: unknown, index: number): SharedareaInit {
  const i = init as Partial<SharedareaInit> | null;
  const ok = i !== null && typeof i === 'object' && i.id === index &&
    Number.isInteger(i.size) && (i.size as number) > 0 && Number.isInteger(i.pages) &&
    i.data instanceof SharedArrayBuffer && i.data.byteLength >= (i.size as number) &&
    i.ctl instanceof SharedArrayBuffer && i.ctl.byteLength === CTL_INTS * 4 &&
    (i.file === null || typeof i.file === 'string');
  if (!ok) {
    throw new UwsgiError('UWSGI_ERR_SHAREDAREA_ARG', `attachSharedareas(inits): inits[${index}] is not a SharedareaInit from createSharedareas(): ${echo(init)}`);
  }
  return i as SharedareaInit;
}

/**
 * Make the areas usable in this thread. Call once per thread before user code; calling it
 * again replaces this thread's areas (used by tests and full reloads).
 */
export function attachSharedareas(inits: readonly SharedareaInit[]): void {
  if (!Array.isArray(inits)) {
    throw new UwsgiError('UWSGI_ERR_SHAREDAREA_ARG', `attachSharedareas(inits): expected the array from createSharedareas(), got ${echo(inits)}`);
  }
  const built = inits.map((init, idx) => {
    const i = checkInit(init, idx);
    return new Area(i.id, i.size, i.pages, i.data, i.ctl, i.file);
  });
  AREAS.length = 0;
  for (const a of built) AREAS.push(a);
}

// ---------------------------------------------------------------------------------------
// errors (slow path only)

function areaOr(fn: string, id: unknown): Area {
  const a = typeof id === 'number' ? AREAS[id] : undefined;
  if (a !== undefined && a.id === id) return a;
  if (AREAS.length === 0) {
    throw new UwsgiError('UWSGI_ERR_SHAREDAREA_NOT_READY', `sharedarea.${fn}(id=${echo(id)}): no sharedareas are attached in this thread (configure --sharedarea; the runtime calls attachSharedareas())`);
  }
  const what = typeof id === 'number' && Number.isInteger(id) ? 'no such sharedarea' : `the id must be an integer number, not ${typeof id === 'number' ? 'a fraction or NaN' : `a ${typeof id}`}`;
  throw new UwsgiError('UWSGI_ERR_SHAREDAREA_ID', `sharedarea.${fn}(id=${echo(id)}): ${what} (ids 0..${AREAS.length - 1} exist; error calling uwsgi_sharedarea_${fn}())`);
}

function badPos(fn: string, id: unknown, pos: unknown, len: number): never {
  const a = areaOr(fn, id);
  if (typeof pos !== 'number' || !Number.isInteger(pos)) {
    throw new UwsgiError('UWSGI_ERR_SHAREDAREA_ARG', `sharedarea.${fn}(id=${id}, pos=${echo(pos)}): pos must be an integer number`);
  }
  throw new UwsgiError('UWSGI_ERR_SHAREDAREA_RANGE', `sharedarea.${fn}(id=${id}, pos=${echo(pos)}): ${len} byte(s) at pos do not fit in sharedarea ${id} of ${a.size} bytes (error calling uwsgi_sharedarea_${fn}())`);
}

function badValue(fn: string, id: number, arg: string, value: unknown, want: string): never {
  throw new UwsgiError('UWSGI_ERR_SHAREDAREA_ARG', `sharedarea.${fn}(id=${id}): ${arg} ${echo(value)} is not ${want}`);
}

/** Full argument check for the word calls; throws the precise coded error. */
function failWord(fn: string, id: unknown, pos: unknown, bytes: number, arg: string, value: unknown, bits: number): never {
  const a = areaOr(fn, id);
  if (typeof pos !== 'number' || !Number.isInteger(pos) || pos < 0 || pos + bytes > a.size) badPos(fn, id, pos, bytes);
  if (bits === 64) badValue(fn, a.id, arg, value, 'a bigint in -2^63..2^64-1');
  badValue(fn, a.id, arg, value, `an integer number in ${-(2 ** (bits - 1))}..${2 ** bits - 1}`);
}

// ---------------------------------------------------------------------------------------
// counters

function wrote(c: Int32Array): void {
  if (c[WAITERS] === 0) {
    if ((c[UPD] = (c[UPD] + 1) | 0) === 0) c[UPD_HI]++;
  } else bumpAndNotify(c);
}

function hit(c: Int32Array): void {
  if ((c[HITS] = (c[HITS] + 1) | 0) === 0) c[HITS_HI]++;
}

// ---------------------------------------------------------------------------------------
// unaligned word access: CAS on the containing 8-byte word, else the span mutex

const OP_LOAD = 0;
const OP_STORE = 1;
const OP_ADD = 2;
const CAS_LIMIT = 1 << 20;
const MASKS: Record<number, bigint> = { 2: 0xffffn, 4: 0xffffffffn, 8: 0xffffffffffffffffn };

/** Returns the previous raw (unsigned) field value. `v` is the stored value or the addend. */
function unaligned(a: Area, fn: string, pos: number, bytes: 2 | 4 | 8, op: number, v: bigint): bigint {
  const mask = MASKS[bytes];
  const w = pos >> 3;
  if ((pos + bytes - 1) >> 3 === w) {
    const shift = BigInt((pos & 7) * 8);
    const b64 = a.b64;
    for (let tries = 0; tries < CAS_LIMIT; tries++) {
      const old = Atomics.load(b64, w);
      const u = BigInt.asUintN(64, old);
      const field = (u >> shift) & mask;
      if (op === OP_LOAD) return field;
      const nf = (op === OP_STORE ? v : field + v) & mask;
      const next = BigInt.asIntN(64, (u & ~(mask << shift)) | (nf << shift));
      if (Atomics.compareExchange(b64, w, old, next) === old) return field;
    }
    throw new UwsgiError('UWSGI_ERR_SHAREDAREA_LOCK', `sharedarea.${fn}(id=${a.id}, pos=${pos}): compare-and-swap lost ${CAS_LIMIT} times in a row`);
  }
  const c = a.ctl;
  const dv = a.dv;
  spanLock(c, fn, a.id);
  try {
    const field = bytes === 2 ? BigInt(dv.getUint16(pos, true)) : bytes === 4 ? BigInt(dv.getUint32(pos, true)) : dv.getBigUint64(pos, true);
    if (op !== OP_LOAD) {
      const nf = (op === OP_STORE ? v : field + v) & mask;
      if (bytes === 2) dv.setUint16(pos, Number(nf), true);
      else if (bytes === 4) dv.setUint32(pos, Number(nf), true);
      else dv.setBigUint64(pos, nf, true);
    }
    return field;
  } finally {
    spanUnlock(c);
  }
}

// ---------------------------------------------------------------------------------------
// word reads (signed, little-endian; hits++)

function read8(id: number, pos: number): number {
  const a = AREAS[id];
  if (a === undefined || a.id !== id || typeof pos !== 'number' || (pos >>> 0) !== pos || pos > a.maxPos) badPos('read8', id, pos, 1);
  hit(a.ctl);
  return Atomics.load(a.i8, pos);
}

function read16(id: number, pos: number): number {
  const a = AREAS[id];
  if (a === undefined || a.id !== id || typeof pos !== 'number' || (pos >>> 0) !== pos || pos > a.last2) badPos('read16', id, pos, 2);
  hit(a.ctl);
  if ((pos & 1) === 0) return Atomics.load(a.i16, pos >> 1);
  return (Number(unaligned(a, 'read16', pos, 2, OP_LOAD, 0n)) << 16) >> 16;
}

function read32(id: number, pos: number): number {
  const a = AREAS[id];
  if (a === undefined || a.id !== id || typeof pos !== 'number' || (pos >>> 0) !== pos || pos > a.last4) badPos('read32', id, pos, 4);
  hit(a.ctl);
  if ((pos & 3) === 0) return Atomics.load(a.i32, pos >> 2);
  return Number(unaligned(a, 'read32', pos, 4, OP_LOAD, 0n)) | 0;
}

function read64(id: number, pos: number): bigint {
  const a = AREAS[id];
  if (a === undefined || a.id !== id || typeof pos !== 'number' || (pos >>> 0) !== pos || pos > a.last8) badPos('read64', id, pos, 8);
  hit(a.ctl);
  if ((pos & 7) === 0) return Atomics.load(a.b64, pos >> 3);
  return BigInt.asIntN(64, unaligned(a, 'read64', pos, 8, OP_LOAD, 0n));
}

// ---------------------------------------------------------------------------------------
// word writes (store the low bits; updates++)

function write8(id: number, pos: number, value: number): void {
  const a = AREAS[id];
  if (a === undefined || a.id !== id || typeof pos !== 'number' || (pos >>> 0) !== pos || pos > a.maxPos ||
    typeof value !== 'number' || (value | 0) !== value || value < -128 || value > 255) failWord('write8', id, pos, 1, 'value', value, 8);
  Atomics.store(a.i8, pos, value);
  wrote(a.ctl);
}

function write16(id: number, pos: number, value: number): void {
  const a = AREAS[id];
  if (a === undefined || a.id !== id || typeof pos !== 'number' || (pos >>> 0) !== pos || pos > a.last2 ||
    typeof value !== 'number' || (value | 0) !== value || value < -32768 || value > 65535) failWord('write16', id, pos, 2, 'value', value, 16);
  if ((pos & 1) === 0) Atomics.store(a.i16, pos >> 1, value);
  else unaligned(a, 'write16', pos, 2, OP_STORE, BigInt(value));
  wrote(a.ctl);
}

function write32(id: number, pos: number, value: number): void {
  const a = AREAS[id];
  if (a === undefined || a.id !== id || typeof pos !== 'number' || (pos >>> 0) !== pos || pos > a.last4 ||
    typeof value !== 'number' || ((value | 0) !== value && (value >>> 0) !== value)) failWord('write32', id, pos, 4, 'value', value, 32);
  if ((pos & 3) === 0) Atomics.store(a.i32, pos >> 2, value);
  else unaligned(a, 'write32', pos, 4, OP_STORE, BigInt(value));
  wrote(a.ctl);
}

function write64(id: number, pos: number, value: bigint): void {
  const a = AREAS[id];
  if (a === undefined || a.id !== id || typeof pos !== 'number' || (pos >>> 0) !== pos || pos > a.last8 ||
    typeof value !== 'bigint' || (BigInt.asIntN(64, value) !== value && BigInt.asUintN(64, value) !== value)) failWord('write64', id, pos, 8, 'value', value, 64);
  if ((pos & 7) === 0) Atomics.store(a.b64, pos >> 3, value);
  else unaligned(a, 'write64', pos, 8, OP_STORE, value);
  wrote(a.ctl);
}

// ---------------------------------------------------------------------------------------
// inc / dec (atomic read-modify-write, two's-complement wraparound; updates++). Each returns
// the new value, signed, as the read of the same width would return it.

function inc8(id: number, pos: number, amount = 1): number {
  const a = AREAS[id];
  if (a === undefined || a.id !== id || typeof pos !== 'number' || (pos >>> 0) !== pos || pos > a.maxPos ||
    typeof amount !== 'number' || (amount | 0) !== amount || amount < -128 || amount > 255) failWord('inc8', id, pos, 1, 'amount', amount, 8);
  const nv = ((Atomics.add(a.i8, pos, amount) + amount) << 24) >> 24;
  wrote(a.ctl);
  return nv;
}

function dec8(id: number, pos: number, amount = 1): number {
  const a = AREAS[id];
  if (a === undefined || a.id !== id || typeof pos !== 'number' || (pos >>> 0) !== pos || pos > a.maxPos ||
    typeof amount !== 'number' || (amount | 0) !== amount || amount < -128 || amount > 255) failWord('dec8', id, pos, 1, 'amount', amount, 8);
  const nv = ((Atomics.sub(a.i8, pos, amount) - amount) << 24) >> 24;
  wrote(a.ctl);
  return nv;
}

function inc16(id: number, pos: number, amount = 1): number {
  const a = AREAS[id];
  if (a === undefined || a.id !== id || typeof pos !== 'number' || (pos >>> 0) !== pos || pos > a.last2 ||
    typeof amount !== 'number' || (amount | 0) !== amount || amount < -32768 || amount > 65535) failWord('inc16', id, pos, 2, 'amount', amount, 16);
  const old = (pos & 1) === 0 ? Atomics.add(a.i16, pos >> 1, amount) : Number(unaligned(a, 'inc16', pos, 2, OP_ADD, BigInt(amount)));
  wrote(a.ctl);
  return ((old + amount) << 16) >> 16;
}

function dec16(id: number, pos: number, amount = 1): number {
  const a = AREAS[id];
  if (a === undefined || a.id !== id || typeof pos !== 'number' || (pos >>> 0) !== pos || pos > a.last2 ||
    typeof amount !== 'number' || (amount | 0) !== amount || amount < -32768 || amount > 65535) failWord('dec16', id, pos, 2, 'amount', amount, 16);
  const old = (pos & 1) === 0 ? Atomics.sub(a.i16, pos >> 1, amount) : Number(unaligned(a, 'dec16', pos, 2, OP_ADD, -BigInt(amount)));
  wrote(a.ctl);
  return ((old - amount) << 16) >> 16;
}

function inc32(id: number, pos: number, amount = 1): number {
  const a = AREAS[id];
  if (a === undefined || a.id !== id || typeof pos !== 'number' || (pos >>> 0) !== pos || pos > a.last4 ||
    typeof amount !== 'number' || ((amount | 0) !== amount && (amount >>> 0) !== amount)) failWord('inc32', id, pos, 4, 'amount', amount, 32);
  const old = (pos & 3) === 0 ? Atomics.add(a.i32, pos >> 2, amount) : Number(unaligned(a, 'inc32', pos, 4, OP_ADD, BigInt(amount)));
  wrote(a.ctl);
  return (old + amount) | 0;
}

function dec32(id: number, pos: number, amount = 1): number {
  const a = AREAS[id];
  if (a === undefined || a.id !== id || typeof pos !== 'number' || (pos >>> 0) !== pos || pos > a.last4 ||
    typeof amount !== 'number' || ((amount | 0) !== amount && (amount >>> 0) !== amount)) failWord('dec32', id, pos, 4, 'amount', amount, 32);
  const old = (pos & 3) === 0 ? Atomics.sub(a.i32, pos >> 2, amount) : Number(unaligned(a, 'dec32', pos, 4, OP_ADD, -BigInt(amount)));
  wrote(a.ctl);
  return (old - amount) | 0;
}

function inc64(id: number, pos: number, amount?: bigint): bigint {
  const a = AREAS[id];
  if (a === undefined || a.id !== id || typeof pos !== 'number' || (pos >>> 0) !== pos || pos > a.last8) failWord('inc64', id, pos, 8, 'amount', amount, 64);
  // The common call has no amount: skip the bigint range check for it (~10% of the call).
  if (amount === undefined) amount = 1n;
  else if (typeof amount !== 'bigint' || (BigInt.asIntN(64, amount) !== amount && BigInt.asUintN(64, amount) !== amount)) failWord('inc64', id, pos, 8, 'amount', amount, 64);
  const old = (pos & 7) === 0 ? Atomics.add(a.b64, pos >> 3, amount) : unaligned(a, 'inc64', pos, 8, OP_ADD, amount);
  wrote(a.ctl);
  return BigInt.asIntN(64, old + amount);
}

function dec64(id: number, pos: number, amount?: bigint): bigint {
  const a = AREAS[id];
  if (a === undefined || a.id !== id || typeof pos !== 'number' || (pos >>> 0) !== pos || pos > a.last8) failWord('dec64', id, pos, 8, 'amount', amount, 64);
  // The common call has no amount: skip the bigint range check for it (~10% of the call).
  if (amount === undefined) amount = 1n;
  else if (typeof amount !== 'bigint' || (BigInt.asIntN(64, amount) !== amount && BigInt.asUintN(64, amount) !== amount)) failWord('dec64', id, pos, 8, 'amount', amount, 64);
  const old = (pos & 7) === 0 ? Atomics.sub(a.b64, pos >> 3, amount) : unaligned(a, 'dec64', pos, 8, OP_ADD, -amount);
  wrote(a.ctl);
  return BigInt.asIntN(64, old - amount);
}

// ---------------------------------------------------------------------------------------
// byte ranges

/** Copy `len` bytes at `pos` (len omitted or 0 → to the end of the area). hits++. */
function read(id: number, pos: number, len = 0): Uint8Array {
  const a = AREAS[id];
  if (a === undefined || a.id !== id || typeof pos !== 'number' || (pos >>> 0) !== pos || pos > a.maxPos) badPos('read', id, pos, 1);
  if (typeof len !== 'number' || (len >>> 0) !== len) badValue('read', id, 'len', len, 'a non-negative integer number');
  const n = len === 0 ? a.size - pos : len;
  if (pos + n > a.size) badPos('read', id, pos, n);
  hit(a.ctl);
  return a.u8.slice(pos, pos + n);
}

const utf8 = new TextEncoder();

/** Copy all of `data` (bytes, or a string as UTF-8) to `pos`. updates++. */
function write(id: number, pos: number, data: Uint8Array | string): void {
  const a = AREAS[id];
  if (a === undefined || a.id !== id || typeof pos !== 'number' || (pos >>> 0) !== pos || pos > a.maxPos) badPos('write', id, pos, 0);
  if (data instanceof Uint8Array) {
    if (pos + data.length > a.size) badPos('write', id, pos, data.length);
    a.u8.set(data, pos);
  } else if (typeof data === 'string') {
    const n = Buffer.byteLength(data, 'utf8');
    if (pos + n > a.size) badPos('write', id, pos, n);
    utf8.encodeInto(data, a.u8.subarray(pos, pos + n));
  } else {
    badValue('write', id, 'data', data, 'a Uint8Array (Buffer) or a string');
  }
  wrote(a.ctl);
}

// ---------------------------------------------------------------------------------------
// locks, wait, update, views

function rlock(id: number): void {
  acquireSync(areaOr('rlock', id), false, 'rlock');
}

function wlock(id: number): void {
  acquireSync(areaOr('wlock', id), true, 'wlock');
}

function rlockAsync(id: number): Promise<void> {
  return acquireAsync(areaOr('rlockAsync', id), false);
}

function wlockAsync(id: number): Promise<void> {
  return acquireAsync(areaOr('wlockAsync', id), true);
}

function unlock(id: number): void {
  release(areaOr('unlock', id), 'unlock');
}

/** updates++ without touching data: wakes `wait`ers after writes through memoryview(). */
function update(id: number): void {
  bumpAndNotify(areaOr('update', id).ctl);
}

function waitPlan(fn: string, id: number, opts: SharedareaWaitOptions | undefined): WaitPlan {
  if (opts !== undefined && (opts === null || typeof opts !== 'object')) badValue(fn, id, 'options', opts, 'an object { freq?, timeout? }');
  const freq = opts?.freq ?? 0;
  const timeout = opts?.timeout ?? 0;
  if (typeof freq !== 'number' || !Number.isFinite(freq) || freq < 0) badValue(fn, id, 'freq', freq, 'a number of milliseconds >= 0');
  if (typeof timeout !== 'number' || !Number.isFinite(timeout)) badValue(fn, id, 'timeout', timeout, 'a finite number of seconds');
  const freqMs = freq === 0 ? 100 : freq;
  const now = performance.now();
  const deadline = timeout === 0 ? Infinity : timeout < 0 ? now + freqMs : now + timeout * 1000;
  return { freqMs, deadline };
}

/** Resolve true when the area is written (updates moves) after the call, false on timeout. */
function wait(id: number, opts?: SharedareaWaitOptions): Promise<boolean> {
  const a = areaOr('wait', id);
  return waitForUpdate(a.ctl, waitPlan('wait', id, opts));
}

/** Blocking form of wait() for mules and workers; throws on the main thread. */
function waitSync(id: number, opts?: SharedareaWaitOptions): boolean {
  const a = areaOr('waitSync', id);
  return waitForUpdateSync(a.ctl, waitPlan('waitSync', id, opts), id);
}

/** Zero-copy view of the whole area: no locking, no counters (call update() after writing). */
function memoryview(id: number): Uint8Array {
  return areaOr('memoryview', id).u8;
}

function size(id: number): number {
  return areaOr('size', id).size;
}

function count(): number {
  return AREAS.length;
}

// ---------------------------------------------------------------------------------------
// object.store / object.load: [u32 LE length][msgpack bytes] at pos, under the area lock

const packr = new Packr({ useRecords: false });
const MAIN_TRY = 1000;

/** Take the lock for an internal critical section; returns whether this call must release it. */
function lockFor(a: Area, write: boolean, fn: string): boolean {
  if (a.held === -1) return false;
  if (a.held > 0) {
    if (!write) return false;
    throw new UwsgiError('UWSGI_ERR_SHAREDAREA_LOCK', `sharedarea.${fn}(id=${a.id}): this thread holds the read lock; storing needs the write lock (unlock first, or take wlock instead)`);
  }
  if (!isMainThread) {
    acquireSync(a, write, fn);
    return true;
  }
  for (let k = 0; k < MAIN_TRY; k++) if (tryAcquire(a, write)) return true;
  throw new UwsgiError('UWSGI_ERR_SHAREDAREA_LOCK', `sharedarea.${fn}(id=${a.id}): the area lock is held by another thread and the main thread must not block; await sharedarea.${write ? 'wlockAsync' : 'rlockAsync'}(${a.id}) first`);
}

function objectStore(id: number, value: unknown, pos = 0): void {
  const a = areaOr('object.store', id);
  if (typeof pos !== 'number' || (pos >>> 0) !== pos || pos + 4 > a.size) badPos('object.store', id, pos, 4);
  let bytes: Uint8Array;
  try {
    bytes = packr.pack(value);
  } catch (err) {
    throw new UwsgiError('UWSGI_ERR_SHAREDAREA_ARG', `sharedarea.object.store(id=${id}, value=${echo(value)}): msgpackr cannot encode the value: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  if (pos + 4 + bytes.length > a.size) {
    throw new UwsgiError('UWSGI_ERR_SHAREDAREA_RANGE', `sharedarea.object.store(id=${id}, pos=${pos}): the encoded value (${bytes.length} bytes + 4-byte header) does not fit in sharedarea ${id} of ${a.size} bytes`);
  }
  const mine = lockFor(a, true, 'object.store');
  try {
    a.dv.setUint32(pos, bytes.length, true);
    a.u8.set(bytes, pos + 4);
  } finally {
    if (mine) release(a, 'object.store');
  }
  wrote(a.ctl);
}

/** The value stored at `pos`, or undefined when nothing was stored there (length 0). */
function objectLoad(id: number, pos = 0): unknown {
  const a = areaOr('object.load', id);
  if (typeof pos !== 'number' || (pos >>> 0) !== pos || pos + 4 > a.size) badPos('object.load', id, pos, 4);
  let copy: Uint8Array;
  let len: number;
  const mine = lockFor(a, false, 'object.load');
  try {
    len = a.dv.getUint32(pos, true);
    if (len === 0) return undefined;
    if (pos + 4 + len > a.size) {
      throw new UwsgiError('UWSGI_ERR_SHAREDAREA_ARG', `sharedarea.object.load(id=${id}, pos=${pos}): no stored object there (its length header ${len} runs past the end of the ${a.size}-byte area)`);
    }
    copy = a.u8.slice(pos + 4, pos + 4 + len);
  } finally {
    if (mine) release(a, 'object.load');
  }
  hit(a.ctl);
  try {
    return packr.unpack(copy);
  } catch (err) {
    throw new UwsgiError('UWSGI_ERR_SHAREDAREA_ARG', `sharedarea.object.load(id=${id}, pos=${pos}): the ${len} bytes there are not a stored object: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

// ---------------------------------------------------------------------------------------
// master-side helpers

/**
 * Dead-holder rule: release every lock (rwlock write/read hold, span mutex) and wait
 * registration that thread `deadThreadId` left behind in any area. The master calls this
 * after a worker/mule thread exited or was terminated; the returned records carry uWSGI's
 * `[deadlock-detector]` log line.
 */
export function releaseLocksHeldBy(deadThreadId: number): SharedareaLockRelease[] {
  if (!Number.isInteger(deadThreadId) || deadThreadId < 0) {
    throw new UwsgiError('UWSGI_ERR_SHAREDAREA_ARG', `releaseLocksHeldBy(threadId=${echo(deadThreadId)}): expected a worker_threads threadId (integer >= 0)`);
  }
  if (deadThreadId === threadId) {
    throw new UwsgiError('UWSGI_ERR_SHAREDAREA_ARG', `releaseLocksHeldBy(threadId=${deadThreadId}): that is the calling thread; only a dead thread's locks may be released`);
  }
  const out: SharedareaLockRelease[] = [];
  for (const a of AREAS) out.push(...releaseHeldBy(a.ctl, a.id, deadThreadId));
  return out;
}

/** Write every file-backed area back to its file (master: graceful shutdown, reload, FIFO). */
export async function syncSharedareaFiles(): Promise<void> {
  const errors: unknown[] = [];
  for (const a of AREAS) {
    if (a.file === null) continue;
    try {
      await syncAreaFile(a.file, a.u8);
    } catch (err) {
      errors.push(err);
    }
  }
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) {
    const text = errors.map((e) => (e instanceof Error ? e.message : String(e))).join('; ');
    throw new UwsgiError('UWSGI_ERR_SHAREDAREA_FILE', `syncSharedareaFiles(): ${errors.length} areas failed: ${text}`, { cause: errors });
  }
}

export function sharedareaStats(): SharedareaStat[] {
  return AREAS.map((a): SharedareaStat => {
    const h = lockHolder(a.ctl);
    const base = {
      id: a.id,
      size: a.size,
      pages: a.pages,
      updates: readCounter(a.ctl, UPD),
      hits: readCounter(a.ctl, HITS),
      lockHolder: h === null ? null : h.threadId,
      lockMode: h === null ? null : h.mode,
    };
    return a.file === null ? base : { ...base, file: a.file };
  });
}

// ---------------------------------------------------------------------------------------
// the public API object (uWSGI names)

export const sharedarea = {
  read, write,
  readbyte: read8, writebyte: write8,
  readlong: read64, writelong: write64, inclong: inc64,
  read8, read16, read32, read64,
  write8, write16, write32, write64,
  inc8, inc16, inc32, inc64,
  dec8, dec16, dec32, dec64,
  rlock, wlock, unlock, rlockAsync, wlockAsync,
  wait, waitSync,
  memoryview,
  object: { store: objectStore, load: objectLoad },
  update, size, count,
} as const;

export type SharedareaApi = typeof sharedarea;
