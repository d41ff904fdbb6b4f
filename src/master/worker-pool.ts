/**
 * The master's supervision of worker threads: spawn, watch, respawn with backoff,
 * harakiri, max-requests recycling, graceful reload and stop.
 *
 * A worker *id* (1..N) is stable across respawns, as in uWSGI. Each live thread also
 * owns a scoreboard *slot*; during a reload the old and the new thread of one id run
 * side by side, each in its own slot.
 */
import { Worker, MessageChannel, type MessagePort } from 'node:worker_threads';
import type net from 'node:net';
import { log } from '../shared/log-writer.js';
import { Scoreboard, WorkerStatus, type ScoreboardInit } from '../shared/scoreboard.js';
import type { ListenerInit, WorkerControl, WorkerEvent, WorkerInit, WorkerSettings } from '../shared/messages.js';
import { connectControl, type Remote } from '../shared/control-channel.js';
import { UwsgiError } from '../shared/errors.js';
import { BackoffById, quickDeathsText } from './backoff.js';
import type { ProxyDispatcher, ProxyTarget } from './proxy-dispatch.js';
import type { TaskPortSource } from './task-farms.js';

/** How long past its mercy a stopping worker has to answer (it closes its connections after the deadline). */
const STOP_ANSWER_GRACE_MS = 1000;

export interface WorkerPoolOptions {
  readonly workers: number;
  readonly settings: WorkerSettings;
  readonly listeners: readonly ListenerInit[];
  readonly sharedareas: readonly unknown[];
  readonly scoreboard: ScoreboardInit;
  readonly workerReloadMercyMs: number;
  /** How long a new worker may take to reach "accepting" before it is terminated (--worker-reload-mercy); 0 = no limit. */
  readonly workerStartTimeoutMs: number;
  readonly minWorkerLifetimeMs: number;
  readonly harakiriMs: number;
  readonly proxy?: ProxyDispatcher;
  /** What every worker needs to reach the mules (MulePool.init). */
  readonly mules: unknown;
  /** Called when a thread of this pool exits (sharedarea lock recovery, stats). */
  readonly onThreadExit?: (threadId: number) => void;
  readonly entry: URL;
  /** Task farms: a runInFarm() port for every thread spawned. */
  readonly taskFarms?: TaskPortSource;
}

export interface WorkerThreadInfo {
  readonly id: number;
  readonly slot: number;
  readonly threadId: number;
  readonly generation: number;
  readonly state: 'starting' | 'accepting' | 'retiring';
  readonly startedAt: number;
  /** requests this thread has served, and app exceptions it counted (the scoreboard's) */
  readonly requests: number;
  readonly exceptions: number;
}

interface Live {
  readonly id: number;
  readonly slot: number;
  readonly generation: number;
  readonly thread: Worker;
  readonly control: { remote: Remote<WorkerControl>; close(): void };
  readonly proxyTarget?: ProxyTarget;
  state: 'starting' | 'accepting' | 'retiring';
  readonly startedAt: number;
  harakiri: boolean;
  /** A reload's replacement that dies before accepting is not respawned: the old thread stays. */
  readonly replacement: boolean;
  /** A replacement for this thread is starting: if this one dies meanwhile, the replacement takes over (no respawn beside it). */
  replacing: boolean;
  accepting: Promise<void>;
  exited: Promise<number>;
}

export class WorkerPool {
  readonly scoreboard: Scoreboard;
  private readonly live = new Set<Live>();
  private readonly backoff = new BackoffById();
  private readonly freeSlots: number[] = [];
  /** Threads spawned so far per worker id (1 for the first). */
  private readonly generations = new Map<number, number>();
  private stopping = false;
  /** a brutal stop: threads are terminated, graceful stops still under way are not failures */
  private brutal = false;
  private startedUp = false;
  /** SIGTSTP: workers accept nothing; a thread spawned meanwhile starts paused. */
  private paused = false;
  private harakiriTimer?: NodeJS.Timeout;
  private respawnTimers = new Set<NodeJS.Timeout>();

  constructor(private readonly opts: WorkerPoolOptions) {
    this.scoreboard = new Scoreboard(opts.scoreboard);
    for (let s = opts.scoreboard.workers; s >= 1; s--) this.freeSlots.push(s);
  }

  /** Spawn every worker and resolve when all are accepting; reject on the first startup failure, or once `signal` aborts. */
  async start(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    const all: Live[] = [];
    for (let id = 1; id <= this.opts.workers; id++) all.push(this.spawn(id, false));
    const abort = (): void => {
      this.stopping = true; // the threads terminated now are buried, not respawned
      for (const l of all) void l.thread.terminate();
    };
    signal?.addEventListener('abort', abort, { once: true });
    try {
      await Promise.all(all.map((l) => l.accepting));
    } catch (e) {
      if (signal?.aborted) {
        await Promise.all(all.map((l) => l.exited));
        throw signal.reason;
      }
      throw e;
    } finally {
      signal?.removeEventListener('abort', abort);
    }
    this.startedUp = true;
    if (this.opts.harakiriMs > 0) {
      this.harakiriTimer = setInterval(() => this.checkHarakiri(), Math.min(1000, Math.max(100, this.opts.harakiriMs / 4)));
      this.harakiriTimer.unref();
    }
  }

  threads(): WorkerThreadInfo[] {
    return [...this.live].map((l) => ({
      id: l.id, slot: l.slot, threadId: l.thread.threadId, generation: l.generation, state: l.state, startedAt: l.startedAt,
      requests: this.scoreboard.requests(l.slot), exceptions: this.scoreboard.exceptions(l.slot),
    }));
  }

  accepting(): ProxyTarget[] {
    const out: ProxyTarget[] = [];
    for (const l of this.live) if (l.state === 'accepting' && !l.harakiri && l.proxyTarget) out.push(l.proxyTarget);
    return out;
  }

  private spawn(id: number, respawn: boolean, replacement = false): Live {
    const slot = this.freeSlots.pop();
    if (slot === undefined) throw new UwsgiError('UWSGI_ERR_WORKER_CRASH', `no free scoreboard slot for worker ${id}`);
    this.scoreboard.spawned(slot, Date.now(), respawn);
    const generation = (this.generations.get(id) ?? 0) + 1;
    this.generations.set(id, generation);
    const control = new MessageChannel();
    let proxyPorts: MessageChannel | undefined;
    if (this.opts.proxy) proxyPorts = new MessageChannel();
    const tasks = this.opts.taskFarms?.connect(`worker ${id}`);
    const init: WorkerInit = {
      role: 'worker', id, slot, generation,
      listeners: this.opts.listeners,
      settings: this.opts.settings,
      scoreboard: this.opts.scoreboard,
      sharedareas: this.opts.sharedareas,
      mules: this.opts.mules,
      control: control.port2,
      proxy: proxyPorts?.port2,
      tasks: tasks?.port,
      paused: this.paused,
    };
    const transfer: MessagePort[] = [control.port2];
    if (proxyPorts) transfer.push(proxyPorts.port2);
    if (tasks) transfer.push(tasks.port);
    const thread = new Worker(this.opts.entry, { workerData: init, transferList: transfer, stdout: false, stderr: false });
    const threadId = thread.threadId; // -1 once the thread has exited
    const remote = connectControl<WorkerControl>(control.port1, `worker ${id}`, Math.max(5000, this.opts.workerReloadMercyMs + 5000));
    const proxyTarget: ProxyTarget | undefined = proxyPorts ? { id, port: proxyPorts.port1, sockets: new Map<number, net.Socket>(), busySince: () => this.scoreboard.busySince(slot) } : undefined;
    if (proxyTarget) this.opts.proxy!.bindTarget(proxyTarget);

    let resolveAccepting!: () => void;
    let rejectAccepting!: (e: Error) => void;
    const accepting = new Promise<void>((res, rej) => { resolveAccepting = res; rejectAccepting = rej; });
    accepting.catch(() => { /* observed by start()/reload() when they wait on it */ });
    const live: Live = {
      id, slot, generation, thread, control: remote, proxyTarget, state: 'starting', startedAt: Date.now(), harakiri: false, replacement, replacing: false,
      accepting,
      exited: new Promise<number>((res) => thread.once('exit', res)),
    };
    this.live.add(live);
    let fatal: Error | undefined;
    log.line(`spawned uwsgi-ts worker ${id} (pid: ${process.pid}, thread: ${thread.threadId}, generation: ${generation})`);

    // A thread that never reaches "accepting" (an app stuck while loading) is not left
    // hanging: after --worker-reload-mercy it is terminated and counted as a crash.
    const startTimer = this.opts.workerStartTimeoutMs > 0 ? setTimeout(() => {
      if (live.state !== 'starting') return;
      fatal = new UwsgiError('UWSGI_ERR_WORKER_CRASH', `worker ${id} did not start accepting within --worker-reload-mercy ${this.opts.workerStartTimeoutMs / 1000} s (is the app stuck while loading?)`);
      log.line(`[UWSGI_ERR_WORKER_CRASH] ${fatal.message}`);
      void thread.terminate();
    }, this.opts.workerStartTimeoutMs) : undefined;
    startTimer?.unref();

    thread.on('message', (e: WorkerEvent) => {
      switch (e.type) {
        case 'accepting':
          clearTimeout(startTimer);
          live.state = 'accepting';
          resolveAccepting();
          // paused or resumed while this thread was starting: it follows now
          if (this.paused !== init.paused) void this.setPaused(live, this.paused);
          break;
        case 'app-loaded':
          if (generation === 1) log.line(`worker ${id}: ${e.kind} app loaded in ${e.ms} ms`);
          break;
        case 'retire':
          this.retireForMaxRequests(live);
          break;
        case 'fatal':
          fatal = new UwsgiError(e.code as 'UWSGI_ERR_APP_LOAD', e.message);
          log.line(`[${e.code}] worker ${id}: ${e.message}`);
          break;
      }
    });
    thread.on('error', (err) => {
      this.scoreboard.countException(slot);
      log.line(`[UWSGI_ERR_WORKER_CRASH] worker ${id} (thread ${threadId}) crashed: ${err.stack ?? err.message}`);
    });
    thread.once('exit', (code) => {
      clearTimeout(startTimer);
      this.live.delete(live);
      this.scoreboard.setStatus(slot, WorkerStatus.Dead);
      this.freeSlots.push(slot);
      remote.close();
      tasks?.close();
      if (proxyTarget) this.opts.proxy!.dropTarget(proxyTarget);
      this.opts.onThreadExit?.(threadId);
      if (live.state === 'starting') rejectAccepting(fatal ?? new UwsgiError('UWSGI_ERR_WORKER_CRASH', `worker ${id} exited with code ${code} before accepting`));
      const lived = Date.now() - live.startedAt;
      if (live.replacement && live.state === 'starting') {
        log.line(`replacement for worker ${id} exited before accepting: the current worker ${id} stays`);
        return;
      }
      if (this.stopping || live.state === 'retiring') {
        log.line(`worker ${id} buried after ${Math.round(lived / 1000)} seconds`);
        return;
      }
      if (live.replacing) {
        log.line(`[UWSGI_ERR_WORKER_CRASH] worker ${id} died (exit code ${code}) after ${lived} ms while its replacement starts: the replacement takes over`);
        return;
      }
      let delay = 0;
      if (live.harakiri) {
        log.line(`worker ${id} killed by harakiri: respawning`);
      } else {
        const d = this.backoff.death(id, lived);
        delay = d.delay;
        log.line(`[UWSGI_ERR_WORKER_CRASH] worker ${id} died (exit code ${code}) after ${lived} ms: respawning${delay ? ` in ${delay} ms (${quickDeathsText(d.failures)})` : ''}`);
      }
      if (!this.startedUp) return; // a failure during start(): start() rejects and the master exits
      const t = setTimeout(() => {
        this.respawnTimers.delete(t);
        if (!this.stopping) this.spawn(id, true);
      }, delay);
      this.respawnTimers.add(t);
    });
    return live;
  }

  private checkHarakiri(): void {
    const now = Date.now();
    const limit = this.opts.harakiriMs;
    for (const l of this.live) {
      if (l.harakiri) continue;
      const since = this.scoreboard.busySince(l.slot);
      if (since > 0 && now - since > limit) {
        l.harakiri = true;
        const req = this.scoreboard.currentRequest(l.slot);
        log.line(`*** HARAKIRI ON WORKER ${l.id} (pid: ${process.pid}, thread: ${l.thread.threadId}, try: 1) ***`);
        log.line(`[UWSGI_ERR_HARAKIRI] worker ${l.id} busy ${((now - since) / 1000).toFixed(1)} s on one request (--harakiri ${limit / 1000}): ${req || '(request data not recorded)'}`);
        void l.thread.terminate();
      }
    }
  }

  private retireForMaxRequests(old: Live): void {
    if (this.stopping || old.state === 'retiring') return;
    const wait = Math.max(0, this.opts.minWorkerLifetimeMs - (Date.now() - old.startedAt));
    setTimeout(() => {
      if (this.stopping || old.state === 'retiring' || !this.live.has(old)) return;
      log.line(`worker ${old.id}: max requests reached (${this.scoreboard.requests(old.slot)}): recycling`);
      void this.replace(old);
    }, wait).unref();
  }

  /** Start a new thread for `old.id`, wait until it accepts, then stop `old` gracefully. */
  private async replace(old: Live): Promise<boolean> {
    // Two threads per worker fit in the scoreboard. A recycle or reload that comes while
    // a predecessor is still draining (slow requests, idle keep-alive grace) waits for a
    // thread to go instead of taking a third slot.
    while (this.freeSlots.length === 0) {
      const going = [...this.live].filter((l) => l !== old).map((l) => l.exited);
      await Promise.race([...going, new Promise((r) => setTimeout(r, 1000).unref())]);
      if (this.stopping || !this.live.has(old) || old.state === 'retiring') return false;
    }
    old.replacing = true;
    const fresh = this.spawn(old.id, true, true);
    try {
      await fresh.accepting;
    } catch (e) {
      old.replacing = false;
      if (this.live.has(old) || this.stopping) {
        log.line(`[UWSGI_ERR_WORKER_CRASH] replacement for worker ${old.id} failed to start (${(e as Error).message}); keeping the old one`);
      } else {
        // the old thread died while its replacement was starting: worker old.id has no thread left
        log.line(`[UWSGI_ERR_WORKER_CRASH] replacement for worker ${old.id} failed to start (${(e as Error).message}), and the old one died meanwhile: respawning`);
        this.spawn(old.id, true);
      }
      return false;
    }
    await this.stopOne(old, this.opts.workerReloadMercyMs);
    return true;
  }

  private async stopOne(l: Live, mercyMs: number): Promise<void> {
    if (!this.live.has(l)) return;
    if (l.state === 'retiring') {
      // already being stopped (a reload's replace() and a shutdown meet here): a second
      // stop call could be left unanswered when the first one terminates the thread
      await l.exited;
      return;
    }
    l.state = 'retiring';
    const deadline = Date.now() + mercyMs;
    // A thread stuck in synchronous code cannot even read its stop call: the mercy bounds
    // the wait for the answer too (the worker itself answers at the mercy deadline).
    let timer: NodeJS.Timeout | undefined;
    const noAnswer = new Promise<null>((res) => { timer = setTimeout(() => res(null), mercyMs + STOP_ANSWER_GRACE_MS); });
    try {
      const r = await Promise.race([l.control.remote.stop(mercyMs), noAnswer]);
      if (r === null) log.line(`worker ${l.id} (thread ${l.thread.threadId}) is taking too much time to die...NO MERCY !!! (no answer to its stop within ${mercyMs / 1000} s: busy in synchronous code)`);
      else if (!r.drained) log.line(`worker ${l.id} (thread ${l.thread.threadId}) is taking too much time to die...NO MERCY !!! (${r.inflight} requests cut)`);
    } catch (e) {
      if (!this.brutal) log.line(`[${(e as UwsgiError).code ?? 'UWSGI_ERR_CONTROL_TIMEOUT'}] worker ${l.id}: graceful stop failed: ${(e as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
    // Proxy mode: a connection handed over just before the stop travels on the proxy port,
    // which is not ordered with the control port, so the worker may have drained before it
    // arrived. The master knows every connection it handed over: wait for those too.
    const t = l.proxyTarget;
    while (t && t.sockets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    await l.thread.terminate();
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Pause (true) or resume every accepting worker; threads still starting follow once they accept. */
  async pauseAll(pause: boolean): Promise<void> {
    this.paused = pause;
    await Promise.all([...this.live].filter((l) => l.state === 'accepting').map((l) => this.setPaused(l, pause)));
  }

  private async setPaused(l: Live, pause: boolean): Promise<void> {
    try {
      await (pause ? l.control.remote.pause() : l.control.remote.resume());
    } catch (e) {
      if (this.live.has(l) && l.state !== 'retiring') log.line(`[${(e as UwsgiError).code ?? 'UWSGI_ERR_CONTROL_TIMEOUT'}] worker ${l.id}: ${pause ? 'pause' : 'resume'} failed: ${(e as Error).message}`);
    }
  }

  /** Graceful reload: every worker is replaced by a new thread, each old one retiring once its successor accepts. */
  async reload(): Promise<void> {
    const old = [...this.live].filter((l) => l.state !== 'retiring');
    log.line(`...gracefully reloading ${old.length} workers...`);
    const replaced = (await Promise.all(old.map((l) => this.replace(l)))).filter(Boolean).length;
    log.line(`workers reloaded: ${replaced} of ${old.length} replaced${replaced < old.length ? ' (the others keep serving the previous code)' : ''}`);
  }

  /** Chain reload: one worker at a time, the next only after the previous successor accepts. False if a stop cut it short. */
  async chainReload(): Promise<boolean> {
    const old = [...this.live].filter((l) => l.state !== 'retiring').sort((a, b) => a.id - b.id);
    for (const l of old) {
      if (this.stopping) return false;
      await this.replace(l);
    }
    return !this.stopping;
  }

  /** Stop every worker. A brutal stop during a graceful one terminates the threads it is still waiting for. */
  async stop(graceful: boolean, mercyMs: number): Promise<void> {
    this.stopping = true;
    if (!graceful) this.brutal = true;
    if (this.harakiriTimer) clearInterval(this.harakiriTimer);
    for (const t of this.respawnTimers) clearTimeout(t);
    const all = [...this.live];
    if (graceful) await Promise.all(all.map((l) => this.stopOne(l, mercyMs)));
    else await Promise.all(all.map((l) => l.thread.terminate()));
    await Promise.all(all.map((l) => l.exited));
  }
}
