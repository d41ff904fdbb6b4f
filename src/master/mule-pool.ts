/**
 * Mules: background threads supervised by the master (spec mules.md).
 *
 * `create()` parses `--mule`/`--mules`/`--farm`/`--hook-as-mule` and builds every queue
 * (SharedArrayBuffer rings, see shared/mule-queues.ts) before any worker exists, so
 * `init` goes into every worker's workerData. `start()` spawns the mules in id order and
 * resolves when each has run its as-mule hooks and resolved its program. A mule that
 * ends (throws, returns, exits, harakiri) is respawned with backoff; its queue stays, so
 * the replacement reads the messages still queued. Reload and stop ask each mule to stop
 * (STOP word + stop message) and terminate it after --mule-reload-mercy.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { MAX_MULES, reloadMercyMs, type ResolvedOptions } from '../shared/options-table.js';
import { UwsgiError, echo } from '../shared/errors.js';
import { log } from '../shared/log-writer.js';
import { splitModuleSpec } from '../shared/module-import.js';
import { parseHook } from '../shared/hook-actions.js';
import { releaseLocksHeldBy } from '../shared/sharedarea.js';
import { attachMuleQueues } from '../shared/mule-api.js';
import { allQueues, createMuleQueues, openMuleQueues, type MuleQueues, type MuleQueuesInit, type RingQueue } from '../shared/mule-queues.js';
import type { MuleCommand, MuleEvent, MuleInit, MuleProgram } from '../mule/mule-init.js';
import { BackoffById, quickDeathsText } from './backoff.js';
import { resolveMuleSpec } from './mule-spec.js';
import type { TaskPortSource } from './task-farms.js';

const MULE_ENTRY = new URL('../mule/mule-main.js', import.meta.url);

interface MuleSlot {
  readonly id: number;
  readonly value: string;
  readonly program: MuleProgram;
}

interface LiveMule {
  readonly slot: MuleSlot;
  readonly thread: Worker;
  readonly tid: number;
  readonly generation: number;
  readonly startedAt: number;
  stopping: boolean;
  harakiri: boolean;
  /** The busy mark last seen by check() and when it was first seen (harakiri timing). */
  busyMark: number;
  busyAt: number;
  isReady: boolean;
  readonly ready: Promise<void>;
  readonly exited: Promise<number>;
}

/** Mule ids in parse order: `order` (the resolver's option list) interleaves --mules and --mule as written; without it, --mules come first. */
export function muleSlots(o: ResolvedOptions, cwd: string, order?: ReadonlyArray<readonly [string, string]>): MuleSlot[] {
  const values: string[] = [];
  const ordered = order?.filter(([k]) => k === 'mules' || k === 'mule');
  if (ordered && ordered.length > 0) {
    for (const [k, v] of ordered) {
      if (k === 'mule') values.push(v);
      else {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0) throw new UwsgiError('UWSGI_ERR_MULE_SPEC', `--mules ${echo(v)}: must be a whole number ≥ 0`);
        if (values.length + n > MAX_MULES) throw tooManyMules(values.length + n, `--mules ${echo(v)}`);
        for (let i = 0; i < n; i++) values.push('');
      }
    }
  } else {
    for (let i = 0; i < o.mules; i++) values.push('');
    for (const v of o.mule) values.push(v ?? '');
  }
  if (values.length > MAX_MULES) throw tooManyMules(values.length, `--mules/--mule (${o.mule.length} --mule)`);
  return values.map((value, i) => ({ id: i + 1, value, program: resolveMuleSpec(value, o.module, cwd) }));
}

function tooManyMules(n: number, given: string): UwsgiError {
  return new UwsgiError('UWSGI_ERR_MULE_SPEC', `${given}: ${n} mules requested, at most ${MAX_MULES} (--mules plus every --mule; each mule is a thread with its own message queue)`);
}

export function parseFarm(value: string, count: number): { name: string; members: number[] } {
  const colon = value.indexOf(':');
  if (colon <= 0) {
    throw new UwsgiError('UWSGI_ERR_MULE_SPEC', `--farm ${echo(value)}: invalid farm value (${value}) must be in the form name:mule[,muleN].`);
  }
  const name = Buffer.from(value.slice(0, colon)).subarray(0, 255).toString();
  const members: number[] = [];
  for (const part of value.slice(colon + 1).split(',')) {
    const id = Number(part.trim());
    if (part.trim() === '' || !Number.isInteger(id) || id < 1 || id > count) {
      throw new UwsgiError('UWSGI_ERR_MULE_ID', `--farm ${echo(value)}: invalid mule id: ${echo(part)} (mules: ${count ? `1..${count}` : 'none'})`);
    }
    if (!members.includes(id)) members.push(id);
  }
  return { name, members };
}

export class MulePool {
  /** Structured-clone-safe data every worker gets at spawn to reach the mules (queues); null without mules. */
  readonly init: MuleQueuesInit | null;
  readonly count: number;
  private readonly queues: MuleQueues | undefined;
  private readonly live = new Map<number, LiveMule>();
  private readonly backoff = new BackoffById();
  private readonly generations = new Map<number, number>();
  private readonly respawnTimers = new Set<NodeJS.Timeout>();
  private readonly lockSeen = new Map<RingQueue, { owner: number; epoch: number; at: number }>();
  private checkTimer?: NodeJS.Timeout;
  private lastLockCheck = 0;
  private startedUp = false;
  /** start() failed: nothing is respawned any more (the master exits). */
  private startFailed = false;
  private stopping: Promise<void> | undefined;

  private constructor(
    private readonly slots: readonly MuleSlot[],
    init: MuleQueuesInit | null,
    private readonly o: ResolvedOptions,
    private readonly cwd: string,
    private readonly areas: readonly unknown[],
    private readonly taskFarms: TaskPortSource | undefined,
  ) {
    this.init = init;
    this.count = slots.length;
    this.queues = init ? openMuleQueues(init) : undefined;
  }

  /**
   * Validate the mule options and build the queues. Throws UWSGI_ERR_MULE_SPEC / _MULE_ID /
   * _HOOK for a bad value, before any thread starts. `order` (the resolver's ordered option
   * list) makes --mules/--mule ids follow the command-line order.
   */
  static create(o: ResolvedOptions, cwd: string, areas: readonly unknown[], order?: ReadonlyArray<readonly [string, string]>, taskFarms?: TaskPortSource): MulePool {
    const slots = muleSlots(o, cwd, order);
    const farms = o.farm.map((v) => parseFarm(v, slots.length));
    // uWSGI accepts a second farm of the same name and never delivers to it (lookups find
    // the first): a farm nobody can reach. uwsgi-ts refuses it, as it does for task farms.
    farms.forEach((f, i) => {
      const first = farms.findIndex((g) => g.name === f.name);
      if (first !== i) {
        throw new UwsgiError('UWSGI_ERR_MULE_SPEC', `--farm ${echo(o.farm[i])}: a farm named ${echo(f.name)} is already defined (by --farm ${echo(o.farm[first])})`);
      }
    });
    for (const h of o['hook-as-mule']) parseHook(h, 'hook-as-mule');
    if (slots.length === 0) return new MulePool(slots, null, o, cwd, areas, taskFarms);

    const init = createMuleQueues({ count: slots.length, msgSize: o['mule-msg-size'], maxMessages: o['mule-queue-size'], farms });
    farms.forEach((f, i) => log.line(`created farm ${i + 1} name: ${f.name} mules:${o.farm[i].slice(o.farm[i].indexOf(':') + 1)}`));
    // The master thread can send too (library use of start() from the main thread).
    attachMuleQueues(init);
    return new MulePool(slots, init, o, cwd, areas, taskFarms);
  }

  /**
   * Spawn every mule in id order; resolve when all ran their hooks and resolved their
   * program, reject on the first failure. `signal` (a stop signal during startup) aborts:
   * the mules still starting are terminated (they may be stuck loading their module, so
   * they get no mercy) and start() rejects with the signal's reason.
   */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.count === 0) return;
    signal?.throwIfAborted();
    const all = this.slots.map((s) => this.spawn(s));
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, rej) => {
      onAbort = () => rej(signal?.reason);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    aborted.catch(() => { /* raced below */ });
    try {
      await Promise.race([Promise.all(all.map((l) => l.ready)), aborted]);
    } catch (e) {
      this.startFailed = true;
      for (const t of this.respawnTimers) clearTimeout(t);
      // Every mule still alive, including a respawn of one that died after its 'ready' meanwhile.
      await Promise.all([...new Set([...all, ...this.live.values()])].map((l) => { l.stopping = true; return l.thread.terminate(); }));
      throw e;
    } finally {
      if (onAbort) signal?.removeEventListener('abort', onAbort);
    }
    this.startedUp = true;
    const harakiriMs = this.o['mule-harakiri'] * 1000;
    const period = harakiriMs > 0 ? Math.min(1000, Math.max(100, harakiriMs / 4)) : 1000;
    this.checkTimer = setInterval(() => this.check(), period);
    this.checkTimer.unref();
  }

  private spawn(slot: MuleSlot): LiveMule {
    const { id } = slot;
    const generation = (this.generations.get(id) ?? 0) + 1;
    this.generations.set(id, generation);
    this.queues!.board.reset(id);
    const tasks = this.taskFarms?.connect(`mule ${id}`);
    const init: MuleInit = {
      role: 'mule', id, generation,
      value: slot.value,
      program: slot.program,
      appFile: this.o.module ? path.resolve(this.cwd, splitModuleSpec(this.o.module).file) : undefined,
      cwd: this.cwd,
      queues: this.init!,
      sharedareas: this.areas,
      hooks: this.o['hook-as-mule'],
      tasks: tasks?.port,
    };
    const thread = new Worker(MULE_ENTRY, { workerData: init, transferList: tasks ? [tasks.port] : [], stdout: false, stderr: false });
    const tid = thread.threadId; // reads -1 once the thread has exited
    let resolveReady!: () => void;
    let rejectReady!: (e: Error) => void;
    const ready = new Promise<void>((res, rej) => { resolveReady = res; rejectReady = rej; });
    ready.catch(() => { /* observed by start() */ });
    const live: LiveMule = {
      slot, thread, tid, generation, startedAt: Date.now(), stopping: false, harakiri: false, busyMark: 0, busyAt: 0, isReady: false, ready,
      exited: new Promise<number>((res) => thread.once('exit', res)),
    };
    this.live.set(id, live);
    log.line(`spawned uWSGI mule ${id} (pid: ${process.pid}, thread: ${tid}${generation > 1 ? `, respawn: ${generation - 1}` : ''})`);

    let fatal: UwsgiError | undefined;
    thread.on('message', (e: MuleEvent) => {
      if (e.type === 'ready') {
        live.isReady = true;
        resolveReady();
      } else if (e.type === 'fatal') {
        fatal = new UwsgiError(e.code as 'UWSGI_ERR_MULE_SPEC', e.message);
        log.line(`[${e.code}] mule ${id}: ${e.message}`);
        if (e.hook && this.startedUp && !this.stopping) {
          // hooks.md §3: a failing fatal hook in a mule brings the whole instance down (SIGINT to the master).
          log.flushSync();
          process.kill(process.pid, 'SIGINT');
        }
      }
    });
    thread.on('error', (err) => {
      log.line(`[UWSGI_ERR_WORKER_CRASH] mule ${id} (thread ${tid}) crashed: ${err.stack ?? err.message}`);
    });
    thread.once('exit', (code) => {
      if (this.live.get(id) === live) this.live.delete(id);
      tasks?.close();
      this.threadExited(tid);
      releaseLocksHeldBy(tid);
      if (!live.isReady) rejectReady(fatal ?? new UwsgiError('UWSGI_ERR_WORKER_CRASH', `mule ${id} (--mule ${echo(slot.value)}) exited with code ${code} before it was ready`));
      const lived = Date.now() - live.startedAt;
      if (this.stopping || live.stopping) {
        log.line(`mule ${id} (pid: ${process.pid}, thread: ${tid}) annihilated`);
        return;
      }
      // A first spawn that failed before 'ready' fails start(), which rejects: the master exits.
      // A mule that was ready and ended while the others were still starting is respawned as usual.
      if (this.startFailed || (!live.isReady && !this.startedUp && generation === 1)) return;
      let delay = 0;
      if (live.harakiri) {
        log.line(`mule ${id} killed by harakiri: respawning`);
      } else {
        const d = this.backoff.death(id, lived);
        delay = d.delay;
        log.line(`OOOPS mule ${id} (pid: ${process.pid}, thread: ${tid}) crippled (exit code ${code} after ${lived} ms)...trying respawn${delay ? ` in ${delay} ms (${quickDeathsText(d.failures)})` : ''}...`);
      }
      const t = setTimeout(() => {
        this.respawnTimers.delete(t);
        if (!this.stopping && !this.startFailed && !this.live.has(id)) this.spawn(slot);
      }, delay);
      this.respawnTimers.add(t);
    });
    return live;
  }

  /** Queue-lock recovery for a thread that is gone (mules here; the master may call it for workers too). */
  threadExited(threadId: number): void {
    if (!this.queues) return;
    for (const q of allQueues(this.queues)) {
      if (q.repair(threadId + 1) >= 0) log.line(`${q.name}: lock held by exited thread ${threadId} released`);
    }
  }

  private check(): void {
    const now = Date.now();
    const limit = this.o['mule-harakiri'] * 1000;
    if (limit > 0) {
      for (const l of this.live.values()) {
        if (l.harakiri || l.stopping) continue;
        // The mule marks each message it takes with a new odd mark (no clock read on its
        // message path); the master times how long one mark stays: at most one check
        // period late, as uWSGI's master-cycle harakiri.
        const mark = this.queues!.board.busyMark(l.slot.id);
        if ((mark & 1) === 0) { l.busyMark = mark; continue; }
        if (mark !== l.busyMark) { l.busyMark = mark; l.busyAt = now; continue; }
        const since = l.busyAt;
        if (now - since > limit) {
          l.harakiri = true;
          log.line(`*** HARAKIRI ON MULE ${l.slot.id} (pid: ${process.pid}, thread: ${l.tid}) ***`);
          log.line(`[UWSGI_ERR_HARAKIRI] mule ${l.slot.id} busy ${((now - since) / 1000).toFixed(1)} s on one message (--mule-harakiri ${limit / 1000}); the message is lost, queued ones go to its replacement`);
          void l.thread.terminate();
        }
      }
    }
    if (now - this.lastLockCheck >= 1000) {
      this.lastLockCheck = now;
      this.checkStaleLocks(now);
    }
  }

  /** A queue lock held by the same owner across two checks (≥ 2 s; critical sections last microseconds) belongs to a terminated thread. */
  private checkStaleLocks(now: number): void {
    for (const q of allQueues(this.queues!)) {
      const s = q.lockState();
      if (s.owner === 0) { this.lockSeen.delete(q); continue; }
      const prev = this.lockSeen.get(q);
      if (!prev || prev.owner !== s.owner || prev.epoch !== s.epoch) {
        this.lockSeen.set(q, { ...s, at: now });
      } else if (now - prev.at >= 2000) {
        const dead = q.repair(s.owner);
        if (dead >= 0) log.line(`${q.name}: lock held by thread ${dead} for ${now - prev.at} ms: released (the thread was terminated inside it)`);
        this.lockSeen.delete(q);
      }
    }
  }

  /** Ask one mule to stop; terminate it after the mercy. */
  private async stopOne(l: LiveMule, mercyMs: number): Promise<void> {
    l.stopping = true;
    this.queues!.board.requestStop(l.slot.id);
    const cmd: MuleCommand = { type: 'stop' };
    l.thread.postMessage(cmd);
    let timer: NodeJS.Timeout | undefined;
    const inTime = await Promise.race([
      l.exited.then(() => true),
      new Promise<boolean>((res) => { timer = setTimeout(() => res(false), mercyMs); }),
    ]);
    clearTimeout(timer);
    if (!inTime) {
      log.line(`mule ${l.slot.id} (pid: ${process.pid}, thread: ${l.tid}) is taking too much time to die...NO MERCY !!!`);
      await l.thread.terminate();
    }
    await l.exited;
  }

  /** Graceful reload: every mule is stopped (mercy: --mule-reload-mercy) and spawned fresh; queued messages stay for the new ones. */
  async reload(): Promise<void> {
    if (this.count === 0 || this.stopping) return;
    log.line(`...reloading ${this.live.size} mules...`);
    const mercy = reloadMercyMs(this.o, 'mule-reload-mercy');
    await Promise.all([...this.live.values()].map(async (l) => {
      await this.stopOne(l, mercy);
      if (!this.stopping && !this.live.has(l.slot.id)) this.spawn(l.slot);
    }));
    log.line('mules reloaded');
  }

  /** Stop every mule: graceful = stop request then terminate after --mule-reload-mercy; brutal = terminate now. */
  stop(graceful: boolean): Promise<void> {
    if (!graceful && this.stopping) {
      // brutal during a graceful stop: the mules it still waits for are terminated now
      for (const l of this.live.values()) {
        l.stopping = true;
        void l.thread.terminate();
      }
    }
    this.stopping ??= (async () => {
      if (this.checkTimer) clearInterval(this.checkTimer);
      for (const t of this.respawnTimers) clearTimeout(t);
      const all = [...this.live.values()];
      if (graceful) await Promise.all(all.map((l) => this.stopOne(l, reloadMercyMs(this.o, 'mule-reload-mercy'))));
      else await Promise.all(all.map((l) => { l.stopping = true; return l.thread.terminate(); }));
      await Promise.all(all.map((l) => l.exited));
    })();
    return this.stopping;
  }
}
