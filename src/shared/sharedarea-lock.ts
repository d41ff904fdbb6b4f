/**
 * Synchronisation for one sharedarea, on a shared Int32Array ("ctl"):
 * the readers-writer lock (with holder thread ids for dead-holder recovery), the small
 * "span" mutex used by word operations that straddle two aligned 8-byte words, and the
 * wake word that `wait` sleeps on (which doubles as the `updates` counter).
 *
 * Lock word (STATE): 0 = free, n > 0 = n reader threads, -(threadId + 1) = writer.
 * Writer acquisition is one CAS that also records the holder. Readers record themselves
 * in a slot table (one slot per thread, nesting is counted per thread in `held`).
 * No writer preference. The main thread never blocks: the sync lock calls throw there.
 */
import { isMainThread, threadId } from 'node:worker_threads';
import { UwsgiError, echo } from './errors.js';

// ---- ctl layout (Int32 indexes). Hot words are on separate 64-byte lines. ----
export const STATE = 0;
/** threads blocked (sync or async) waiting for STATE to change */
export const LWAIT = 1;
/** span mutex: 0 free, else holder threadId + 1 */
export const SPAN = 2;
/** threads blocked on SPAN */
export const SWAIT = 3;
/** updates counter, low word: also the wake word of wait() */
export const UPD = 16;
export const UPD_HI = 17;
/** registered wait() callers (writers notify only when > 0) */
export const WAITERS = 18;
export const HITS = 32;
export const HITS_HI = 33;
export const READER_SLOTS = 64;
export const RSLOT0 = 48;
export const WAITER_SLOTS = 32;
/** pairs (threadId + 1, count) of wait() registrations */
export const WSLOT0 = RSLOT0 + READER_SLOTS;
export const CTL_INTS = WSLOT0 + 2 * WAITER_SLOTS;

/** this thread's id as stored in lock words (0 means "nobody") */
export const ME = threadId + 1;
/** how long one blocking slice lasts before the state is re-read (ms) */
const SLICE_MS = 250;
const SPINS = 100;
/** main thread: spins before giving up on the span mutex (held only for a few instructions) */
const MAIN_SPAN_SPINS = 1 << 22;

/** Per-thread view of one area's lock. Lives in the thread's registry (shared by module copies). */
export interface LockTarget {
  readonly id: number;
  readonly ctl: Int32Array;
  /** this thread's hold: 0 none, -1 write, n > 0 read nesting depth */
  held: number;
  /** index of this thread's reader slot, -1 when untracked (slot table full) */
  readSlot: number;
}

function lockError(fn: string, id: number, msg: string): UwsgiError {
  return new UwsgiError('UWSGI_ERR_SHAREDAREA_LOCK', `sharedarea.${fn}(id=${echo(id)}): ${msg}`);
}

function registerReader(t: LockTarget): void {
  const ctl = t.ctl;
  const start = ME % READER_SLOTS;
  for (let k = 0; k < READER_SLOTS; k++) {
    const i = RSLOT0 + ((start + k) % READER_SLOTS);
    if (Atomics.compareExchange(ctl, i, 0, ME) === 0) {
      t.readSlot = i;
      return;
    }
  }
  t.readSlot = -1; // documented: more than 64 concurrent reader threads are not recoverable
}

function tryWrite(t: LockTarget): boolean {
  if (Atomics.compareExchange(t.ctl, STATE, 0, -ME) === 0) {
    t.held = -1;
    return true;
  }
  return false;
}

function tryRead(t: LockTarget): boolean {
  const ctl = t.ctl;
  for (let k = 0; k < SPINS; k++) {
    const s = Atomics.load(ctl, STATE);
    if (s < 0) return false;
    if (Atomics.compareExchange(ctl, STATE, s, s + 1) === s) {
      registerReader(t);
      t.held = 1;
      return true;
    }
  }
  return false;
}

function tryMode(t: LockTarget, write: boolean): boolean {
  return write ? tryWrite(t) : tryRead(t);
}

/** Local (same-thread) rules shared by the sync calls. Returns true when already satisfied. */
function nestSync(t: LockTarget, write: boolean, fn: string): boolean {
  if (t.held === -1) {
    throw lockError(fn, t.id, 'this thread already holds the write lock (locks are not reentrant; data calls need no lock)');
  }
  if (t.held > 0) {
    if (write) throw lockError(fn, t.id, 'this thread holds the read lock; upgrading to the write lock would deadlock');
    t.held++;
    return true;
  }
  return false;
}

export function acquireSync(t: LockTarget, write: boolean, fn: string): void {
  if (isMainThread) {
    throw lockError(fn, t.id, `would block the main thread; use sharedarea.${write ? 'wlockAsync' : 'rlockAsync'}() there`);
  }
  if (nestSync(t, write, fn)) return;
  const ctl = t.ctl;
  for (let k = 0; k < SPINS; k++) if (tryMode(t, write)) return;
  Atomics.add(ctl, LWAIT, 1);
  try {
    // Unbounded by design (uWSGI locks have no timeout); each slice re-reads the state.
    for (;;) {
      if (tryMode(t, write)) return;
      const s = Atomics.load(ctl, STATE);
      if (s === 0 || (!write && s > 0)) continue;
      Atomics.wait(ctl, STATE, s, SLICE_MS);
    }
  } finally {
    Atomics.sub(ctl, LWAIT, 1);
  }
}

/**
 * Event-loop friendly acquisition (Atomics.waitAsync). The lock belongs to the thread: two
 * async tasks of one thread serialise on it; a task awaiting a lock its own thread holds
 * waits until some task of the thread releases it.
 */
export async function acquireAsync(t: LockTarget, write: boolean): Promise<void> {
  if (!write && t.held > 0) {
    t.held++;
    return;
  }
  const ctl = t.ctl;
  if (t.held === 0 && tryMode(t, write)) return;
  Atomics.add(ctl, LWAIT, 1);
  // a bare waitAsync does not keep the thread alive (nodejs/node#44729): hold a ref'd timer
  const keepAlive = setInterval(() => undefined, 1 << 30);
  try {
    for (;;) {
      if (t.held === 0 && tryMode(t, write)) return;
      if (!write && t.held > 0) {
        t.held++;
        return;
      }
      const s = Atomics.load(ctl, STATE);
      if (t.held === 0 && (s === 0 || (!write && s > 0))) continue;
      const r = Atomics.waitAsync(ctl, STATE, s, SLICE_MS);
      if (r.async) await r.value;
      else await Promise.resolve();
    }
  } finally {
    clearInterval(keepAlive);
    Atomics.sub(ctl, LWAIT, 1);
  }
}

/** Try once to take the lock for an internal critical section (object store/load). */
export function tryAcquire(t: LockTarget, write: boolean): boolean {
  return t.held === 0 && tryMode(t, write);
}

export function release(t: LockTarget, fn: string): void {
  const ctl = t.ctl;
  if (t.held === 0) throw lockError(fn, t.id, 'this thread holds no lock on this area');
  if (t.held === -1) {
    t.held = 0;
    if (Atomics.compareExchange(ctl, STATE, -ME, 0) !== -ME) {
      throw lockError(fn, t.id, 'the write lock was taken from this thread (released by releaseLocksHeldBy?)');
    }
  } else if (t.held > 1) {
    t.held--;
    return;
  } else {
    t.held = 0;
    if (t.readSlot >= 0) Atomics.compareExchange(ctl, t.readSlot, ME, 0);
    t.readSlot = -1;
    if (Atomics.sub(ctl, STATE, 1) <= 0) {
      Atomics.add(ctl, STATE, 1);
      throw lockError(fn, t.id, 'the read lock was taken from this thread (released by releaseLocksHeldBy?)');
    }
  }
  if (Atomics.load(ctl, LWAIT) !== 0) Atomics.notify(ctl, STATE);
}

// ---- span mutex: protects word ops that straddle two aligned 8-byte words ----

export function spanLock(ctl: Int32Array, fn: string, id: number): void {
  if (Atomics.compareExchange(ctl, SPAN, 0, ME) === 0) return;
  const limit = isMainThread ? MAIN_SPAN_SPINS : SPINS;
  for (let round = 0; ; round++) {
    for (let k = 0; k < limit; k++) {
      if (Atomics.compareExchange(ctl, SPAN, 0, ME) === 0) return;
    }
    if (isMainThread) {
      throw lockError(fn, id, `the span mutex stayed held by thread ${Atomics.load(ctl, SPAN) - 1}; a dead holder must be released with releaseLocksHeldBy()`);
    }
    const cur = Atomics.load(ctl, SPAN);
    if (cur === 0) continue;
    Atomics.add(ctl, SWAIT, 1);
    Atomics.wait(ctl, SPAN, cur, SLICE_MS);
    Atomics.sub(ctl, SWAIT, 1);
  }
}

export function spanUnlock(ctl: Int32Array): void {
  Atomics.store(ctl, SPAN, 0);
  if (Atomics.load(ctl, SWAIT) !== 0) Atomics.notify(ctl, SPAN, 1);
}

// ---- counters and the wake word ----

/** updates++ for writers that saw waiters: atomic, so the wake word surely changes. */
export function bumpAndNotify(ctl: Int32Array): void {
  if (Atomics.add(ctl, UPD, 1) === -1) Atomics.add(ctl, UPD_HI, 1);
  Atomics.notify(ctl, UPD);
}

export function readCounter(ctl: Int32Array, lo: number): number {
  return Atomics.load(ctl, lo + 1) * 2 ** 32 + (Atomics.load(ctl, lo) >>> 0);
}

function registerWaiter(ctl: Int32Array, delta: 1 | -1): void {
  Atomics.add(ctl, WAITERS, delta);
  for (let k = 0; k < WAITER_SLOTS; k++) {
    const i = WSLOT0 + 2 * k;
    const owner = Atomics.load(ctl, i);
    if (owner === ME) {
      Atomics.add(ctl, i + 1, delta);
      if (delta < 0 && Atomics.load(ctl, i + 1) === 0) Atomics.store(ctl, i, 0);
      return;
    }
  }
  if (delta < 0) return; // registration was untracked (table full)
  for (let k = 0; k < WAITER_SLOTS; k++) {
    const i = WSLOT0 + 2 * k;
    if (Atomics.compareExchange(ctl, i, 0, ME) === 0) {
      Atomics.add(ctl, i + 1, 1);
      return;
    }
  }
}

export interface WaitPlan {
  /** ms between re-checks of the wake word (uWSGI freq; 0 → 100) */
  readonly freqMs: number;
  /** absolute deadline in performance.now() ms, or Infinity */
  readonly deadline: number;
}

/** Resolves true when the wake word moved (or a writer notified), false at the deadline. */
export async function waitForUpdate(ctl: Int32Array, plan: WaitPlan): Promise<boolean> {
  registerWaiter(ctl, 1);
  const keepAlive = setInterval(() => undefined, 1 << 30); // nodejs/node#44729
  try {
    const snap = Atomics.load(ctl, UPD);
    for (;;) {
      const left = plan.deadline - performance.now();
      const slice = Math.max(0, Math.min(plan.freqMs, left));
      const r = Atomics.waitAsync(ctl, UPD, snap, slice);
      const res = r.async ? await r.value : r.value;
      if (res !== 'timed-out' || Atomics.load(ctl, UPD) !== snap) return true;
      if (performance.now() >= plan.deadline) return false;
    }
  } finally {
    clearInterval(keepAlive);
    registerWaiter(ctl, -1);
  }
}

export function waitForUpdateSync(ctl: Int32Array, plan: WaitPlan, id: number): boolean {
  if (isMainThread) throw lockError('waitSync', id, 'would block the main thread; use await sharedarea.wait() there');
  registerWaiter(ctl, 1);
  try {
    const snap = Atomics.load(ctl, UPD);
    for (;;) {
      const left = plan.deadline - performance.now();
      const slice = Math.max(0, Math.min(plan.freqMs, left));
      const res = Atomics.wait(ctl, UPD, snap, slice);
      if (res !== 'timed-out' || Atomics.load(ctl, UPD) !== snap) return true;
      if (performance.now() >= plan.deadline) return false;
    }
  } finally {
    registerWaiter(ctl, -1);
  }
}

// ---- dead-holder recovery ----

export interface SharedareaLockRelease {
  readonly id: number;
  /** the uWSGI lock name */
  readonly lock: string;
  readonly threadId: number;
  readonly mode: 'write' | 'read' | 'span' | 'wait';
  /** log line in uWSGI's deadlock-detector format */
  readonly message: string;
}

/** Release everything thread `tid` holds on one area (the thread must be dead). */
export function releaseHeldBy(ctl: Int32Array, id: number, tid: number): SharedareaLockRelease[] {
  const who = tid + 1;
  const out: SharedareaLockRelease[] = [];
  const note = (mode: SharedareaLockRelease['mode']): void => {
    out.push({
      id,
      lock: `sharedarea${id}`,
      threadId: tid,
      mode,
      message: `[deadlock-detector] thread ${tid} was holding lock sharedarea${id} (${mode})`,
    });
  };
  if (Atomics.compareExchange(ctl, STATE, -who, 0) === -who) note('write');
  for (let k = 0; k < READER_SLOTS; k++) {
    if (Atomics.compareExchange(ctl, RSLOT0 + k, who, 0) === who) {
      Atomics.sub(ctl, STATE, 1);
      note('read');
    }
  }
  if (Atomics.compareExchange(ctl, SPAN, who, 0) === who) {
    note('span');
    Atomics.notify(ctl, SPAN);
  }
  for (let k = 0; k < WAITER_SLOTS; k++) {
    const i = WSLOT0 + 2 * k;
    if (Atomics.load(ctl, i) === who) {
      Atomics.sub(ctl, WAITERS, Atomics.exchange(ctl, i + 1, 0));
      Atomics.store(ctl, i, 0);
      // not a lock: no deadlock-detector line, but keep writers off the notify path
    }
  }
  if (out.length > 0) Atomics.notify(ctl, STATE);
  return out;
}

/** Holder for the stats `locks` entry: writer thread, else the first recorded reader, else null. */
export function lockHolder(ctl: Int32Array): { threadId: number; mode: 'write' | 'read' } | null {
  const s = Atomics.load(ctl, STATE);
  if (s < 0) return { threadId: -s - 1, mode: 'write' };
  if (s > 0) {
    for (let k = 0; k < READER_SLOTS; k++) {
      const v = Atomics.load(ctl, RSLOT0 + k);
      if (v !== 0) return { threadId: v - 1, mode: 'read' };
    }
  }
  return null;
}
