/**
 * The mule API, usable in any thread of a uwsgi-ts instance (uWSGI's `mule_msg`,
 * `mule_get_msg`, `farm_msg`, `farm_get_msg`, `mule_id`, `in_farm`).
 *
 * Messages are bytes (Uint8Array/Buffer, delivered as a Buffer), strings (delivered as
 * strings) or any msgpackr-encodable value (delivered decoded). Sending never blocks:
 * a full queue makes `muleMsg` return false (and log a rate-limited line), or throw
 * with `{ throwOnFull: true }`. Receiving is for mules only.
 *
 * Per-thread state lives on `globalThis[Symbol.for('uwsgi-ts.mule-api')]`, so two copies
 * of this module in one thread (the package imported by name from an app, and the
 * runtime's own copy) see the same queues and the same mule identity.
 */
import { Packr, Unpackr } from 'msgpackr';
import { refuseFunction, unencodableMessage } from './mule-message-types.js';
import { UwsgiError, echo } from './errors.js';
import { log } from './log-writer.js';
import { threadIdentity } from './thread-identity.js';
import {
  LISTEN_FARMS, LISTEN_OWN, LISTEN_SHARED,
  isMuleQueuesInit, openMuleQueues, type FarmQueue, type MuleQueues, type QueueStats, type RecordReader, type RingQueue,
} from './mule-queues.js';

/** `muleGetMsg` result when the master asks the mule to stop (reload, shutdown, mule reload). */
export const MULE_STOP: unique symbol = Symbol.for('uwsgi-ts.mule-stop') as never;
/** `muleGetMsg` result when the timeout elapsed with no message (uWSGI returns b''). */
export const MULE_TIMEOUT: unique symbol = Symbol.for('uwsgi-ts.mule-timeout') as never;
export type MuleStop = typeof MULE_STOP;
export type MuleTimeout = typeof MULE_TIMEOUT;

export interface MuleMsgOptions {
  /** Throw UWSGI_ERR_MULE_QUEUE_FULL / UWSGI_ERR_MULE_MSG_SIZE instead of returning false. */
  readonly throwOnFull?: boolean;
}

export interface MuleGetMsgOptions {
  /** Seconds, as uWSGI: -1 or absent = wait forever, 0 = poll once. Fractions allowed. */
  readonly timeout?: number;
  /** Milliseconds; wins over `timeout` when both are given. */
  readonly timeoutMs?: number;
  /** Also read this mule's farm queues (default true, as uWSGI). */
  readonly farms?: boolean;
}

export type MuleMsgHook = (message: unknown) => unknown;

const KIND_BYTES = 0;
const KIND_STRING = 1;
const KIND_PACKED = 2;

interface FullLog { last: number; suppressed: number }

interface MuleApiState {
  queues: MuleQueues | null;
  stop: AbortController | null;
  hook: MuleMsgHook | undefined;
  keepAlive: NodeJS.Timeout | undefined;
  waiting: number;
  fullLog: Map<string, FullLog>;
  mine: Me | undefined;
  /** Messages taken by this mule thread (mod 2^30): the busy mark of the current one. */
  taken: number;
}

const KEY = Symbol.for('uwsgi-ts.mule-api');
type Holder = { [KEY]?: MuleApiState };

function state(): MuleApiState {
  const g = globalThis as Holder;
  return (g[KEY] ??= { queues: null, stop: null, hook: undefined, keepAlive: undefined, waiting: 0, fullLog: new Map(), mine: undefined, taken: 0 });
}

/** This thread's state (one object per thread, shared by every copy of this module in it). */
const ST = state();

const packr = new Packr({ useRecords: false, writeFunction: refuseFunction });
/** Decodes in place from the ring (shared memory, reused once consumed): every binary inside is copied out. */
const unpackr = new Unpackr({ useRecords: false, copyBuffers: true });

/**
 * Runtime wiring: give this thread the queues (the `mules` value the master hands every
 * worker and mule). `null` = an instance without mules.
 */
export function attachMuleQueues(init: unknown): void {
  const st = ST;
  st.mine = undefined;
  if (init === null || init === undefined) {
    st.queues = null;
    return;
  }
  if (!isMuleQueuesInit(init)) {
    throw new UwsgiError('UWSGI_ERR_MULE_SPEC', `attachMuleQueues(): not a mule queue set from the master: ${echo(init)}`);
  }
  st.queues = openMuleQueues(init);
  st.mine = undefined;
}

/** Runtime wiring, mule threads only: the controller whose signal `muleStopSignal()` returns. */
export function initMuleStop(): AbortController {
  const st = ST;
  st.stop = new AbortController();
  return st.stop;
}

/** This mule's id (1..N), 0 outside mules (as uWSGI's `mule_id()`). */
export function muleId(): number {
  const who = threadIdentity();
  return who.role === 'mule' ? who.id : 0;
}

function queuesOrThrow(what: string): MuleQueues {
  const q = ST.queues;
  if (q === null || q.count === 0) {
    throw new UwsgiError('UWSGI_ERR_MULE_ID', `${what}: no mule configured (start the instance with --mules N or --mule ...)`);
  }
  return q;
}

function kindOf(message: unknown): number {
  if (message instanceof Uint8Array) return KIND_BYTES;
  return typeof message === 'string' ? KIND_STRING : KIND_PACKED;
}

function encode(message: unknown, kind: number, what: string): Uint8Array {
  if (kind === KIND_BYTES) return message as Uint8Array;
  if (kind === KIND_STRING) return Buffer.from(message as string, 'utf8');
  try {
    return packr.pack(message);
  } catch (e) {
    throw unencodableMessage(message, what, e);
  }
}

/**
 * Decode a record where it lies in the ring, inside the reader's lock: the one copy a
 * message costs on the way out (bytes → a new Buffer, text → a string, msgpack → the value
 * with its binaries copied). Nothing handed to user code points into the ring.
 */
const decode: RecordReader<unknown> = (kind, data, start, len) => {
  switch (kind) {
    case KIND_BYTES: {
      const out = Buffer.allocUnsafe(len);
      out.set(new Uint8Array(data.buffer, data.byteOffset + start, len)); // fastest small copy measured (vs Buffer#copy, slice)
      return out;
    }
    case KIND_STRING: return data.toString('utf8', start, start + len);
    case KIND_PACKED: return unpackr.unpack(data, { start, end: start + len });
    default:
      throw new UwsgiError('UWSGI_ERR_MULE_MSG_SIZE', `mule message of unknown kind ${echo(kind)} (${len} bytes): sender and receiver run different uwsgi-ts versions?`);
  }
};

/** What take() found: nothing, or a decoded message (which may itself be undefined or null). */
const NOTHING: unique symbol = Symbol('nothing');

function reject(q: RingQueue, code: 'UWSGI_ERR_MULE_QUEUE_FULL' | 'UWSGI_ERR_MULE_MSG_SIZE', text: string, options: MuleMsgOptions | undefined): false {
  if (options?.throwOnFull) throw new UwsgiError(code, text);
  // Logged like uWSGI, at most once per second per queue and thread (with the count of the lines left out).
  const st = ST;
  const now = Date.now();
  const key = `${code}:${q.name}`;
  const entry = st.fullLog.get(key);
  if (entry && now - entry.last < 1000) {
    entry.suppressed++;
    return false;
  }
  const more = entry?.suppressed ? ` (${entry.suppressed} more since the last line)` : '';
  st.fullLog.set(key, { last: now, suppressed: 0 });
  log.line(`[${code}] ${text}${more}`);
  return false;
}

function send(q: MuleQueues, queue: RingQueue, message: unknown, what: string, options: MuleMsgOptions | undefined): boolean {
  const kind = kindOf(message);
  const payload = encode(message, kind, what);
  if (payload.length > q.msgSize) {
    queue.countRejected();
    return reject(queue, 'UWSGI_ERR_MULE_MSG_SIZE',
      `mule_send_msg(): Message too long: ${payload.length} bytes for ${queue.name} (--mule-msg-size ${q.msgSize})`, options);
  }
  if (!queue.push(kind, payload)) {
    const s = queue.stats();
    return reject(queue, 'UWSGI_ERR_MULE_QUEUE_FULL',
      `*** MULE MSG QUEUE IS FULL: ${queue.name} holds ${s.queued} messages, ${s.bytes} of ${s.capacity} bytes; ${payload.length}-byte message refused (you can tune it with --mule-queue-size / --mule-msg-size) ***`, options);
  }
  return true;
}

function findFarm(q: MuleQueues, name: string, what: string): FarmQueue {
  for (const f of q.farms) if (f.name === name) return f;
  throw new UwsgiError('UWSGI_ERR_MULE_ID', `${what}: unknown farm ${echo(name)} (farms: ${q.farms.map((f) => f.name).join(', ') || 'none'})`);
}

/**
 * Queue a message for a mule. `target`: absent or 0 → the shared queue (first free
 * mule); N → mule N; a string → that farm. Returns true when queued, false when the
 * queue is full or the message is longer than --mule-msg-size (logged), unless
 * `throwOnFull` is set. Throws UWSGI_ERR_MULE_ID for a bad target or no mules.
 */
export function muleMsg(message: unknown, target?: number | string, options?: MuleMsgOptions): boolean {
  const q = queuesOrThrow('muleMsg()');
  if (target === undefined || target === 0) {
    if (!send(q, q.shared, message, 'muleMsg()', options)) return false;
    q.board.wakeFirst(q.allIds, LISTEN_SHARED);
    return true;
  }
  if (typeof target === 'string') return sendFarm(q, findFarm(q, target, 'muleMsg()'), message, 'muleMsg()', options);
  if (typeof target !== 'number' || !Number.isInteger(target)) {
    throw new UwsgiError('UWSGI_ERR_MULE_ID', `muleMsg(): invalid mule ${echo(target)} (0, a mule number or a farm name)`);
  }
  if (target < 0 || target > q.count) {
    throw new UwsgiError('UWSGI_ERR_MULE_ID', `muleMsg(): invalid mule number ${echo(target)} (mules: 1..${q.count})`);
  }
  if (!send(q, q.mules[target - 1], message, 'muleMsg()', options)) return false;
  q.board.wake(target, LISTEN_OWN);
  return true;
}

function sendFarm(q: MuleQueues, farm: FarmQueue, message: unknown, what: string, options: MuleMsgOptions | undefined): boolean {
  if (!send(q, farm.queue, message, what, options)) return false;
  q.board.wakeFirst(farm.members, LISTEN_FARMS);
  return true;
}

/** Queue a message for the first free mule of `farm`. Same return value as muleMsg(). Unknown farm → UWSGI_ERR_MULE_ID. */
export function farmMsg(farm: string, message: unknown, options?: MuleMsgOptions): boolean {
  const q = queuesOrThrow('farmMsg()');
  return sendFarm(q, findFarm(q, farm, 'farmMsg()'), message, 'farmMsg()', options);
}

/** True when this mule belongs to `farm` (or, without a name, to any farm). False outside mules. */
export function inFarm(farm?: string): boolean {
  const id = muleId();
  const q = ST.queues;
  if (id === 0 || !q) return false;
  return q.farms.some((f) => (farm === undefined || f.name === farm) && f.members.includes(id));
}

/** Aborted when the master asks this mule to stop (reload, shutdown): stop timers, close resources. */
export function muleStopSignal(): AbortSignal {
  const st = ST;
  if (muleId() === 0 || !st.stop) throw new UwsgiError('UWSGI_ERR_NOT_IN_MULE', 'muleStopSignal(): only available in a mule');
  return st.stop.signal;
}

/** The handler a script-less mule (`--mules N`, `--mule` with no value) runs for each message (uWSGI's mule_msg_hook). */
export function setMuleMsgHook(hook: MuleMsgHook | undefined): void {
  if (hook !== undefined && typeof hook !== 'function') {
    throw new UwsgiError('UWSGI_ERR_MULE_SPEC', `setMuleMsgHook(): not a function: ${echo(hook)}`);
  }
  ST.hook = hook;
}

export function muleMsgHook(): MuleMsgHook | undefined {
  return ST.hook;
}

/** Per-queue counters (queued, bytes, sent, received, rejected) of this instance. */
export function muleQueueStats(): QueueStats[] {
  const q = ST.queues;
  if (!q) return [];
  return [q.shared.stats(), ...q.mules.map((m) => m.stats()), ...q.farms.map((f) => f.queue.stats())];
}

// ---------------------------------------------------------------- receiving (mules only)

interface Me {
  readonly q: MuleQueues;
  readonly id: number;
  readonly own: RingQueue;
  readonly farms: readonly FarmQueue[];
  /** The receivers of option-less calls (no deadline), built once: the hot path allocates none. */
  readonly plain: { mule?: Receiver; farm?: Receiver };
}

function me(what: string): Me {
  const id = muleId();
  if (id === 0) throw new UwsgiError('UWSGI_ERR_NOT_IN_MULE', `${what}: you can receive mule messages only in a mule !!! (this thread is ${threadIdentity().role} ${threadIdentity().id})`);
  const st = ST;
  const q = st.queues;
  if (!q) throw new UwsgiError('UWSGI_ERR_NOT_IN_MULE', `${what}: this mule has no queues attached`);
  if (!st.mine || st.mine.id !== id || st.mine.q !== q) {
    st.mine = { q, id, own: q.mules[id - 1], farms: q.farms.filter((f) => f.members.includes(id)), plain: {} };
  }
  return st.mine;
}

/** The longest a JS timer waits (setTimeout fires at once above it, with a TimeoutOverflowWarning). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Validate the options of one muleGetMsg/farmGetMsg call (only calls that pass options): the timeout in ms, -1 = forever. */
function timeoutOf(o: MuleGetMsgOptions, what: string): number {
  if (typeof o !== 'object' || o === null) {
    throw new UwsgiError('UWSGI_ERR_OPTION_VALUE', `${what}: options ${echo(o)} (${o === null ? 'null' : `a ${typeof o}`}) must be an object { timeout?, timeoutMs?, farms? }`);
  }
  if (o.farms !== undefined && typeof o.farms !== 'boolean') {
    throw new UwsgiError('UWSGI_ERR_OPTION_VALUE', `${what}: farms ${echo(o.farms)} must be true or false`);
  }
  if (o.timeoutMs !== undefined) return durationMs(o.timeoutMs, 'timeoutMs', 'milliseconds', 1, what);
  if (o.timeout !== undefined) return durationMs(o.timeout, 'timeout', 'seconds', 1000, what);
  return -1;
}

function durationMs(v: unknown, name: string, unit: string, scale: number, what: string): number {
  if (typeof v !== 'number' || Number.isNaN(v) || (v < 0 && v !== -1)) {
    throw new UwsgiError('UWSGI_ERR_OPTION_VALUE',
      `${what}: ${name} ${echo(v)}${typeof v === 'number' ? '' : ` (a ${typeof v})`} must be a number of ${unit} ≥ 0, or -1 to wait forever`);
  }
  return v < 0 ? -1 : v * scale;
}

type Mode = 'mule' | 'farm';

/** The next message, decoded, from this mule's queues in order (own, shared, farms), or NOTHING. */
function take(who: Me, mode: Mode, farms: boolean): unknown {
  let m: unknown = NOTHING;
  if (mode === 'mule') {
    m = who.own.popWith(decode, NOTHING);
    if (m === NOTHING) m = who.q.shared.popWith(decode, NOTHING);
  }
  if (m === NOTHING && (farms || mode === 'farm')) {
    for (const f of who.farms) if ((m = f.queue.popWith(decode, NOTHING)) !== NOTHING) break;
  }
  return m;
}

function passBaton(who: Me, mode: Mode, farms: boolean): void {
  const { q } = who;
  if (mode === 'mule' && !q.shared.isEmpty()) q.board.wakeFirst(q.allIds, LISTEN_SHARED);
  if (farms || mode === 'farm') for (const f of who.farms) if (!f.queue.isEmpty()) q.board.wakeFirst(f.members, LISTEN_FARMS);
}

function bitsFor(mode: Mode, farms: boolean): number {
  return mode === 'farm' ? LISTEN_FARMS : LISTEN_OWN | LISTEN_SHARED | (farms ? LISTEN_FARMS : 0);
}

type WaitAsyncResult = { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, t?: number): WaitAsyncResult }).waitAsync;

/**
 * Before the event-loop wait, a short busy look at the doorbell (UWSGI_TS_MULE_SPIN_US,
 * default 15 µs, 0 = off): a reply that comes back within that time (request/response
 * between mules, a busy queue) is taken without the cost of an event-loop wake-up.
 * There is deliberately no short blocking Atomics.wait step: a futex wait with a timeout
 * under ~0.5 ms wakes tens of µs late on Linux when notified (measured: a 50 µs timed wait
 * gave 28 µs round trips, an untimed one 4 µs), which made the lockstep p50 ~63 µs on a busy
 * machine. After the look the mule waits in the event loop (Atomics.waitAsync, untimed).
 */
const SPIN_MS = spinSetting(process.env.UWSGI_TS_MULE_SPIN_US);

/** UWSGI_TS_MULE_SPIN_US (microseconds, default 15, 0 = off) tunes it. */
function spinSetting(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 0.015;
  const us = Number(raw);
  if (!Number.isFinite(us) || us < 0 || us > 100_000) {
    throw new UwsgiError('UWSGI_ERR_OPTION_VALUE', `UWSGI_TS_MULE_SPIN_US ${echo(raw)}: must be a number of microseconds between 0 and 100000`);
  }
  return us / 1000;
}

/**
 * The look adapts, per thread: a look that caught a message keeps the full budget, a
 * look that missed halves it, and below 1/8 of the budget the thread stops looking (the
 * cores are busy with other work: spinning only takes CPU from the sender, and a sender
 * queued behind a spinning mule on its core waits for the next scheduler tick, ~1 ms) but
 * for one full look every `probeEvery` waits (32, doubling after each failed probe up to
 * 4096), to notice when the cores are free again.
 *
 * The look polls the queues' TAIL words (and the STOP word), not the doorbell: the mule
 * does not advertise LISTEN bits while it looks, so senders neither ring nor notify, and
 * the LISTEN word's cache line stays put. Only a mule about to park advertises (then looks
 * once more: see look()).
 */
const SPIN_PROBE = 32;
const SPIN_PROBE_MAX = 4096;
let probeEvery = SPIN_PROBE;
let spinBudget = SPIN_MS;
let parkedSinceProbe = 0;

function anyRecords(rc: Receiver): boolean {
  const { who } = rc;
  if (rc.mode === 'mule' && (who.own.hasRecords() || who.q.shared.hasRecords())) return true;
  if (rc.farms || rc.mode === 'farm') for (const f of who.farms) if (f.queue.hasRecords()) return true;
  return who.q.board.stopRequested(who.id);
}

/** Busy look at the queues (adaptive, at most SPIN_MS); true if a message (or a stop request) is there. */
function spinFor(rc: Receiver): boolean {
  let budget = spinBudget;
  const probe = budget === 0;
  if (probe) {
    if (SPIN_MS === 0 || ++parkedSinceProbe < probeEvery) return false;
    parkedSinceProbe = 0;
    // Longer than a normal look: when both peers of a request/response pair are parked, a
    // reply takes two event-loop wake-ups (~20 µs); the probe must outlast that to notice.
    budget = SPIN_MS * 4;
  }
  const until = performance.now() + budget;
  for (let i = 1; ; i++) {
    if (anyRecords(rc)) {
      if (spinBudget < SPIN_MS) spinBudget = SPIN_MS;
      probeEvery = SPIN_PROBE;
      return true;
    }
    if ((i & 15) === 0 && performance.now() > until) break;
  }
  if (probe) probeEvery = Math.min(SPIN_PROBE_MAX, probeEvery * 2); // a failed probe: probe half as often
  spinBudget = probe || budget / 2 < SPIN_MS / 8 ? 0 : Math.min(budget, SPIN_MS) / 2;
  return false;
}

/**
 * A park that ended soon after it began (a message came within NEAR_MISS_SPINS looks) means
 * the look gave up just short, typically because the peer of a request/response pair was
 * itself parked and took an event-loop wake-up to answer: stretch the next look to 1.5× the
 * time it took (at most NEAR_MISS_SPINS × the budget), so both sides settle into looking
 * instead of both parking. Long parks (sparse messages) leave the budget to decay as before.
 */
const NEAR_MISS_SPINS = 4;

function nearMiss(parkedMs: number): void {
  if (SPIN_MS === 0 || parkedMs > SPIN_MS * NEAR_MISS_SPINS) return;
  spinBudget = Math.min(SPIN_MS * NEAR_MISS_SPINS, Math.max(spinBudget, parkedMs * 1.5));
  probeEvery = SPIN_PROBE;
}

/**
 * A mule whose event loop has nothing else to do (no timer, socket, pending I/O, ref'd port:
 * `process.getActiveResourcesInfo()` is empty) waits for its doorbell in the kernel
 * (`Atomics.wait`), as uWSGI's mules block in read(): woken in a few µs instead of an
 * event-loop wake-up (a platform task, then the loop's epoll: 15–60 µs on a busy machine).
 * Blocking then delays nothing: every source of work a thread can have shows up there, except
 * a chain of promises that needs no resource, which cannot outlive the wait anyway unless it
 * waits for this very message. The stop word rings the doorbell, and worker.terminate()
 * interrupts the wait. UWSGI_TS_MULE_BLOCK=0 always waits in the event loop.
 */
const BLOCK_WHEN_IDLE = blockSetting(process.env.UWSGI_TS_MULE_BLOCK);

function blockSetting(raw: string | undefined): boolean {
  if (raw === undefined || raw === '' || raw === '1') return true;
  if (raw === '0') return false;
  throw new UwsgiError('UWSGI_ERR_OPTION_VALUE', `UWSGI_TS_MULE_BLOCK ${echo(raw)}: must be 0 (always wait in the event loop) or 1 (the default)`);
}

function loopIdle(): boolean {
  return process.getActiveResourcesInfo().length === 0;
}

function holdAlive(): void {
  const st = ST;
  // Atomics.waitAsync alone does not keep a thread alive (nodejs/node#44729).
  if (!st.keepAlive) st.keepAlive = setInterval(() => undefined, 1 << 30);
  if (st.waiting++ === 0) st.keepAlive.ref();
}

function releaseAlive(): void {
  const st = ST;
  if (--st.waiting === 0) st.keepAlive?.unref();
}

interface Receiver {
  readonly who: Me;
  readonly farms: boolean;
  readonly mode: Mode;
  readonly bits: number;
  readonly deadline: number;
}

function receiver(mode: Mode, options: MuleGetMsgOptions | undefined, what: string): Receiver {
  const who = me(what);
  let rc: Receiver | undefined;
  if (options === undefined) {
    rc = who.plain[mode] ??= { who, farms: true, mode, bits: bitsFor(mode, true), deadline: Infinity };
  } else {
    const timeoutMs = timeoutOf(options, what);
    const farms = options.farms ?? true;
    rc = { who, farms, mode, bits: bitsFor(mode, farms), deadline: timeoutMs < 0 ? Infinity : Date.now() + timeoutMs };
  }
  who.q.board.setBusyMark(who.id, ST.taken << 1); // waiting (even mark)
  return rc;
}

/** A message was taken: a new odd busy mark for --mule-harakiri (the master times it), and the baton. */
function got(rc: Receiver, m: unknown): unknown {
  passBaton(rc.who, rc.mode, rc.farms);
  markBusy(rc.who.q, rc.who.id);
  return m;
}

function markBusy(q: MuleQueues, id: number): void {
  ST.taken = (ST.taken + 1) & 0x3fffffff;
  q.board.setBusyMark(id, (ST.taken << 1) | 1);
}

/** One look at the queues: a message, MULE_STOP, MULE_TIMEOUT, or the doorbell value to wait on. */
function look(rc: Receiver): { done: true; value: unknown } | { done: false; rung: number; left: number } {
  const { board } = rc.who.q;
  const { id } = rc.who;
  const cell = board.doorbellCell(id);
  const rung = Atomics.load(cell.array, cell.index);
  if (board.stopRequested(id)) {
    board.listen(id, 0);
    return { done: true, value: stopSeen() };
  }
  // Advertise, then look: a sender that enqueues after this look sees the LISTEN bits and rings.
  board.listen(id, rc.bits);
  const m = take(rc.who, rc.mode, rc.farms);
  if (m !== NOTHING) {
    board.listen(id, 0);
    return { done: true, value: got(rc, m) };
  }
  const left = rc.deadline === Infinity ? Infinity : rc.deadline - Date.now();
  if (left <= 0) {
    board.listen(id, 0);
    return { done: true, value: MULE_TIMEOUT };
  }
  return { done: false, rung, left };
}

/**
 * The STOP word is set: abort muleStopSignal() now if the master's stop message has not
 * arrived yet (it comes on the thread's port, after the word), so a mule that got MULE_STOP
 * always sees its stop signal aborted. Runs only when stopping, never per message.
 */
function stopSeen(): typeof MULE_STOP {
  const c = ST.stop;
  if (c && !c.signal.aborted) c.abort(new UwsgiError('UWSGI_ERR_STOPPED', `mule ${muleId()}: stop requested by the master`));
  return MULE_STOP;
}

/** Take without advertising (no LISTEN writes on the hot path): a message, MULE_STOP, MULE_TIMEOUT or NOTHING. */
function fastTake(rc: Receiver): unknown {
  const { board } = rc.who.q;
  if (board.stopRequested(rc.who.id)) return stopSeen();
  const m = take(rc.who, rc.mode, rc.farms);
  if (m !== NOTHING) return got(rc, m);
  if (rc.deadline !== Infinity && rc.deadline - Date.now() <= 0) return MULE_TIMEOUT;
  return NOTHING;
}

/** Event-loop wait for the doorbell to move from `rung`, at most `left` ms. */
async function park(cells: Int32Array, index: number, rung: number, left: number): Promise<void> {
  // Untimed waitAsync: V8 schedules a platform task per timed wait (~2 µs more per wake-up
  // measured); a JS timer that rings our own doorbell costs less and only when a deadline is set.
  const w = waitAsync(cells, index, rung);
  if (!w.async) return;
  holdAlive();
  // A deadline beyond the longest timer: wake at the timer's limit and park again (the deadline stays exact).
  const timer = left === Infinity ? undefined : setTimeout(() => { Atomics.notify(cells, index); }, Math.min(Math.ceil(left), MAX_TIMER_MS));
  try {
    await w.value;
  } finally {
    if (timer) clearTimeout(timer);
    releaseAlive();
  }
}

/**
 * A message already queued resolves at once, without entering an async function (one
 * promise per message, no receiver allocated for option-less calls); errors reject.
 */
function receiveNow(mode: Mode, options: MuleGetMsgOptions | undefined, what: string): Promise<unknown> {
  try {
    const rc = receiver(mode, options, what);
    const m = fastTake(rc);
    return m !== NOTHING ? Promise.resolve(m) : receive(rc);
  } catch (e) {
    return Promise.reject(e);
  }
}

/** Take, or look (adaptive spin) and take again, until there is a message or the look says to wait. */
function beforeWait(rc: Receiver): ReturnType<typeof look> {
  for (;;) {
    const m = fastTake(rc);
    if (m !== NOTHING) return { done: true, value: m };
    if (!spinFor(rc)) return look(rc);
  }
}

/** Woken (by a sender, the stop word or the deadline): stop advertising until the next park,
 * so a sender of a shared or farm queue does not pick this mule as the idle one meanwhile. */
function woke(rc: Receiver): void {
  rc.who.q.board.listen(rc.who.id, 0);
}

async function receive(rc: Receiver): Promise<unknown> {
  const cell = rc.who.q.board.doorbellCell(rc.who.id);
  for (;;) {
    const l = beforeWait(rc);
    if (l.done) return l.value;
    const parkedAt = performance.now();
    if (BLOCK_WHEN_IDLE && loopIdle()) Atomics.wait(cell.array, cell.index, l.rung, l.left);
    else await park(cell.array, cell.index, l.rung, l.left);
    nearMiss(performance.now() - parkedAt);
    woke(rc);
  }
}

function receiveSync(mode: Mode, options: MuleGetMsgOptions | undefined, what: string): unknown {
  const rc = receiver(mode, options, what);
  const cell = rc.who.q.board.doorbellCell(rc.who.id);
  for (;;) {
    const l = beforeWait(rc);
    if (l.done) return l.value;
    Atomics.wait(cell.array, cell.index, l.rung, l.left);
    woke(rc);
  }
}

/**
 * Mules only: the next message from this mule's own queue, then the shared queue, then
 * its farms' queues (`farms: false` skips those). Resolves with MULE_TIMEOUT after the
 * timeout, with MULE_STOP when the master asks the mule to stop. The mule counts as busy
 * on the returned message (for --mule-harakiri) until its next muleGetMsg call.
 */
export function muleGetMsg<T = unknown>(options?: MuleGetMsgOptions): Promise<T | MuleStop | MuleTimeout> {
  return receiveNow('mule', options, 'muleGetMsg()') as Promise<T | MuleStop | MuleTimeout>;
}

/** Blocking form of muleGetMsg (Atomics.wait): for mule code that runs synchronous loops. */
export function muleGetMsgSync<T = unknown>(options?: MuleGetMsgOptions): T | MuleStop | MuleTimeout {
  return receiveSync('mule', options, 'muleGetMsgSync()') as T | MuleStop | MuleTimeout;
}

/** Mules only: the next message of this mule's farms (a mule in no farm waits until timeout or stop). */
export function farmGetMsg<T = unknown>(options?: Omit<MuleGetMsgOptions, 'farms'>): Promise<T | MuleStop | MuleTimeout> {
  return receiveNow('farm', options, 'farmGetMsg()') as Promise<T | MuleStop | MuleTimeout>;
}

export function farmGetMsgSync<T = unknown>(options?: Omit<MuleGetMsgOptions, 'farms'>): T | MuleStop | MuleTimeout {
  return receiveSync('farm', options, 'farmGetMsgSync()') as T | MuleStop | MuleTimeout;
}

/** `for await (const m of muleMessages()) …` — every message until the mule is asked to stop. */
export async function* muleMessages<T = unknown>(options?: Omit<MuleGetMsgOptions, 'timeout' | 'timeoutMs'>): AsyncGenerator<T, void, undefined> {
  for (;;) {
    const m = await muleGetMsg<T>(options);
    if (m === MULE_STOP) return;
    if (m === MULE_TIMEOUT) continue;
    yield m;
  }
}

/** Mark this mule idle for --mule-harakiri (the message it took is done). muleGetMsg does it on entry. */
export function muleDone(): void {
  const id = muleId();
  const q = ST.queues;
  if (id !== 0 && q) q.board.setBusyMark(id, ST.taken << 1);
}

/** Mark this mule busy since now (a handler started), for --mule-harakiri. */
export function muleBusy(): void {
  const id = muleId();
  const q = ST.queues;
  if (id !== 0 && q) markBusy(q, id);
}
