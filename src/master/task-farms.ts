/**
 * Task farms: one piscina pool per `--task-farm`, owned by the master. A task is a call
 * of an exported function of the farm's module in one of its task threads
 * (src/task/task-thread.ts), started by `runInFarm()` from any thread:
 *
 * - in the master (an embedding program): straight to `pool.run()`;
 * - in a worker or mule: a TaskRequest on the thread's task port, a MessagePort the master
 *   creates at each spawn (`connect()`); the master runs the task and answers on it.
 *
 * Admission is counted here, not by piscina's `maxQueue` (piscina keeps tasks that carry
 * an AbortSignal in a side queue its limit does not see): a farm holds at most
 * `threads + queue` tasks, running or waiting; one more is refused with
 * UWSGI_ERR_TASK_FARM_FULL, never dropped silently.
 *
 * Lifetime: every pool is a resource of the master's ResourceScope, followed by a drain
 * step, so on stop (or a failed start) in-flight tasks first get --reload-mercy to finish,
 * then the pools are destroyed in reverse order. Reloading workers or mules does not
 * touch the pools: tasks keep running, and their results still reach live callers.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { UwsgiError, echo, isUwsgiError } from '../shared/errors.js';
import { log } from '../shared/log-writer.js';
import { attachLocalTaskFarms, type LocalTaskFarms } from '../shared/task-farm-api.js';
import {
  isTaskOutcome, isTaskRequest, taskError,
  type TaskCall, type TaskErrorInfo, type TaskFarmStats, type TaskResponse, type TaskThreadData,
} from '../shared/task-farm-protocol.js';
import type { ResourceScope } from './resource-scope.js';
import type { TaskFarmSpec } from './task-farm-spec.js';

const TASK_THREAD = fileURLToPath(new URL('../task/task-thread.js', import.meta.url));

/** One thread's end of its task port, held by the master. */
export interface TaskPortLink {
  /** Goes into the thread's workerData (and its transferList). */
  readonly port: MessagePort;
  /** Close the master's end (the thread exited). Its tasks keep running; their results are dropped. */
  close(): void;
}

/** What the worker and mule pools call at each spawn; undefined when no task farm is configured. */
export interface TaskPortSource {
  connect(who: string): TaskPortLink | undefined;
}

const callText = (farm: string, fn: string): string => `runInFarm(${echo(farm)}, ${echo(fn)})`;

function causeInfo(e: UwsgiError): TaskErrorInfo | undefined {
  const c = e.cause;
  return c instanceof Error ? { name: c.name, message: c.message, stack: c.stack } : undefined;
}

class TaskFarm {
  readonly pool: Piscina;
  inFlight = 0;
  failed = 0;
  rejected = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(readonly spec: TaskFarmSpec) {
    const workerData: TaskThreadData = { farm: spec.name, file: spec.file };
    this.pool = new Piscina({
      filename: TASK_THREAD,
      name: 'runTask',
      minThreads: spec.threads,
      maxThreads: spec.threads,
      maxQueue: Infinity, // admission is counted in run()
      idleTimeout: Infinity,
      workerData,
    });
    // Without a listener an 'error' event (a task thread failing outside a task) would throw in the master.
    this.pool.on('error', (e: unknown) => {
      log.line(`[UWSGI_ERR_TASK_FAILED] task farm ${spec.name}: a task thread failed outside a task: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    });
  }

  /** Load the module in one task thread (once, at start); resolves with its exported function names. */
  async probe(): Promise<string[]> {
    const call: TaskCall = { kind: 'probe', farm: this.spec.name };
    const out: unknown = await this.pool.run(call);
    if (!isTaskOutcome(out)) throw new UwsgiError('UWSGI_ERR_TASK_FARM', `--task-farm ${echo(this.spec.value)}: the task thread answered ${echo(out)}`);
    if (!out.ok) throw new UwsgiError('UWSGI_ERR_TASK_FARM', `--task-farm ${echo(this.spec.value)}: ${out.message}`);
    return Array.isArray(out.value) ? out.value.map(String) : [];
  }

  run(fn: string, args: readonly unknown[], signal: AbortSignal | undefined): Promise<unknown> {
    const { name, threads, queue } = this.spec;
    if (this.inFlight >= threads + queue) {
      this.rejected++;
      return Promise.reject(new UwsgiError('UWSGI_ERR_TASK_FARM_FULL',
        `${callText(name, fn)}: task farm ${echo(name)} is full: ${threads} running and ${queue} waiting (--task-farm queue=${queue}); the task was not queued`));
    }
    this.inFlight++;
    const call: TaskCall = { kind: 'call', farm: name, fn, args };
    return this.pool.run(call, signal ? { signal } : undefined).then(
      (out: unknown) => {
        if (!isTaskOutcome(out)) throw new UwsgiError('UWSGI_ERR_TASK_FAILED', `${callText(name, fn)}: the task thread answered ${echo(out)}`);
        if (out.ok) return out.value;
        if (out.code === 'UWSGI_ERR_TASK_FAILED') this.failed++;
        throw taskError(out.code, out.message, out.cause);
      },
      (e: unknown) => { throw this.piscinaError(fn, e, signal); },
    ).finally(() => {
      if (--this.inFlight === 0) for (const w of this.idleWaiters.splice(0)) w();
    });
  }

  private piscinaError(fn: string, e: unknown, signal: AbortSignal | undefined): UwsgiError {
    const what = callText(this.spec.name, fn);
    if (!(e instanceof Error) || (e.message === '' && e.name === 'Error')) {
      // The DataCloneError a task thread gets when it posts a result that cannot be cloned
      // does not survive the trip: Node 20 delivers a bare object (String(e) said
      // "[object Object]"), Node 24 an Error with no name and no message.
      this.failed++;
      const arrived = e instanceof Error ? 'an Error with no message' : echo(e);
      return new UwsgiError('UWSGI_ERR_TASK_FAILED',
        `${what}: the task thread failed with an error that could not cross threads (it arrived as ${arrived}): most likely the task's result cannot be structured-cloned (functions, symbols, class instances with private state do not cross threads; return plain data)`,
        { cause: e });
    }
    const err = e;
    if (err.name === 'AbortError') {
      if (signal?.aborted && isUwsgiError(signal.reason)) return signal.reason;
      return new UwsgiError('UWSGI_ERR_TASK_ABORTED', `${what}: cancelled (${err.message})`);
    }
    if (/Terminating worker thread|queue is being terminated|pool is closed/.test(err.message)) {
      return new UwsgiError('UWSGI_ERR_STOPPED', `${what}: the task farm was stopped before the task finished`);
    }
    this.failed++;
    return new UwsgiError('UWSGI_ERR_TASK_FAILED', `${what}: the task thread failed: ${err.message}`, { cause: err });
  }

  /** Resolves when no task of this farm is in flight. */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  stats(): TaskFarmStats {
    const p = this.pool;
    return {
      name: this.spec.name, file: this.spec.file,
      threads: p.threads.length, maxThreads: this.spec.threads, maxQueue: this.spec.queue,
      inFlight: this.inFlight, queued: p.queueSize, completed: p.completed - 1, // not the startup probe
      failed: this.failed, rejected: this.rejected, utilization: p.utilization,
    };
  }
}

export class TaskFarms implements TaskPortSource, LocalTaskFarms {
  private readonly farms = new Map<string, TaskFarm>();
  private closing = false;
  private brutal = false;

  get count(): number {
    return this.farms.size;
  }

  /** Start one farm's pool and load its module once (a load error fails the start). */
  async add(spec: TaskFarmSpec): Promise<TaskFarm> {
    const farm = new TaskFarm(spec);
    let functions: string[];
    try {
      functions = await farm.probe();
    } catch (e) {
      await farm.pool.destroy();
      throw e;
    }
    this.farms.set(spec.name, farm);
    log.line(`created task farm ${this.farms.size} name: ${spec.name} threads: ${spec.threads} queue: ${spec.queue} module: ${spec.file} (functions: ${functions.join(', ') || 'none'})`);
    return farm;
  }

  async destroy(farm: TaskFarm): Promise<void> {
    this.farms.delete(farm.spec.name);
    await farm.pool.destroy();
    log.line(`task farm ${farm.spec.name} stopped (${farm.pool.completed - 1} tasks completed)`);
  }

  run(farmName: string, fn: string, args: readonly unknown[], signal?: AbortSignal): Promise<unknown> {
    if (this.closing) {
      return Promise.reject(new UwsgiError('UWSGI_ERR_STOPPED', `${callText(farmName, fn)}: the runtime is stopping`));
    }
    const farm = this.farms.get(farmName);
    if (!farm) {
      return Promise.reject(new UwsgiError('UWSGI_ERR_TASK_FARM',
        `${callText(farmName, fn)}: no task farm named ${echo(farmName)} (task farms: ${[...this.farms.keys()].join(', ') || 'none'})`));
    }
    return farm.run(fn, args, signal);
  }

  stats(): TaskFarmStats[] {
    return [...this.farms.values()].map((f) => f.stats());
  }

  connect(who: string): TaskPortLink | undefined {
    if (this.farms.size === 0) return undefined;
    const { port1, port2 } = new MessageChannel();
    const cancels = new Map<number, AbortController>();
    let open = true;
    const reply = (r: TaskResponse): void => { if (open) port1.postMessage(r); };
    const fail = (id: number, e: unknown): void => {
      const err = isUwsgiError(e) ? e : new UwsgiError('UWSGI_ERR_TASK_FAILED', `task request from ${who}: ${e instanceof Error ? e.message : String(e)}`);
      reply({ t: 'err', id, code: err.code, message: err.message, cause: causeInfo(err) });
    };
    port1.on('message', (m: unknown) => {
      if (!isTaskRequest(m)) {
        log.line(`[UWSGI_ERR_TASK_FARM] ${who}: malformed task request ignored: ${echo(m)}`);
        return;
      }
      switch (m.t) {
        case 'run': {
          const ac = m.c ? new AbortController() : undefined;
          if (ac) cancels.set(m.id, ac);
          this.run(m.farm, m.fn, m.args, ac?.signal).then(
            (value) => reply({ t: 'ok', id: m.id, value }),
            (e: unknown) => fail(m.id, e),
          ).finally(() => { if (ac) cancels.delete(m.id); });
          break;
        }
        case 'cancel':
          cancels.get(m.id)?.abort(new UwsgiError(m.reason === 'timeout' ? 'UWSGI_ERR_TASK_TIMEOUT' : 'UWSGI_ERR_TASK_ABORTED', `task request ${m.id} from ${who}: cancelled by the caller (${m.reason})`));
          break;
        case 'stats':
          reply({ t: 'ok', id: m.id, value: this.stats() });
          break;
      }
    });
    port1.unref(); // the thread keeps its end alive while it waits for answers
    return {
      port: port2,
      close() {
        open = false;
        port1.close();
      },
    };
  }

  /** Brutal stop: the drain step does not wait. */
  abandon(): void {
    this.brutal = true;
  }

  /** Refuse new tasks; wait up to `mercyMs` for the in-flight ones (not when brutal). */
  async drain(mercyMs: number): Promise<void> {
    this.closing = true;
    const busy = [...this.farms.values()].filter((f) => f.inFlight > 0);
    if (busy.length === 0 || this.brutal) return;
    const count = (): number => busy.reduce((n, f) => n + f.inFlight, 0);
    log.line(`task farms: waiting for ${count()} in-flight task(s) (${busy.map((f) => f.spec.name).join(', ')}), at most --reload-mercy ${mercyMs / 1000} s...`);
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      Promise.all(busy.map((f) => f.idle())).then(() => true),
      new Promise<boolean>((r) => { timer = setTimeout(() => r(false), mercyMs); }),
    ]);
    clearTimeout(timer);
    log.line(finished ? 'task farms: in-flight tasks finished' : `task farms: ${count()} task(s) still running after --reload-mercy: cancelled`);
  }
}

/**
 * Create every farm's pool as a resource of `scope` (destroyed in reverse order), make the
 * farms reachable from this thread's runInFarm(), then the drain step (released first:
 * new calls get UWSGI_ERR_STOPPED, in-flight tasks finish before any pool goes).
 */
export async function openTaskFarms(scope: ResourceScope, farms: TaskFarms, specs: readonly TaskFarmSpec[], mercyMs: number): Promise<void> {
  if (specs.length === 0) return;
  for (const spec of specs) {
    await scope.acquire(`task farm ${spec.name}`, () => farms.add(spec), (f) => farms.destroy(f));
  }
  await scope.acquire('task farms: local calls', () => { attachLocalTaskFarms(farms); return farms; }, (f) => attachLocalTaskFarms(undefined, f));
  await scope.onClose('task farms: in-flight tasks', () => farms.drain(mercyMs));
}
