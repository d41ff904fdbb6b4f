/**
 * Mule and farm message queues: bounded byte rings in SharedArrayBuffers.
 *
 * The master creates every queue once (one per mule, one per farm, one shared "any
 * mule" queue) plus a "board" of per-mule words, and hands the same buffers to every
 * worker and mule at spawn. Senders write a record under a short Atomics lock and wake
 * one listening consumer; consumers wait on their own doorbell word, so one wait covers
 * every queue a mule reads (own, shared, farms). There is no master hop on the message
 * path, and queued messages survive the death of a consumer: its replacement reads them.
 *
 * Ring layout: a 192-byte Int32 header of three 64-byte lines, then `capacity` bytes (a
 * power of two). Line 0 holds the constants; line 1 the producer side (P_LOCK, TAIL,
 * SENT, REJECTED), written only by senders; line 2 the consumer side (C_LOCK, HEAD,
 * RECEIVED), written only by readers. It is a two-lock queue: senders serialize among
 * themselves on P_LOCK and readers on C_LOCK, so a sender and a reader never wait for each
 * other nor write the same cache line. Each side keeps a thread-local copy of the other
 * side's index (a sender: HEAD and RECEIVED; a reader: TAIL) and re-reads it only when the
 * copy says "full" / "empty", or when another thread of its own side moved since (then the
 * copy may be older than the ring): in the steady one-sender/one-reader case a message
 * costs no cache-line transfer but the record's own bytes and the index it publishes.
 *
 * HEAD and TAIL are byte counters that only grow (mod 2^32); the ring is empty when they
 * are equal. SENT and RECEIVED count messages (mod 2^32); SENT - RECEIVED = messages queued.
 * Each record is an 8-byte header (u32 length, u32 kind) and the payload padded to 8
 * bytes; a payload may wrap around the end of the ring. A write commits with one store of
 * TAIL and a read with one store of HEAD, so a thread terminated inside a lock leaves the
 * ring consistent; only the lock word and the counter written after the commit need repair
 * (`repair()`, run by the master when the holder is gone).
 *
 * Board layout: per mule id (1..N; 0 unused) two 64-byte lines: Int32 words DOORBELL (bumped
 * to wake the mule), LISTEN (bit set of the queue kinds the mule is waiting on, 0 when
 * busy), STOP (set by the master); then, on the second line, the BUSY mark the master reads
 * for harakiri: odd while the mule works on a message (a new odd value per message taken),
 * even while it waits. The master times how long one odd mark stays (no clock read on the
 * mule's message path).
 */
import { threadId, isMainThread } from 'node:worker_threads';
import { UwsgiError, echo } from './errors.js';

/** Bytes of one record's header; the payload is padded to a multiple of 8. */
export const RECORD_OVERHEAD = 8;

// Line 0: constants.
const H_CAPACITY = 0;
const H_MAX = 1;
// Line 1: producer side.
const H_PLOCK = 16;
const H_TAIL = 17;
const H_SENT = 18;
const H_REJECTED = 19;
// Line 2: consumer side.
const H_CLOCK = 32;
const H_HEAD = 33;
const H_RECEIVED = 34;
const HEADER_BYTES = 192;

/** How long a sender or reader may spin for a queue lock before giving up (the master repairs dead holders within ~2 s). */
const LOCK_DEADLINE_MS = 5000;

/** Lock owner value for this thread: threadId + 1 (the main thread's threadId is 0). */
const OWNER = threadId + 1;

export interface QueueInit {
  readonly name: string;
  readonly buffer: SharedArrayBuffer;
}

export interface QueueStats {
  readonly name: string;
  readonly queued: number;
  readonly bytes: number;
  readonly capacity: number;
  readonly maxMessages: number;
  readonly sent: number;
  readonly received: number;
  readonly rejected: number;
}

export interface PoppedRecord {
  readonly kind: number;
  readonly payload: Buffer;
}

/**
 * Reads one record in place, inside the reader's lock: `data` is a view of the ring
 * (shared memory, overwritten once the record is consumed), the payload is
 * `data[start, start + len)` when `wrapped` is false. It must copy what it keeps.
 * When `wrapped` is true the payload wraps around the end of the ring and `data` is a
 * private copy of the payload alone (start 0).
 */
export type RecordReader<T> = (kind: number, data: Buffer, start: number, len: number) => T;

function nextPow2(n: number): number {
  let p = 64;
  while (p < n) p *= 2;
  return p;
}

/** Ring bytes for a queue: room for `maxMessages` messages of 1 KiB, at least two of `msgSize`, capped at 64 MiB unless `msgSize` needs more. */
export function ringCapacity(msgSize: number, maxMessages: number): number {
  const wanted = Math.max(2 * (msgSize + 16), Math.min(maxMessages * 1024, 64 * 1024 * 1024));
  return nextPow2(wanted);
}

const copyRecord: RecordReader<PoppedRecord> = (kind, data, start, len) => {
  const payload = Buffer.allocUnsafe(len);
  data.copy(payload, 0, start, start + len);
  return { kind, payload };
};

export class RingQueue {
  readonly name: string;
  readonly capacity: number;
  readonly maxMessages: number;
  private readonly mask: number;
  private readonly h: Int32Array;
  private readonly data: Buffer;
  private readonly view: DataView;
  private readonly scratch = new Int32Array(new SharedArrayBuffer(4));
  // Sender-side copies (this thread's): the TAIL/SENT it last wrote and HEAD/RECEIVED as last read.
  private pValid = false;
  private pTail = 0;
  private pSent = 0;
  private pHead = 0;
  private pReceived = 0;
  // Reader-side copies: the HEAD it last wrote (or read) and TAIL as last read.
  private cValid = false;
  private cHead = 0;
  private cTail = 0;

  static create(name: string, capacity: number, maxMessages: number): QueueInit {
    if (capacity < 64 || (capacity & (capacity - 1)) !== 0) {
      throw new UwsgiError('UWSGI_ERR_OPTION_VALUE', `mule queue ${echo(name)}: capacity ${echo(capacity)} must be a power of two ≥ 64`);
    }
    const buffer = new SharedArrayBuffer(HEADER_BYTES + capacity);
    const h = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    h[H_CAPACITY] = capacity;
    h[H_MAX] = maxMessages;
    return { name, buffer };
  }

  constructor(init: QueueInit) {
    this.name = init.name;
    this.h = new Int32Array(init.buffer, 0, HEADER_BYTES / 4);
    this.capacity = this.h[H_CAPACITY];
    this.maxMessages = this.h[H_MAX];
    this.mask = this.capacity - 1;
    this.data = Buffer.from(init.buffer, HEADER_BYTES, this.capacity);
    this.view = new DataView(init.buffer, HEADER_BYTES, this.capacity);
  }

  /** Largest payload that could ever fit (an empty ring). */
  get maxPayload(): number {
    return this.capacity - RECORD_OVERHEAD;
  }

  /** Lock-free: true when nothing is queued (a racing writer may add a record right after). */
  isEmpty(): boolean {
    return Atomics.load(this.h, H_HEAD) === Atomics.load(this.h, H_TAIL);
  }

  /**
   * Lock-free, reader side: true when a record may be there to take. Touches only the
   * reader's cache line while this thread's copy of TAIL shows records ahead of HEAD.
   */
  hasRecords(): boolean {
    const head = Atomics.load(this.h, H_HEAD);
    if (this.cValid && head === this.cHead && head !== this.cTail) return true;
    this.cValid = true;
    this.cHead = head;
    this.cTail = Atomics.load(this.h, H_TAIL);
    return head !== this.cTail;
  }

  /** Number of queued messages. */
  get size(): number {
    return (Atomics.load(this.h, H_SENT) - Atomics.load(this.h, H_RECEIVED)) | 0;
  }

  /** Append one record; false when the ring lacks room or holds maxMessages already. */
  push(kind: number, payload: Uint8Array): boolean {
    const len = payload.length;
    const need = RECORD_OVERHEAD + ((len + 7) & ~7);
    const h = this.h;
    this.lock(H_PLOCK);
    try {
      const tail = Atomics.load(h, H_TAIL);
      const sent = Atomics.load(h, H_SENT);
      if (!this.pValid || tail !== this.pTail || sent !== this.pSent) {
        // Another sender moved since this thread's last push: the copies may predate the ring's state.
        this.pHead = Atomics.load(h, H_HEAD);
        this.pReceived = Atomics.load(h, H_RECEIVED);
      }
      if (((tail - this.pHead) >>> 0) + need > this.capacity || ((sent - this.pReceived) | 0) >= this.maxMessages) {
        this.pHead = Atomics.load(h, H_HEAD);
        this.pReceived = Atomics.load(h, H_RECEIVED);
        if (((tail - this.pHead) >>> 0) + need > this.capacity || ((sent - this.pReceived) | 0) >= this.maxMessages) {
          Atomics.store(h, H_REJECTED, Atomics.load(h, H_REJECTED) + 1);
          this.pValid = true;
          this.pTail = tail;
          this.pSent = sent;
          return false;
        }
      }
      const pos = tail & this.mask;
      const view = this.view;
      view.setUint32(pos, len, true);
      view.setUint32(pos + 4, kind, true);
      const p = (pos + RECORD_OVERHEAD) & this.mask;
      const first = this.capacity - p;
      if (len <= first) this.data.set(payload, p);
      else {
        this.data.set(payload.subarray(0, first), p);
        this.data.set(payload.subarray(first), 0);
      }
      const next = (tail + need) | 0;
      Atomics.store(h, H_TAIL, next); // commit point
      Atomics.store(h, H_SENT, (sent + 1) | 0);
      this.pValid = true;
      this.pTail = next;
      this.pSent = (sent + 1) | 0;
      return true;
    } finally {
      this.unlock(H_PLOCK);
    }
  }

  /** Take the oldest record (a copy), or undefined when empty. */
  pop(): PoppedRecord | undefined {
    return this.popWith(copyRecord, undefined);
  }

  /**
   * Take the oldest record through `read` (see RecordReader), or `empty` when there is none.
   * The record is consumed even when `read` throws (the error propagates).
   */
  popWith<T, E>(read: RecordReader<T>, empty: E): T | E {
    if (!this.hasRecords()) return empty;
    const h = this.h;
    this.lock(H_CLOCK);
    try {
      const head = Atomics.load(h, H_HEAD);
      if (!this.cValid || head !== this.cHead || head === this.cTail) {
        this.cTail = Atomics.load(h, H_TAIL);
        this.cHead = head;
        this.cValid = true;
        if (head === this.cTail) return empty;
      }
      const pos = head & this.mask;
      const len = this.view.getUint32(pos, true);
      const kind = this.view.getUint32(pos + 4, true);
      const p = (pos + RECORD_OVERHEAD) & this.mask;
      const next = (head + RECORD_OVERHEAD + ((len + 7) & ~7)) | 0;
      try {
        if (len <= this.capacity - p) return read(kind, this.data, p, len);
        const first = this.capacity - p;
        const joined = Buffer.allocUnsafe(len);
        this.data.copy(joined, 0, p, p + first);
        this.data.copy(joined, first, 0, len - first);
        return read(kind, joined, 0, len);
      } finally {
        Atomics.store(h, H_HEAD, next); // commit point
        Atomics.store(h, H_RECEIVED, (Atomics.load(h, H_RECEIVED) + 1) | 0);
        this.cHead = next;
      }
    } finally {
      this.unlock(H_CLOCK);
    }
  }

  /** A message refused before it reached the ring (longer than --mule-msg-size): counted with the full-queue refusals. */
  countRejected(): void {
    Atomics.add(this.h, H_REJECTED, 1);
  }

  stats(): QueueStats {
    const head = Atomics.load(this.h, H_HEAD) >>> 0;
    const tail = Atomics.load(this.h, H_TAIL) >>> 0;
    return {
      name: this.name,
      queued: Math.max(0, this.size),
      bytes: (tail - head) >>> 0,
      capacity: this.capacity,
      maxMessages: this.maxMessages,
      sent: Atomics.load(this.h, H_SENT) >>> 0,
      received: Atomics.load(this.h, H_RECEIVED) >>> 0,
      rejected: Atomics.load(this.h, H_REJECTED) >>> 0,
    };
  }

  /**
   * For the master's stale-lock check: a held lock word (owner threadId + 1, 0 = both
   * free; the sender lock first) and a progress mark (messages sent + received). Same owner
   * and same mark across two checks seconds apart = a holder that died inside the lock
   * (critical sections last microseconds).
   */
  lockState(): { owner: number; epoch: number } {
    const owner = Atomics.load(this.h, H_PLOCK) || Atomics.load(this.h, H_CLOCK);
    return { owner, epoch: (Atomics.load(this.h, H_SENT) + Atomics.load(this.h, H_RECEIVED)) | 0 };
  }

  /**
   * Master only, when a lock holder is known dead (its thread exited, or it held the
   * lock across two master cycles): take the other lock, recount the records, fix the
   * counter the holder may have left one behind, release both. Returns the dead owner's
   * threadId, or -1 when neither lock was held by `owner` (or the other lock stayed busy:
   * the next check retries).
   */
  repair(owner: number): number {
    if (owner === 0) return -1;
    const h = this.h;
    const pDead = Atomics.load(h, H_PLOCK) === owner;
    const cDead = Atomics.load(h, H_CLOCK) === owner;
    if (!pDead && !cDead) return -1;
    // Take the live side's lock so the indices and counters hold still (critical sections last microseconds).
    const other = pDead ? H_CLOCK : H_PLOCK;
    const both = pDead && cDead;
    if (!both && !this.tryLockFor(other, 50)) return -1;
    const head = Atomics.load(h, H_HEAD);
    const tail = Atomics.load(h, H_TAIL);
    let count = 0;
    let at = head;
    for (let guard = 0; at !== tail && guard <= this.capacity / RECORD_OVERHEAD; guard++) {
      const len = this.view.getUint32(at & this.mask, true);
      at = (at + RECORD_OVERHEAD + ((len + 7) & ~7)) | 0;
      count++;
    }
    // Keep the counter of the live side; the dead side's may lag its commit by one.
    if (pDead) Atomics.store(h, H_SENT, (Atomics.load(h, H_RECEIVED) + count) | 0);
    else Atomics.store(h, H_RECEIVED, (Atomics.load(h, H_SENT) - count) | 0);
    this.pValid = false;
    this.cValid = false;
    if (pDead) Atomics.compareExchange(h, H_PLOCK, owner, 0);
    if (cDead) Atomics.compareExchange(h, H_CLOCK, owner, 0);
    if (!both) this.unlock(other);
    return owner - 1;
  }

  private tryLockFor(word: number, ms: number): boolean {
    const until = Date.now() + ms;
    for (let i = 0; ; i++) {
      if (Atomics.compareExchange(this.h, word, 0, OWNER) === 0) return true;
      if ((i & 255) === 255 && Date.now() > until) return false;
    }
  }

  private lock(word: number): void {
    if (Atomics.compareExchange(this.h, word, 0, OWNER) === 0) return;
    this.lockSlow(word);
  }

  private lockSlow(word: number): void {
    const owner = Atomics.load(this.h, word);
    if (owner === OWNER) {
      throw new UwsgiError('UWSGI_ERR_MULE_QUEUE_FULL', `mule queue ${echo(this.name)}: re-entered by its own lock holder (thread ${threadId})`);
    }
    const deadline = Date.now() + LOCK_DEADLINE_MS;
    for (let i = 1; ; i++) {
      if (Atomics.compareExchange(this.h, word, 0, OWNER) === 0) return;
      if (i < 64) continue;
      // The holder is descheduled or dead: yield a little (never block the main thread).
      if (!isMainThread) Atomics.wait(this.scratch, 0, 0, 0.05);
      if ((i & 255) === 0 && Date.now() > deadline) {
        throw new UwsgiError('UWSGI_ERR_MULE_QUEUE_FULL',
          `mule queue ${echo(this.name)}: ${word === H_PLOCK ? 'sender' : 'reader'} lock held by thread ${Atomics.load(this.h, word) - 1} for more than ${LOCK_DEADLINE_MS} ms`);
      }
    }
  }

  private unlock(word: number): void {
    Atomics.store(this.h, word, 0);
  }
}

// ---------------------------------------------------------------- the board

/** Bits of a mule's LISTEN word: which queues it is waiting on. */
export const LISTEN_OWN = 1;
export const LISTEN_SHARED = 2;
export const LISTEN_FARMS = 4;

const B_DOORBELL = 0;
const B_LISTEN = 1;
const B_STOP = 2;
/**
 * Two 64-byte cache lines per mule: the first holds the words senders read (DOORBELL,
 * LISTEN, STOP), the second the busy mark the mule writes at every message, so a mule's
 * own bookkeeping never bounces the line its senders poll.
 */
const B_WORDS = 32;
const B_BUSY = 16;

export class MuleBoard {
  readonly count: number;
  private readonly i32: Int32Array;

  static create(count: number): SharedArrayBuffer {
    return new SharedArrayBuffer((count + 1) * B_WORDS * 4);
  }

  constructor(buffer: SharedArrayBuffer, count: number) {
    this.count = count;
    this.i32 = new Int32Array(buffer, 0, (count + 1) * B_WORDS);
  }

  doorbell(id: number): number {
    return Atomics.load(this.i32, id * B_WORDS + B_DOORBELL);
  }

  /** The Int32Array and index a mule waits on (Atomics.wait / waitAsync). */
  doorbellCell(id: number): { readonly array: Int32Array; readonly index: number } {
    return { array: this.i32, index: id * B_WORDS + B_DOORBELL };
  }

  ring(id: number): void {
    const i = id * B_WORDS + B_DOORBELL;
    Atomics.add(this.i32, i, 1);
    Atomics.notify(this.i32, i);
  }

  listen(id: number, bits: number): void {
    Atomics.store(this.i32, id * B_WORDS + B_LISTEN, bits);
  }

  /** Wake mule `id` if it is waiting on a queue of kind `bit`; true when this call woke it. */
  wake(id: number, bit: number): boolean {
    const i = id * B_WORDS + B_LISTEN;
    for (let tries = 0; tries < 8; tries++) {
      const cur = Atomics.load(this.i32, i);
      if ((cur & bit) === 0) return false;
      if (Atomics.compareExchange(this.i32, i, cur, 0) === cur) {
        this.ring(id);
        return true;
      }
    }
    return false;
  }

  /** Wake the first listening mule among `ids` (a farm's members, or all mules); true if one was woken. */
  wakeFirst(ids: readonly number[], bit: number): boolean {
    for (const id of ids) if (this.wake(id, bit)) return true;
    return false;
  }

  requestStop(id: number): void {
    Atomics.store(this.i32, id * B_WORDS + B_STOP, 1);
    this.ring(id);
  }

  stopRequested(id: number): boolean {
    return Atomics.load(this.i32, id * B_WORDS + B_STOP) !== 0;
  }

  /** Master, at (re)spawn: clear the slot's stop flag, listen bits and busy mark. */
  reset(id: number): void {
    Atomics.store(this.i32, id * B_WORDS + B_STOP, 0);
    Atomics.store(this.i32, id * B_WORDS + B_LISTEN, 0);
    Atomics.store(this.i32, id * B_WORDS + B_BUSY, 0);
  }

  /** Mule side: odd = working on a message (a new value per message), even = waiting. A plain store: only the master's once-a-period check reads it. */
  setBusyMark(id: number, mark: number): void {
    this.i32[id * B_WORDS + B_BUSY] = mark;
  }

  busyMark(id: number): number {
    return Atomics.load(this.i32, id * B_WORDS + B_BUSY);
  }
}

// ---------------------------------------------------------------- wiring

/** What the master hands every worker and mule (structured-clone safe). */
export interface MuleQueuesInit {
  readonly kind: 'uwsgi-ts.mule-queues';
  readonly count: number;
  /** Largest encoded message accepted (--mule-msg-size). */
  readonly msgSize: number;
  readonly shared: QueueInit;
  /** Index i = mule i + 1. */
  readonly mules: readonly QueueInit[];
  readonly farms: readonly { readonly name: string; readonly members: readonly number[]; readonly queue: QueueInit }[];
  readonly board: SharedArrayBuffer;
}

export interface FarmQueue {
  readonly name: string;
  readonly members: readonly number[];
  readonly queue: RingQueue;
}

/** The queues as one thread sees them. */
export interface MuleQueues {
  readonly count: number;
  readonly msgSize: number;
  readonly shared: RingQueue;
  /** Index i = mule i + 1. */
  readonly mules: readonly RingQueue[];
  readonly farms: readonly FarmQueue[];
  readonly board: MuleBoard;
  /** 1..count, for waking "any mule". */
  readonly allIds: readonly number[];
}

/** Master side: every queue of an instance (one per mule, one per farm, the shared one) and the board. */
export function createMuleQueues(spec: {
  readonly count: number;
  readonly msgSize: number;
  readonly maxMessages: number;
  readonly farms: readonly { readonly name: string; readonly members: readonly number[] }[];
}): MuleQueuesInit {
  const cap = ringCapacity(spec.msgSize, spec.maxMessages);
  const q = (name: string): QueueInit => RingQueue.create(name, cap, spec.maxMessages);
  const mules: QueueInit[] = [];
  for (let id = 1; id <= spec.count; id++) mules.push(q(`mule ${id} queue`));
  return {
    kind: 'uwsgi-ts.mule-queues',
    count: spec.count,
    msgSize: spec.msgSize,
    shared: q('shared mule queue'),
    mules,
    farms: spec.farms.map((f) => ({ name: f.name, members: [...f.members], queue: q(`farm ${f.name} queue`) })),
    board: MuleBoard.create(spec.count),
  };
}

export function openMuleQueues(init: MuleQueuesInit): MuleQueues {
  const ids: number[] = [];
  for (let i = 1; i <= init.count; i++) ids.push(i);
  return {
    count: init.count,
    msgSize: init.msgSize,
    shared: new RingQueue(init.shared),
    mules: init.mules.map((q) => new RingQueue(q)),
    farms: init.farms.map((f) => ({ name: f.name, members: f.members, queue: new RingQueue(f.queue) })),
    board: new MuleBoard(init.board, init.count),
    allIds: ids,
  };
}

export function isMuleQueuesInit(v: unknown): v is MuleQueuesInit {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Partial<MuleQueuesInit>;
  return o.kind === 'uwsgi-ts.mule-queues' && typeof o.count === 'number' && Array.isArray(o.mules) && Array.isArray(o.farms) &&
    o.board instanceof SharedArrayBuffer && typeof o.shared === 'object';
}

/** Every queue of an init (master side: stale-lock checks and repair). */
export function allQueues(q: MuleQueues): RingQueue[] {
  return [q.shared, ...q.mules, ...q.farms.map((f) => f.queue)];
}
